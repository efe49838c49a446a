"""Content hashes never change: the fast canonical form against a copy of the original one.

``reference_sorted_keys`` and ``reference_canonical_json`` are the canonicalisation as it
was before the fast path (case details key-sorted by ``sorted_keys`` when a case was
validated; pydantic's serialiser for the whole document), copied here so that the
comparison does not depend on the code under test. Two checks together prove that a hash
is unchanged: the in-memory details equal what ``sorted_keys`` made of the input (same
keys, same order, same values), and the canonical bytes of that state equal the
reference's. Pinned digests (computed with the original code) guard the model's
serialisation itself.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pydantic_core
import pytest

from bench_analytics.fixtures import sample_history
from bench_analytics.formats import read_batch
from bench_analytics.model import CaseResult, RunResult
from tests.conftest import REALDATA

# --- the reference: the original code, copied ------------------------------------------


def reference_sorted_keys(value: Any) -> Any:
    """The same value with every dict's keys in sorted order (for canonical JSON)."""
    if isinstance(value, dict):
        return {key: reference_sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [reference_sorted_keys(item) for item in value]
    return value


def reference_canonical_json(run: RunResult) -> bytes:
    """``RunResult.canonical_json`` as it was (details were sorted at validation)."""
    ids = [case.case_id for case in run.cases]
    update: dict[str, Any] = {
        "metrics": dict(sorted(run.metrics.items())),
        "extra": reference_sorted_keys(run.extra),
    }
    if ids != sorted(ids):
        update["cases"] = sorted(run.cases, key=lambda case: case.case_id)
    content = run.model_copy(update=update)
    return content.model_dump_json(by_alias=True, exclude={"provenance"}).encode()


def reference_sha256(run: RunResult) -> str:
    return hashlib.sha256(reference_canonical_json(run)).hexdigest()


def digest(hashes: list[str]) -> str:
    """One short digest of many content hashes (for pinning)."""
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]


def as_json(value: Any) -> bytes:
    """Order-sensitive JSON of any value (pydantic's serialiser, as the model uses)."""
    return pydantic_core.to_json(value)


def assert_same_hash(run: RunResult) -> None:
    assert run.canonical_json() == reference_canonical_json(run)
    assert run.content_sha256() == reference_sha256(run)


def assert_details_sorted(run: RunResult) -> None:
    """Every case's details are stored key-sorted, as validation always left them."""
    for case in run.cases:
        assert as_json(case.details) == as_json(reference_sorted_keys(case.details))


# --- (a) the demo history ----------------------------------------------------------------


def test_every_run_of_the_demo_history_keeps_its_hash():
    """(Not pinned: the demo data may change; its hashes must agree with the reference.)"""
    runs = sample_history()
    assert len(runs) > 40
    for run in runs:
        assert_details_sorted(run)
        assert_same_hash(run)


# --- (b) hand-made details and extras: nested, unsorted, unicode, float edges ----------


class Colour(enum.Enum):
    RED = "red"
    BLUE = 2


class Level(enum.IntEnum):
    HIGH = 3


FLOATS = [
    0.0,
    -0.0,
    0.1,
    0.30000000000000004,
    1.0,
    1e-7,
    1e15,
    1e16,
    1e21,
    1e22,
    1e23,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    9007199254740993.0,
    123456789.12345679,
    -1.5e-300,
    1 / 3,
]
JSON_DETAILS: list[dict[str, Any]] = [  # what a file can hold
    {"z": 1, "a": {"y": [3, {"k": 1, "b": None}], "x": "é"}, "m": []},
    {
        "raw_response": '{"issues": [{"type": "upcoding"}]}',
        "expected": [
            {"type": "upcoding", "code": "99214", "found": True, "category": "billing"},
            {"type": "gender_mismatch", "code": None, "found": False, "domain_knowledge": True},
        ],
        "detected": [{"type": "Upcoding", "summary": "99214 billed", "code": "99214"}],
    },
    {
        "ünïcødé": "日本語",
        "emoji 😀": "🎉",
        "Zeta": 1,
        "alpha": 2,
        "\u00e9": 3,
        "e\u0301": 4,
        "\uffff": 5,
        "\U00010000": 6,
        "": 7,
        "\x00nul": 8,
        "a b": 9,
        "a": 10,
        "B": 11,
    },
    {"floats": FLOATS, "neg": [-f for f in FLOATS], "one": 2.5e-5},
    {"ints": [0, -1, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1], "bools": [True, False, None]},
    {"text": 'quote " backslash \\ newline \n tab \t ctrl \x01\x1f del \x7f \u2028\u2029 / </'},
    {"deep": {"c": {"b": {"a": {"z": [{"y": 1, "x": [{"w": {}, "v": []}]}]}}}}},
    {"empty": {}, "list": [], "nested_empty": [{}, [], [[]]]},
    {"already": 1, "sorted": {"a": 1, "b": [{"c": 2, "d": 3}]}},
]
PYTHON_DETAILS: list[dict[str, Any]] = [  # what Python code can put in a case
    {"big": 2**70, "b": {"z": 1, "a": 2}},
    {"when": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "b": 1, "a": [{"d": 1, "c": 2}]},
    {"tuple": (1, {"b": 1, "a": 2}), "a": 0},
    {"tuple_only": ("x", 2.5), "a": {"b": 1}},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "colour": Colour.RED, "b": 1},
    {"enum_int": Colour.BLUE, "level": Level.HIGH, "a": 1},
    {"nan": float("nan"), "inf": float("inf"), "minf": float("-inf"), "a": 1},
    {"decimal": Decimal("1.50"), "a": 1},
    {"nested": {2: "two", 1: "one"}, "a": 1},
    {"ordered": OrderedDict([("b", 1), ("a", 2)]), "a": 1},
    {"sub": [OrderedDict([("b", 1), ("a", 2)])], "a": {"d": 1, "c": 2}},
]
EXTRAS: list[dict[str, Any]] = [
    {},
    {"z": {"b": 1, "a": [{"d": 4, "c": 3}]}, "a": "ü", "floats": FLOATS},
    {"when": datetime(2026, 1, 2, tzinfo=UTC), "big": 2**65, "tuple": ({"b": 1, "a": 2},)},
]

# digest(content hashes of edge_runs()), computed with the original code
EDGE_RUNS_DIGEST = "6118e26799f9e3ac"


def _document(details: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """A native document whose cases carry ``details``, in a descending id order."""
    count = len(details)
    cases = [
        {
            "case_id": f"C{count - i:03d}",
            "status": "error" if i % 4 == 3 else "ok",
            "tp": i % 3,
            "fp": 0,
            "fn": 1,
            "score": 0.5 if i % 2 else None,
            "latency_ms": 1000 + i * 0.125,
            "input_tokens": 1200 + i,
            "cost_usd": 1e-6 * (i + 1),
            "error": 'HTTP 503: "down" ü' if i % 4 == 3 else None,
            "details": detail,
        }
        for i, detail in enumerate(details)
    ]
    return {
        "schema": "bench-analytics/result",
        "model": {"key": "openai", "display_name": "GPT-4o ✓"},
        "dataset": {"version": "edge-v1", "declared_cases": count},
        "prompt_version": "p1",
        "started_at": "2026-03-01T10:00:00.123456+02:00",
        "finished_at": "2026-03-01T09:00:00",
        "averaging": "micro",
        "metrics": {"recall": 0.5, "f1": 1 / 3, "custom_metric": 1e16, "latency_ms": 1000.125},
        "cases": cases,
        "extra": extra,
        "provenance": {"commit_sha": "abc", "tags": ["x"]},
    }


def edge_inputs() -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """(case details, extra) of every hand-made run."""
    return [
        (JSON_DETAILS, EXTRAS[0]),
        (JSON_DETAILS[::-1], EXTRAS[1]),
        (PYTHON_DETAILS, EXTRAS[2]),
        ([JSON_DETAILS[0], PYTHON_DETAILS[0], JSON_DETAILS[3]], EXTRAS[1]),
        ([{}], EXTRAS[0]),
    ]


def edge_runs() -> list[RunResult]:
    return [RunResult.model_validate(_document(d, e)) for d, e in edge_inputs()]


def test_hand_made_runs_keep_their_hash():
    runs = edge_runs()
    assert len(runs) == 5
    for run in runs:
        assert_same_hash(run)
    assert digest([run.content_sha256() for run in runs]) == EDGE_RUNS_DIGEST


@pytest.mark.parametrize(
    "details", JSON_DETAILS + PYTHON_DETAILS, ids=lambda d: "-".join(map(str, d))[:30]
)
def test_details_are_stored_as_sorted_keys_made_them(details):
    case = CaseResult(case_id="x", details=details)
    expected = reference_sorted_keys(details)
    assert as_json(case.details) == as_json(expected)
    assert list(case.details) == sorted(details)
    if "nan" not in details:  # nan != nan
        assert case.details == expected
    for key, value in expected.items():  # same types all the way down (tuples stay tuples)
        assert type(case.details[key]) is type(value)


def test_extra_is_stored_as_sorted_keys_made_it():
    for extra in EXTRAS:
        run = RunResult.model_validate(_document([{}], extra))
        assert as_json(run.extra) == as_json(reference_sorted_keys(extra))


def test_cases_changed_after_validation_hash_as_they_did():
    """model_copy skips validation: what the original code hashed as-is, hash as-is."""
    run = edge_runs()[0]
    first, second, *rest = run.cases
    changed = [
        first.model_copy(update={"details": {"b": 1, "a": {"d": 2, "c": 1}}}),  # unsorted
        second.model_copy(update={"latency_ms": 5, "tp": True, "score": 1}),  # unvalidated types
        *rest,
    ]
    for variant in (
        run.model_copy(update={"cases": changed}),
        run.model_copy(update={"cases": changed[::-1], "extra": {"b": {"y": 1, "x": 2}}}),
        run.model_copy(update={"metrics": {"z": 1.0, "a": 2.0}, "cases": []}),
    ):
        assert_same_hash(variant)


def test_the_hash_depends_on_content_only():
    base = RunResult.model_validate(_document(JSON_DETAILS, EXTRAS[1]))
    reordered = _document(JSON_DETAILS, EXTRAS[1])
    reordered["cases"] = reordered["cases"][::-1]
    reordered["provenance"] = {"commit_sha": "other"}
    assert RunResult.model_validate(reordered).content_sha256() == base.content_sha256()
    changed = _document(JSON_DETAILS, EXTRAS[1])
    changed["cases"][0]["details"] = {**JSON_DETAILS[0], "z": 2}
    assert RunResult.model_validate(changed).content_sha256() != base.content_sha256()


# --- (c) the real files of the old system ----------------------------------------------

# digest(content hashes of the runs of each file), computed with the original code
REALDATA_DIGESTS: dict[str, str] = {
    "03a51b94__supabase_transactions_export.json": "cfe9845e60832c0b",
    "03a51b94__supabase_transactions_raw_20260205_214956.json": "a46fa5458645cdcd",
    "03a51b94__supabase_transactions_raw_20260205_215022.json": "646691d5ee0c4b4a",
    "359f96a0__benchmarks_results_aggregated_metrics.example.json": "fbc2cfc70779a332",
    "359f96a0__benchmarks_results_aggregated_metrics_baseline.json": "920728c524aeb8dd",
    "359f96a0__benchmarks_results_aggregated_metrics_medgemma.json": "9c88204f163fd676",
    "359f96a0__benchmarks_results_aggregated_metrics_openai.json": "2d17792146c64cb6",
    "359f96a0__benchmarks_results_patient_benchmark_baseline.json": "ecc5aa134342355e",
    "359f96a0__benchmarks_results_patient_benchmark_gemini.json": "06deb0a0fc6331dc",
    "359f96a0__benchmarks_results_patient_benchmark_medgemma.json": "94c3dc536dfbd49c",
    "359f96a0__benchmarks_results_patient_benchmark_openai.json": "a2173284387996d9",
    "547a48ae__benchmarks_results_aggregated_metrics_baseline.json": "994dba8ae910f1fd",
    "547a48ae__benchmarks_results_aggregated_metrics_gemini.json": "16eb0dae10c653d1",
    "547a48ae__benchmarks_results_aggregated_metrics_openai.json": "f33c215cdd9dd1d1",
    "b4c1f2f4__benchmarks_results_aggregated_metrics_baseline.json": "c702c23f5d4eec05",
    "b4c1f2f4__benchmarks_results_aggregated_metrics_medgemma.json": "ef680153523ce761",
    "b4c1f2f4__benchmarks_results_aggregated_metrics_openai.json": "5e9d95b6e19dab98",
    "c8375d1c__benchmarks_results_aggregated_metrics_baseline.json": "3cb6b374d131ef9f",
    "c8375d1c__benchmarks_results_aggregated_metrics_medgemma.json": "7481716a9d518579",
    "c8375d1c__benchmarks_results_aggregated_metrics_openai.json": "9e25c267427603a6",
    "d5eb6cc6__benchmarks_results_aggregated_metrics_medgemma.json": "c6c602a3ef95590d",
    "d5eb6cc6__benchmarks_results_patient_benchmark_baseline.json": "206624019a5b1031",
    "d5eb6cc6__benchmarks_results_patient_benchmark_gemini.json": "7032b9af911f280e",
    "d5eb6cc6__benchmarks_results_patient_benchmark_medgemma.json": "c854652c2bd1ccfe",
    "d5eb6cc6__benchmarks_results_patient_benchmark_openai.json": "03a4504757bb6525",
    "e2f29002__benchmarks_results_aggregated_metrics_baseline.json": "ced24f1b280de29f",
    "e2f29002__benchmarks_results_aggregated_metrics_medgemma.json": "f8cfd471c856807d",
    "e2f29002__benchmarks_results_aggregated_metrics_openai.json": "1e516c6320f7c2a0",
    "e6a99267__benchmarks_results_aggregated_metrics_baseline.json": "b84b17f441cfab73",
    "e6a99267__benchmarks_results_aggregated_metrics_gemini.json": "972aaff486533c57",
    "e6a99267__benchmarks_results_aggregated_metrics_openai.json": "542600dcf1257ec0",
    "f4d6f0d1__benchmarks_sample_benchmark_results.json": "d88cf5b3e243d1c6",
    "f592f9fb__benchmarks_results_aggregated_metrics_baseline.json": "90f08288df7bad63",
    "f592f9fb__benchmarks_results_aggregated_metrics_gemini.json": "82abaeaad012c601",
    "f592f9fb__benchmarks_results_aggregated_metrics_openai.json": "5aa30ce142083f6f",
    "fd5275bc__benchmarks_results_aggregated_metrics_baseline.json": "77b73b96c00cd688",
    "fd5275bc__benchmarks_results_aggregated_metrics_gemini.json": "67a097f4beb64e42",
    "fd5275bc__benchmarks_results_aggregated_metrics_openai.json": "99ae2904481f984f",
}


@pytest.mark.realdata
@pytest.mark.skipif(REALDATA is None, reason="set BENCH_REALDATA to the shared real-data folder")
def test_every_real_seed_file_keeps_its_hash():
    assert REALDATA is not None
    batch = read_batch([REALDATA / "seed-results"])
    assert len(batch.runs) > 100
    by_file: dict[str, list[str]] = {}
    for path, run in batch.runs:
        assert_details_sorted(run)
        assert_same_hash(run)
        by_file.setdefault(path.name, []).append(run.content_sha256())
    assert REALDATA_DIGESTS, "the pinned digests are missing"
    pinned = {name: value for name, value in REALDATA_DIGESTS.items() if name in by_file}
    assert pinned == {name: digest(by_file[name]) for name in pinned}
    assert len(pinned) == len(REALDATA_DIGESTS), "a pinned real file is no longer read"
