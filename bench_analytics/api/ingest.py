"""Results in: read, convert, push (context, gate, hold, alerts, CI policy), run, demo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bench_analytics.api.results import (
    ConvertResult,
    PushedRun,
    PushReport,
    ReadResult,
    Refusal,
    RunReport,
)
from bench_analytics.api.session import Session, StoreNotConfiguredError
from bench_analytics.errors import BadInputError, OperationFailedError, UsageError

if TYPE_CHECKING:
    from bench_analytics.context import PushContext
    from bench_analytics.model import CaseResult, RunResult
    from bench_analytics.runner.cases import CaseSet
    from bench_analytics.stats import Estimate
    from bench_analytics.store import Store
    from bench_analytics.store.push import Estimator, Gate
    from bench_analytics.store.records import PushOutcome

# What push and read accept: files, folders, runs in memory or (source name, run) pairs.
Inputs: TypeAlias = "str | Path | RunResult | tuple[str, RunResult]"
NO_STORE_IN_CI = "BENCH_DATABASE_URL is not set in CI"
EARLIEST = datetime.min.replace(tzinfo=UTC)


class Ingest(Session):
    """Calls that bring results into the store."""

    def read(
        self,
        inputs: Inputs | Sequence[Inputs],
        *,
        format: str = "auto",
        model: str | None = None,
        dataset_version: str | None = None,
        on_file: Callable[[Path], None] | None = None,
    ) -> ReadResult:
        """Read and validate result files (any supported format; folders: every *.json).

        Refused files are listed with their error, never raised here.
        """
        from bench_analytics.formats import check_model_key, expand_inputs, read_file
        from bench_analytics.model import RunResult

        check_model_key(model)
        items = _items(inputs)
        found = ReadResult()
        paths: list[Path] = []
        for item in items:
            if isinstance(item, RunResult):
                found.runs.append((item.provenance.source_name or item.model.key, item))
            elif isinstance(item, tuple):
                found.runs.append(item)
            else:
                paths.append(Path(item))
        options = self.read_options(model, dataset_version)
        files = expand_inputs(paths) if paths else []
        found.files = len(files)
        for path in files:
            try:
                found.runs.extend((path.name, run) for run in read_file(path, format, options))
            except BadInputError as error:
                found.refused.append(Refusal(str(path), error.render()))
            if on_file:
                on_file(path)
        return found

    def convert(
        self,
        inputs: Inputs | Sequence[Inputs],
        output: Path,
        *,
        format: str = "auto",
        model: str | None = None,
        dataset_version: str | None = None,
        skip_invalid: bool = False,
    ) -> ConvertResult:
        """Write results in the project's own format: one file, or one per result in a
        folder. Refused inputs stop it (nothing written) unless ``skip_invalid``."""
        from bench_analytics.files import result_file_name, write_atomic

        found = self.read(inputs, format=format, model=model, dataset_version=dataset_version)
        if not skip_invalid:
            found.raise_if_refused()
        runs = [run for _, run in found.runs]
        if not runs:
            raise BadInputError(_describe(inputs), "no valid results to convert")
        done = ConvertResult(refused=found.refused)
        if output.suffix == ".json" and not output.is_dir():
            if len(runs) != 1:
                raise UsageError(
                    f"the inputs hold {len(runs)} results; give a directory as the output"
                )
            output.parent.mkdir(parents=True, exist_ok=True)
            done.written.append(write_atomic(output, runs[0].to_json()))
            return done
        output.mkdir(parents=True, exist_ok=True)
        names = {result_file_name(run): run for run in runs}  # equal content, one file
        done.written += [write_atomic(output / name, run.to_json()) for name, run in names.items()]
        return done

    def push(
        self,
        inputs: Inputs | Sequence[Inputs],
        *,
        format: str = "auto",
        model: str | None = None,
        dataset_version: str | None = None,
        context: PushContext | None = None,
        skip_invalid: bool = False,
        force: bool = False,
        require_store: bool = False,
        alert: bool = True,
        on_file: Callable[[Path], None] | None = None,
        on_push: Callable[[PushOutcome], None] | None = None,
    ) -> PushReport:
        """Validate, normalise and store results: one atomic transaction per result.

        Identity not in the files comes from ``context``, then CI variables and git. Each
        healthy run is compared with the current version; a significant regression of a
        gated metric holds the pointer (``force`` promotes anyway). Alerts go to
        ``BENCH_ALERT_URLS``. In CI without a store URL nothing is stored: the report says
        so (``stored`` False), or StoreNotConfiguredError with ``require_store``.
        Refused files stop the whole batch (nothing written) unless ``skip_invalid``.
        """
        found = self.read(
            inputs, format=format, model=model, dataset_version=dataset_version, on_file=on_file
        )
        if not skip_invalid:
            found.raise_if_refused()
        if not found.runs:
            raise BadInputError(_describe(inputs), "no valid results to push")
        report = PushReport(refused=found.refused)
        if not self.store_configured:
            if require_store:
                raise StoreNotConfiguredError(
                    f"{NO_STORE_IN_CI}: the results were validated but not stored"
                )
            report.stored = False
            report.warning = f"{NO_STORE_IN_CI}: results were validated but not stored"
            return report
        from bench_analytics.gate import HoldPolicy

        runs = sorted(  # in the order the runs happened, as the store pushes them
            self._identified(found.runs, context), key=lambda pair: pair[1].run_at or EARLIEST
        )
        store = self.store(write=True)
        policy = HoldPolicy(store, self.settings, force=force)
        outcomes = _push_each(store, runs, policy, on_push, self._estimator())
        for (_, run), outcome in zip(runs, outcomes, strict=True):
            comparison = outcome.gate.report if outcome.gate else None
            report.pushed.append(PushedRun(outcome, comparison, run))  # type: ignore[arg-type]
        if alert:
            report.alert_failures = self._alert_push(report)
        return report

    def _estimator(self) -> Estimator:
        """The headline intervals stored with each run: the ones ``show`` gives."""
        from bench_analytics.stats import CaseTable
        from bench_analytics.stats.intervals import headline_intervals
        from bench_analytics.stats.resample import rng_for

        resamples = self.settings.resamples

        def estimate(run: RunResult) -> list[Estimate]:
            return headline_intervals(
                CaseTable.from_cases(run.cases),
                averaging=run.averaging or "micro",
                resamples=resamples,
                rng=rng_for(run.content_sha256()),
            )

        return estimate

    def _alert_push(self, report: PushReport) -> list[str]:
        """One alert per regression verdict or failed run of this push."""
        if not self.settings.alert_urls:
            return []
        from bench_analytics.alerts import default_link, failure_alert, regression_alerts, send

        link = default_link(self.settings.link)
        alerts = []
        for item in report.pushed:
            o = item.outcome
            if not o.created:
                continue
            if o.status == "failed":
                alerts.append(failure_alert(item.subject, o.status_reason, o.commit_sha, link))
            if item.comparison is not None:
                alerts += regression_alerts(item.subject, item.comparison, o.commit_sha, link)
        return send(alerts, self.settings.alert_urls)

    def run(
        self,
        model: str,
        cases: Path,
        *,
        prompt: Path | None = None,
        prompt_version: str | None = None,
        model_key: str | None = None,
        concurrency: int = 8,
        timeout: float | None = None,
        temperature: float = 0.0,
        output: Path = Path("benchmarks/results"),
        emit_legacy: bool = False,
        environment: str | None = None,
        push: bool = False,
        on_start: Callable[[int], None] | None = None,
        on_case: Callable[[CaseResult], None] | None = None,
    ) -> RunReport:
        """Run a model over a case set, write one result file (raw answers kept), and
        optionally push it. A run whose endpoint failed ends as ``failed``, never as 0 %
        recall. Interrupted before the result exists (``RunInterrupted``, a
        KeyboardInterrupt, also on SIGINT), it writes nothing."""
        from bench_analytics.context import PushContext, apply_context, detect_context
        from bench_analytics.files import result_file_name, write_atomic
        from bench_analytics.formats import check_model_key
        from bench_analytics.health import assess
        from bench_analytics.runner import (
            make_provider,
            read_case_set,
            run_benchmark,
            stop_on_sigint,
        )

        with stop_on_sigint():  # Ctrl-C until the result exists: RunInterrupted, no file
            check_model_key(model_key)
            case_set = read_case_set(cases)
            provider = make_provider(
                model,
                settings=self.settings,
                prompt_path=prompt,
                prompt_version=prompt_version,
                model_key=model_key,
                concurrency=concurrency,
                temperature=temperature,
                timeout=timeout,
            )
            if on_start:
                on_start(len(case_set.cases))
            result = run_benchmark(provider, case_set, concurrency=concurrency, on_case=on_case)
            result = apply_context(result, PushContext(environment=environment), detect_context())
        output.mkdir(parents=True, exist_ok=True)
        files = [write_atomic(output / result_file_name(result), result.to_json())]
        if emit_legacy:
            import orjson

            from bench_analytics.runner.legacy import legacy_patient_benchmark

            legacy = orjson.dumps(
                legacy_patient_benchmark(result, case_set), option=orjson.OPT_INDENT_2
            )
            files.append(
                write_atomic(output / f"patient_benchmark_{result.model.key}.json", legacy)
            )
        report = RunReport(result, files, assess(result, self.settings.failure_threshold))
        if push:
            report.push = self.push((files[0].name, result))
        return report

    def generate_cases(
        self, output: Path, *, patients: int = 100, seed: int = 7, name: str | None = None
    ) -> CaseSet:
        """Write a seeded synthetic case set (patients, bills with CPT codes, expected
        issues); the same seed and size give the same cases and dataset version."""
        from bench_analytics.runner.cases import write_case_set
        from bench_analytics.runner.generate import generate_case_set

        case_set = generate_case_set(patients, seed, name)
        write_case_set(case_set, output)
        return case_set

    def case_set(self, path: Path) -> CaseSet:
        """Read a case folder (ours, or the old system's patient profiles)."""
        from bench_analytics.runner import read_case_set

        return read_case_set(path)

    def demo(
        self,
        *,
        seed: int = 7,
        commits: int = 10,
        patients: int = 100,
        write: Path | None = None,
        on_push: Callable[[PushOutcome], None] | None = None,
    ) -> PushReport:
        """Push the sample history (4 models, 3 prompts, an outage, a regression); again,
        it adds nothing. ``write`` also writes the results as files there."""
        from bench_analytics.fixtures import sample_history, write_results

        runs = sample_history(seed=seed, commits=commits, patients=patients)
        if write is not None:
            write_results(runs, write)
        named = [(f"demo:{r.model.key}@{(r.provenance.commit_sha or '')[:8]}", r) for r in runs]
        return self.push(named, alert=False, on_push=on_push)


def _push_each(
    store: Store,
    runs: list[tuple[str, RunResult]],
    gate: Gate,
    on_push: Callable[[PushOutcome], None] | None,
    estimator: Estimator | None = None,
) -> list[PushOutcome]:
    """Push in order; when the store refuses one result, say which, and what was stored
    before it (each result is its own transaction: those stay, the rest are not tried)."""
    import psycopg

    done: list[PushOutcome] = []
    for source, run in runs:
        try:
            [outcome] = store.push([(source, run)], gate=gate, estimator=estimator)
        except psycopg.Error as error:
            if isinstance(error, psycopg.OperationalError):
                raise  # the store is gone: exit 3 with the connection's reason
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            stored = ", ".join(f"{o.source} (tx {o.transaction_id})" for o in done) or "none"
            raise OperationFailedError(
                f"the store refused {source}: {first}",
                hint=f"stored before it: {stored}; not tried: {len(runs) - len(done) - 1}",
            ) from None
        done.append(outcome)
        if on_push:
            on_push(outcome)
    return done


def _is_pair(value: object) -> bool:
    from bench_analytics.model import RunResult

    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], RunResult)


def _items(inputs: Inputs | Sequence[Inputs]) -> list[Inputs]:
    """One input, or a sequence of them ((source, run) pairs count as one)."""
    from bench_analytics.model import RunResult

    if isinstance(inputs, str | Path | RunResult) or _is_pair(inputs):
        return [inputs]  # type: ignore[list-item]
    return list(inputs)


def _describe(inputs: Inputs | Sequence[Inputs]) -> str:
    return ", ".join(str(item[0] if isinstance(item, tuple) else item) for item in _items(inputs))
