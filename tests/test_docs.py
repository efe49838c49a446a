"""docs/python-api.md: every example runs, in order, against a fresh store; every call is shown."""

from __future__ import annotations

import re

from bench_analytics.api import Bench
from tests.conftest import REPO

DOC = REPO / "docs" / "python-api.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_every_public_call_is_documented():
    names = [
        name
        for name in dir(Bench)
        if not name.startswith("_")
        and callable(getattr(Bench, name))
        and name
        not in {"close", "store", "read_options", "one_run", "as_run", "baseline", "local_baseline"}
    ]
    assert len(names) >= 20
    text = "\n".join(_blocks())
    missing = [name for name in names if f"bench.{name}(" not in text]
    assert missing == [], f"document these calls in {DOC.name}: {missing}"


def test_the_examples_run_in_order(use_db, capsys):
    blocks = _blocks()
    assert len(blocks) >= 15
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{DOC.name}, python block {number} failed: {error!r}") from error
    printed = capsys.readouterr().out
    assert "paired 100 True" in printed  # compare's documented output
    assert "rollback 7 2" in printed  # rollback's documented output
