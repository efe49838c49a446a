"""Run the ingest notebook with papermill in-process; keep the executed notebook, an HTML
rendering and the verdict under a reports folder; turn the notebook's failure into the exit
code of the error it raised (1 regression, 2 bad input, 3 store unreachable, 4 other)."""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from bench_analytics.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_STORE_UNREACHABLE,
    BenchError,
    UsageError,
)
from bench_analytics.notebooks.locate import find_notebook
from bench_analytics.tables import Record

if TYPE_CHECKING:
    from jupyter_client.manager import KernelManager

KERNEL = "python3"  # the kernel of the Python running this: the project's environment


@dataclass(frozen=True)
class IngestParameters:
    """The ingest notebook's papermill parameters (empty strings: detect from files/CI)."""

    input_glob: str
    environment: str = ""
    commit_sha: str = ""
    branch: str = ""
    run_id: str = ""
    baseline: str = "current"
    persist: bool = True
    fail_on_regression: bool = False
    database_url_env: str = "BENCH_DATABASE_URL"


@dataclass
class NotebookOutcome(Record):
    """How the notebook ended and where its reports are."""

    exit_code: int
    notebook: Path
    html: Path | None
    verdict: Path | None
    headline: str | None = None
    warning: str | None = None
    error: str | None = None  # what a cell raised (our errors: their message alone)
    seconds: float = 0.0


def run_ingest(
    parameters: IngestParameters,
    reports_dir: Path,
    *,
    notebook: Path | None = None,
    html: bool = True,
) -> NotebookOutcome:
    """Execute the ingest notebook into ``reports_dir``: ``ingest-<run>.ipynb`` and
    ``.html``, ``verdict.md`` and ``ingest.json``. Never raises for what a cell raised:
    the outcome carries its exit code and message."""
    _skip_iri_grammar()
    source = notebook or find_notebook()
    if not source.is_file():
        raise UsageError(f"{source}: no such notebook")
    reports_dir = _reports_folder(reports_dir)
    output = reports_dir / f"ingest-{_stem(parameters.run_id)}.ipynb"
    verdict, summary = reports_dir / "verdict.md", reports_dir / "ingest.json"
    for stale in (verdict, summary):  # a failed run must not leave the last run's verdict
        stale.unlink(missing_ok=True)
    values = {**asdict(parameters), "report_dir": str(reports_dir)}
    started = time.perf_counter()
    renderer = HtmlRenderer() if html else None  # loads while the kernel works
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as sockets:
        kernel = _local_kernel(Path(sockets))
        kernel.start_kernel(cwd=os.getcwd())  # boots while papermill loads
        try:
            code, error = _execute(source, output, values, kernel)
        finally:  # a kernel we made is ours to stop (papermill stops only its own)
            stopping = threading.Thread(target=_stop, args=(kernel,), daemon=True)
            stopping.start()
        outcome = NotebookOutcome(code, output, None, None, error=error)
        if renderer and output.is_file():  # while the kernel shuts down
            outcome.html = renderer.render(output)
        stopping.join(timeout=30)
    outcome.seconds = time.perf_counter() - started
    if summary.is_file():
        found = orjson.loads(summary.read_bytes())
        outcome.headline, outcome.warning = found.get("headline"), found.get("warning")
    if not verdict.is_file():
        text = failure_markdown(error or "the notebook wrote no verdict", output, code)
        verdict.write_text(text, encoding="utf-8")
    outcome.verdict = verdict
    return outcome


def _execute(
    source: Path, output: Path, values: dict[str, Any], kernel: KernelManager
) -> tuple[int, str | None]:
    """(exit code, error) of one papermill run on ``kernel``."""
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(source),
            str(output),
            parameters=values,
            kernel_name=KERNEL,
            cwd=os.getcwd(),
            progress_bar=False,
            request_save_on_cell_execute=False,
            km=kernel,
        )
    except PapermillExecutionError as failure:
        code = exit_code_for(failure.ename)
        known = code != EXIT_FAILURE or failure.ename == "OperationFailedError"
        return code, failure.evalue if known else f"{failure.ename}: {failure.evalue}"
    except NoSuchKernel:
        raise UsageError(
            f"no '{KERNEL}' Jupyter kernel in this environment",
            hint="install the notebooks extra: pip install 'bench-analytics[notebooks]'",
        ) from None
    return EXIT_OK, None


def _stop(kernel: KernelManager) -> None:
    if kernel.has_kernel:
        kernel.shutdown_kernel(now=False)


def _skip_iri_grammar() -> None:
    """jsonschema builds an IRI grammar on import when ``rfc3987_syntax`` is installed
    (JupyterLab brings it): 1.2 s for a format no notebook uses. Marking the module
    absent makes jsonschema skip that optional check (it imports it in ``suppress``)."""
    import sys

    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _local_kernel(sockets: Path) -> KernelManager:
    """A kernel reached over unix sockets in a private folder: no TCP port opened, nothing
    sent in plain text over the network."""
    from jupyter_client.manager import KernelManager

    return KernelManager(kernel_name=KERNEL, transport="ipc", ip=str(sockets / "kernel"))


def exit_code_for(name: str) -> int:
    """The exit code of an exception raised in the notebook, by its class name."""
    import bench_analytics.api  # noqa: F401  (its errors join BenchError's subclasses)

    if name == "OperationalError":  # psycopg: the connection to the store failed
        return EXIT_STORE_UNREACHABLE
    codes = {cls.__name__: cls.exit_code for cls in _subclasses(BenchError)}
    return codes.get(name, EXIT_FAILURE)


class HtmlRenderer:
    """nbconvert's HTML exporter, imported and its templates compiled in a thread while
    the kernel runs the notebook (the command only waits on the kernel meanwhile)."""

    def __init__(self) -> None:
        self._exporter: Any = None
        self._loading = threading.Thread(target=self._load, daemon=True)
        self._loading.start()

    def _load(self) -> None:
        import nbformat
        from nbconvert import HTMLExporter

        exporter = HTMLExporter()
        exporter.from_notebook_node(nbformat.v4.new_notebook())  # compiles the templates
        self._exporter = exporter

    def render(self, executed: Path) -> Path:
        """The executed notebook as one HTML file next to it (outputs, charts included)."""
        self._loading.join()
        if self._exporter is None:  # the warm-up failed: do it here, raising what it raises
            self._load()
        body, _ = self._exporter.from_filename(str(executed))
        target = executed.with_suffix(".html")
        target.write_text(body, encoding="utf-8")
        return target


def failure_markdown(error: str, notebook: Path, code: int = EXIT_FAILURE) -> str:
    """The verdict when the notebook stopped before writing one."""
    stored = "Nothing was stored. " if code == EXIT_BAD_INPUT else ""
    return (
        "## ❌ Benchmark ingest failed\n\n"
        f"```\n{error.strip()}\n```\n\n"
        f"{stored}The executed notebook (`{notebook.name}`, and its HTML rendering) shows "
        "the cell that failed.\n"
    )


def _subclasses(cls: type[BenchError]) -> list[type[BenchError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return found


def _reports_folder(path: Path) -> Path:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: is a file, not a folder for reports")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _stem(run_id: str) -> str:
    """The run id made safe for a file name, else the UTC time."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", run_id).strip("-.")
    return safe[:80] or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
