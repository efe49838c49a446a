"""Result files on disk: one naming scheme and atomic writes (no half-written file, ever)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep the CLI's start-up free of the model's imports
    from bench_analytics.model import RunResult


def result_file_name(run: RunResult) -> str:
    """'<model>__<prompt>__<dataset>__<time>__<hash8>.json': sortable, unique per content."""
    when = run.run_at.strftime("%Y%m%dT%H%M%S") if run.run_at else "undated"
    parts = (run.model.key, run.prompt_version, run.dataset.version, when, run.content_sha256()[:8])
    # at most 60 characters a part: the name stays within the 255 bytes file systems allow
    return "__".join(re.sub(r"[^A-Za-z0-9._-]+", "-", part)[:60] for part in parts) + ".json"


def write_atomic(path: Path, data: bytes) -> Path:
    """Write through a hidden temporary file and rename, so readers never see a partial file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
