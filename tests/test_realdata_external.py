"""Every real file of another eval tool pushes, or is refused with a reason; a second push
of the same file stores nothing (../shared/realdata/external, read in place)."""

from __future__ import annotations

import pytest

from tests import samples
from tests.conftest import REALDATA

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder"
    ),
]
TOOLS = ("lm-eval", "promptfoo", "openai-evals", "lm-eval-samples", "helm")


def _files() -> list:
    if REALDATA is None:
        return []
    return sorted(
        path
        for tool in TOOLS
        for path in (REALDATA / "external" / tool).iterdir()
        if path.is_file() and path.name != "PROVENANCE.md"
    )


def test_there_are_real_files_of_every_tool():
    files = _files()
    assert {path.parent.name for path in files} == set(TOOLS)
    assert len(files) >= 30


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name[-48:]}")
def test_a_real_file_pushes_once_or_is_refused_with_a_reason(use_db, cli, path):
    first = cli("push", str(path), "--json")
    if first.code == 2:  # not a result on its own (a samples log, a HELM table …): say why
        message = first.err.strip()
        assert path.name in message and len(message) > len(str(path)) + 20, message
        assert "Traceback" not in message
        return
    assert first.code == 0, first
    assert samples.created(first.out) >= 1
    again = cli("push", str(path), "--json")
    assert again.code == 0, again
    assert samples.created(again.out) == 0
