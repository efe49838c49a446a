"""Where the committed notebooks are: bundled in the wheel, or the source checkout's."""

from __future__ import annotations

from pathlib import Path

from bench_analytics.errors import UsageError

INGEST = "10-ingest-results.ipynb"
PACKAGE = Path(__file__).resolve().parent


def notebook_dirs() -> list[Path]:
    """Folders that may hold the notebooks: the wheel's copy, then the checkout's."""
    return [PACKAGE / "bundled", PACKAGE.parent.parent / "notebooks"]


def find_notebook(name: str = INGEST) -> Path:
    """The named notebook, or UsageError saying where it was looked for."""
    for folder in notebook_dirs():
        if (folder / name).is_file():
            return folder / name
    places = ", ".join(str(folder) for folder in notebook_dirs())
    raise UsageError(
        f"the notebook {name} is not installed (looked in {places})",
        hint="reinstall the package, or pass the notebook's path",
        cli_hint="reinstall the package, or pass --notebook PATH",
    )
