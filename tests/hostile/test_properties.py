"""Property tests: one field of a valid file of each format replaced by arbitrary JSON.

Through the real reading path (``read_file``) and the CLI's ``convert``: reading either
succeeds or raises BadInputError (never anything else), ``convert`` exits 0 or 2 (never a
traceback), and what reads converts to native files that read back with the same content
hashes. Deterministic (``derandomize``), 150 examples per format; and every field of every
sample once with each of the values that broke readers before (``SHARP``), without the CLI.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench_analytics.errors import BadInputError
from bench_analytics.fixtures import simulate_run, synthetic_patients
from bench_analytics.formats import read_file
from bench_analytics.model import CASE_ID_MAX, INT32_MAX, NAME_MAX
from tests import samples

Path_ = tuple[str | int, ...]
DELETE = object()  # the field is removed instead of replaced
EXAMPLES = 150


def _supabase() -> list[dict[str, Any]]:
    with_cases = samples.export_row(
        "c",
        "2026-02-04T21:48:16+00:00",
        "OpenAI GPT-4",
        dataset_size=2,
        metrics={
            "f1": 0.5,
            "recall": 0.5,
            "precision": 0.5,
            "domain_recall": 0.4,
            "domain_knowledge_detection_rate": 40.0,
            "latency_ms": 1000,
            "patient_results": [
                {
                    "patient_id": "P001",
                    "latency_ms": 900.0,
                    "true_positives": 1,
                    "false_positives": 1,
                    "false_negatives": 0,
                    "domain_knowledge_score": 100.0,
                },
                {
                    "patient_id": "P002",
                    "true_positives": 0,
                    "false_positives": 0,
                    "false_negatives": 1,
                    "error_message": None,
                },
            ],
        },
    )
    return [samples.export_row("a", "2026-02-05T04:26:30+00:00", "baseline-v1.0"), with_cases]


SAMPLES: dict[str, Any] = {
    "native": json.loads(simulate_run("openai", synthetic_patients(2, seed=4)).to_json()),
    "seed-documents": samples.document_results(n=2),
    "seed-patients": samples.patient_results(n=2),
    "seed-monitoring": samples.monitoring_result(),
    "supabase-export": _supabase(),
}


def field_paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to a value inside ``value`` (its own path excluded)."""
    if not isinstance(value, dict | list):
        return
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        yield (*prefix, key)
        yield from field_paths(child, (*prefix, key))


PATHS = {name: sorted(field_paths(doc), key=repr) for name, doc in SAMPLES.items()}


def replaced(doc: Any, path: Path_, value: Any) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced (or removed)."""
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


EDGES = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "x" * (NAME_MAX + 1),
        "c" * (CASE_ID_MAX + 1),
        "NaN",
        "2026-02-30T25:61:00",
        "ok",
        "error",
        -1,
        0,
        1,
        INT32_MAX,
        INT32_MAX + 1,
        2**63,
        2**64 + 1,
        -(2**63) - 1,
        10**400,
        -(10**30),
        0.5,
        100.0,
        1e308,
        -0.0,
        float("nan"),
        float("inf"),
        float("-inf"),
        True,
        False,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    EDGES,
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
VALUES = st.one_of(EDGES, SCALARS, JSON, st.just(DELETE))
# values that broke a reader once: empty ids, NUL, numbers beyond a double or a C long,
# lengths beyond the store's limits, NaN
SHARP = ["", "\x00", 10**400, 2**63, -1, "x" * (CASE_ID_MAX + 1), float("nan"), None, DELETE]


def _hashes(paths: list[Path]) -> list[str]:
    return sorted(run.content_sha256() for path in paths for run in read_file(path))


@pytest.fixture
def check(cli, tmp_path):
    """check(doc, ensure_ascii): the properties for one document."""
    counter = itertools.count()

    def run(doc: Any, ensure_ascii: bool) -> str:
        n = next(counter)
        path = tmp_path / f"doc-{n}.json"
        path.write_text(json.dumps(doc, allow_nan=True, ensure_ascii=ensure_ascii), "utf-8")
        try:
            runs = read_file(path)
        except BadInputError:
            runs = None
        out = tmp_path / f"out-{n}"
        result = cli("convert", path, "-o", out)
        assert result.code in (0, 2), result
        assert "Traceback" not in result.err and "unexpected" not in result.err, result
        if runs is None:
            assert result.code == 2, result
            return "refused"
        assert result.code == 0, result
        written = sorted(out.glob("*.json"))
        assert written, result
        assert _hashes(written) == sorted({run.content_sha256() for run in runs})
        return "read"

    return run


def _property(name: str):
    paths = PATHS[name]
    assert paths, name

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from(paths), value=VALUES, ensure_ascii=st.booleans())
    def test(check, path: Path_, value: Any, ensure_ascii: bool) -> None:
        check(replaced(SAMPLES[name], path, value), ensure_ascii)

    return test


test_native = _property("native")
test_seed_documents = _property("seed-documents")
test_seed_patients = _property("seed-patients")
test_seed_monitoring = _property("seed-monitoring")
test_supabase_export = _property("supabase-export")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_reads_and_round_trips(check, name):
    """The starting points are valid, so a refusal above comes from the replaced field."""
    assert check(SAMPLES[name], False) == "read"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_field_with_each_sharp_value(tmp_path, name):
    """Exhaustive over fields: read or refused, and what reads round-trips."""
    path = tmp_path / "doc.json"
    back = tmp_path / "back.json"
    outcomes = {"read": 0, "refused": 0}
    for field in PATHS[name]:
        for value in SHARP:
            path.write_text(json.dumps(replaced(SAMPLES[name], field, value), allow_nan=True))
            try:
                runs = read_file(path)
            except BadInputError:
                outcomes["refused"] += 1
                continue
            outcomes["read"] += 1
            for run in runs:
                back.write_bytes(run.to_json())
                assert [again.content_sha256() for again in read_file(back)] == [
                    run.content_sha256()
                ], (field, value)
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes
