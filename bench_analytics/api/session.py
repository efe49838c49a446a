"""The session every API call shares: settings, the store (opened on first need), the actor.

Reads open the store read-only (no migration, read-only transactions, so the
``bench_reader`` role suffices); the first write migrates and lifts that.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bench_analytics.config import Settings, get_settings, running_in_ci
from bench_analytics.errors import BadInputError, StoreUnavailableError, UsageError

if TYPE_CHECKING:
    from bench_analytics.baselines import Baseline
    from bench_analytics.context import PushContext
    from bench_analytics.formats import ReadOptions
    from bench_analytics.model import RunResult
    from bench_analytics.store import ConfigFilter, Store

# A run named by a stored reference ('tx:42', 'medgemma@3'), a result file, or in memory.
RunRef: TypeAlias = "str | Path | RunResult"


class StoreNotConfiguredError(StoreUnavailableError):
    """In CI, no BENCH_DATABASE_URL is set and the store was required."""


class Session:
    """Settings, a lazily opened store and who acts; ``Bench`` adds the calls."""

    def __init__(
        self,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        actor: str | None = None,
        reader_login: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.url = url
        self._actor = actor
        self._reader_login = reader_login
        self._store: Store | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the store connection, if one was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected_as(self) -> str | None:
        """The database user of the open connection (None before the first call)."""
        return None if self._store is None else self._store.conn.info.user

    @property
    def store_configured(self) -> bool:
        """False in CI when no store URL is set (there is no embedded store in CI runs)."""
        return self.url is not None or self.settings.database_url is not None or not running_in_ci()

    def store(self, *, write: bool = False) -> Store:
        """The store: read-only until a write needs it (then migrated and writable)."""
        from bench_analytics.store import Store

        if self._store is None:
            self._store = Store.open(
                self.url,
                settings=self.settings,
                read_only=not write,
                login=None if write else self._reader_login,
            )
        elif write and self._store.read_only:
            if self._reader_login and self._store.conn.info.user == self._reader_login:
                self._store.close()  # the reader login cannot write: connect as the user
                self._store = Store.open(self.url, settings=self.settings)
            else:
                self._store.enable_writes()
        return self._store

    @property
    def actor(self) -> str:
        """Who acts: given, else GITHUB_ACTOR, git user.name or the OS user."""
        if self._actor is None:
            from bench_analytics.context import detect_context

            self._actor = detect_context().triggered_by or "unknown"
        return self._actor

    # --- helpers shared by the calls ----------------------------------------------------

    def read_options(
        self, model: str | None = None, dataset_version: str | None = None
    ) -> ReadOptions:
        """Reader options: an explicit model key / dataset version, aliases, prices."""
        from bench_analytics.formats import ReadOptions
        from bench_analytics.naming import load_alias_file
        from bench_analytics.pricing import load_prices

        aliases = (
            load_alias_file(Path(self.settings.model_aliases))
            if self.settings.model_aliases
            else {}
        )
        return ReadOptions(
            model_key=model,
            dataset_version=dataset_version,
            aliases=aliases,
            prices=load_prices(self.settings.prices),
        )

    def _identified(
        self, runs: list[tuple[str, RunResult]], context: PushContext | None = None
    ) -> list[tuple[str, RunResult]]:
        """(source, run) pairs with the identity a push gives them: the context's, then the
        CI variables' and git's, where the file says nothing."""
        from bench_analytics.context import PushContext, apply_context, detect_context

        defaults, flags = detect_context(), context or PushContext()
        return [(source, apply_context(run, flags, defaults)) for source, run in runs]

    def _runs_in(self, path: Path, environment: str | None = None) -> list[RunResult]:
        """Every result in a file, with the push defaults for its identity."""
        from bench_analytics.context import PushContext
        from bench_analytics.formats import read_file

        found = [(path.name, run) for run in read_file(path, options=self.read_options())]
        return [run for _, run in self._identified(found, PushContext(environment=environment))]

    def _one_run(self, path: Path, environment: str | None = None) -> RunResult:
        """The single result in a file, with the push defaults for its identity."""
        found = self._runs_in(path, environment)
        if len(found) != 1:
            raise BadInputError(
                str(path), f"holds {len(found)} results; give a file with one result"
            )
        return found[0]

    def _as_run(self, ref: RunRef, environment: str | None = None) -> tuple[str, RunResult] | None:
        """(label, run) for a file or an in-memory run; None for a stored reference."""
        from bench_analytics.model import RunResult

        if isinstance(ref, RunResult):
            return ref.provenance.source_name or ref.model.key, ref
        from bench_analytics.baselines import is_stored_ref

        path = Path(ref)
        if path.is_file():
            return str(ref), self._one_run(path, environment)
        if isinstance(ref, Path) or not is_stored_ref(ref):
            raise UsageError(
                f"'{ref}' is neither a stored run (tx:ID, model@current|previous|pinned|N) "
                "nor a readable file"
            )
        return None

    def _local_baseline(self, ref: RunRef, environment: str | None = None) -> Baseline | None:
        """A file or an in-memory run as a comparison input; None for a stored reference."""
        from bench_analytics.baselines import Baseline
        from bench_analytics.comparison import RunView
        from bench_analytics.model import RunResult

        found = self._as_run(ref, environment)
        if found is None:
            return None
        label, run = found
        what = f"the run {label}" if isinstance(ref, RunResult) else f"the file {label}"
        return Baseline(RunView.from_run(run, label), None, "explicit", what)

    def _baseline(self, ref: RunRef, selector: ConfigFilter) -> Baseline:
        """A run named any way, as a comparison input with the reason it was chosen."""
        from bench_analytics.baselines import baseline_from_ref

        found = self._local_baseline(ref, selector.environment)
        return found or baseline_from_ref(self.store(), str(ref), selector)


def selector(
    model: str | None = None,
    dataset: str | None = None,
    prompt: str | None = None,
    environment: str | None = None,
) -> ConfigFilter:
    from bench_analytics.store import ConfigFilter

    return ConfigFilter(model=model, dataset=dataset, prompt=prompt, environment=environment)
