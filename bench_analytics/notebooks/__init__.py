"""The project's notebooks run by the package: papermill in-process, reports under reports/."""

from bench_analytics.notebooks.runner import IngestParameters, NotebookOutcome, run_ingest

__all__ = ["IngestParameters", "NotebookOutcome", "run_ingest"]
