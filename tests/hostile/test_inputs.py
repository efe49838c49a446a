"""Hostile result files: each is refused with exit 2 and one message, and nothing is written.

Deep nesting, huge numbers, NUL characters, values beyond the store's columns and index
rows, declared totals without cases, torn reads, duplicate keys, symbolic link loops, and
values that local SQL used to show although push refuses them.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
import pytest

from bench_analytics import local
from bench_analytics.errors import BadInputError
from bench_analytics.fixtures import simulate_run, synthetic_patients
from bench_analytics.formats import read_file, read_source
from bench_analytics.formats.source import MAX_DEPTH, load_source
from bench_analytics.local.guard import SqlError
from bench_analytics.model import CASE_ID_MAX, INT32_MAX, NAME_MAX
from tests import samples

PATIENTS = synthetic_patients(6, seed=3)
BASE: dict[str, Any] = json.loads(simulate_run("openai", PATIENTS).to_json())


def native(**changes: Any) -> dict[str, Any]:
    """A valid native document (six cases) with top-level fields replaced."""
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return doc


def write_native(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()
    assert row is not None
    return int(row[0])


def refused(path: Path) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        read_file(path)
    return caught.value


# --- 1. nesting and number size ----------------------------------------------------------

DEEP_ARRAYS = "[" * 100_000 + "]" * 100_000
DEEP_OBJECTS = '{"a":' * 2_000 + "1" + "}" * 2_000
HUGE_INT = '{"schema": "bench-analytics/result", "x": ' + "9" * 5_000 + "}"


HOSTILE = {"arrays": DEEP_ARRAYS, "objects": DEEP_OBJECTS, "int": HUGE_INT}
COMMANDS = ("push", "convert", "check", "sql")
# the huge integer sits in a native file's unknown field: local SQL does not read it (below)
CALLS = [
    (kind, command) for kind in HOSTILE for command in COMMANDS if (kind, command) != ("int", "sql")
]


@pytest.mark.parametrize(("kind", "command"), CALLS)
def test_deep_nesting_and_huge_numbers_exit_2_everywhere(cli, use_db, tmp_path, kind, command):
    path = tmp_path / "hostile.json"
    path.write_text(HOSTILE[kind])
    args = {
        "push": ("push", path),
        "convert": ("convert", path, "-o", tmp_path / "out"),
        "check": ("check", path),
        "sql": ("sql", "--path", path, "select count(*) from runs"),
    }[command]
    result = cli(*args)
    assert result.code == 2, result
    fragment = "number too large" if kind == "int" else f"nesting deeper than {MAX_DEPTH} levels"
    assert fragment in result.err and "hostile.json" in result.err
    assert "Traceback" not in result.err
    assert stored(use_db) == 0
    assert not (tmp_path / "out").exists()


def test_the_depth_limit_is_exact(tmp_path):
    ok = tmp_path / "ok.json"
    ok.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert load_source(ok).data is not None
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))
    error = refused(deep)
    assert error.where == f"line 1, column {6 * MAX_DEPTH + 1}"


def test_a_huge_number_names_its_field_and_line(tmp_path):
    doc = native()
    text = json.dumps(doc, indent=2).replace('"tp": 1', '"tp": ' + "7" * 400, 1)
    path = tmp_path / "r.json"
    path.write_text(text)
    error = refused(path)
    assert "number too large" in error.problem and "400 characters" in error.problem
    assert error.where is not None and error.where.startswith("field cases[")
    assert ".tp (line " in error.where


def test_a_huge_metric_in_a_native_file_stops_local_sql(cli, tmp_path):
    doc = native()
    text = json.dumps(doc).replace('"metrics": {', '"metrics": {"zz": ' + "9" * 5_000 + ", ")
    (tmp_path / "r.json").write_text(text)
    result = cli("sql", "--path", tmp_path / "r.json", "select name, value from metrics")
    assert result.code == 2, result
    assert "metrics.zz: must be a finite number" in result.err


# --- 2. what the database would refuse ---------------------------------------------------


def _with_nul(doc: dict[str, Any], where: str) -> None:
    case = doc["cases"][2]
    if where == "case_id":
        case["case_id"] = "P\u0000X"
    elif where == "error":
        case["status"], case["error"] = "error", "HTTP 503\u0000"
    elif where == "model key":
        doc["model"]["key"] = "open\u0000ai"
    elif where == "details value":
        case["details"]["note"] = {"deep": ["x\u0000"]}
    elif where == "details key":
        case["details"]["k\u0000"] = 1
    elif where == "extra":
        doc["extra"] = {"a": ["b", "c\u0000"]}
    elif where == "provenance":
        doc["provenance"]["notes"] = "n\u0000"


NUL_PLACES = [
    "case_id",
    "error",
    "model key",
    "details value",
    "details key",
    "extra",
    "provenance",
]


@pytest.mark.parametrize("where", NUL_PLACES)
def test_a_nul_character_is_refused_before_the_store(cli, use_db, tmp_path, where):
    doc = native()
    _with_nul(doc, where)
    path = write_native(tmp_path / "nul.json", doc)
    result = cli("push", path)
    assert result.code == 2, result
    assert "NUL character" in result.err and "nul.json" in result.err
    assert stored(use_db) == 0
    error = refused(path)
    assert error.where is not None and "(line " in error.where


def test_an_escaped_backslash_before_u0000_is_text_not_nul(tmp_path):
    doc = native()
    doc["cases"][0]["details"]["note"] = "C:\\u0000 is a path"
    path = write_native(tmp_path / "ok.json", doc)
    (run,) = read_file(path)
    assert run.cases[0].details["note"] == "C:\\u0000 is a path"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tp", INT32_MAX + 1),
        ("fp", INT32_MAX + 1),
        ("fn", 2**40),
        ("input_tokens", INT32_MAX + 1),
        ("output_tokens", 2**63),
    ],
)
def test_integers_beyond_the_integer_columns_are_refused(cli, use_db, tmp_path, field, value):
    doc = native()
    doc["cases"][1][field] = value
    path = write_native(tmp_path / "big.json", doc)
    result = cli("push", path)
    assert result.code == 2, result
    assert f"cases[1].{field}" in result.err and "2147483647" in result.err
    assert stored(use_db) == 0


def test_declared_counts_beyond_the_integer_range_are_refused(tmp_path):
    doc = native()
    doc["dataset"]["declared_cases"] = INT32_MAX + 1
    error = refused(write_native(tmp_path / "big.json", doc))
    assert error.where == "field dataset.declared_cases"


TOO_LONG = {
    "case_id": lambda doc: doc["cases"][0].update(case_id="c" * (CASE_ID_MAX + 1)),
    "model.key": lambda doc: doc["model"].update(key="m" * (NAME_MAX + 1)),
    "dataset.version": lambda doc: doc["dataset"].update(version="d" * (NAME_MAX + 1)),
    "prompt_version": lambda doc: doc.update(prompt_version="p" * (NAME_MAX + 1)),
    "environment": lambda doc: doc.update(environment="e" * (NAME_MAX + 1)),
    "metrics": lambda doc: doc["metrics"].update({"x" * (NAME_MAX + 1): 1.0}),
}


@pytest.mark.parametrize("field", sorted(TOO_LONG))
def test_keys_that_go_into_indexes_have_a_length_limit(cli, use_db, tmp_path, field):
    doc = native()
    TOO_LONG[field](doc)
    path = write_native(tmp_path / "long.json", doc)
    result = cli("push", path)
    assert result.code == 2, result
    assert "at most" in result.err and field.split(".")[0] in result.err
    assert stored(use_db) == 0


def test_a_ten_megabyte_case_id_exits_2_not_3(cli, use_db, tmp_path):
    doc = native()
    doc["cases"][0]["case_id"] = "x" * 10_000_000
    result = cli("push", write_native(tmp_path / "huge.json", doc))
    assert result.code == 2, result
    assert stored(use_db) == 0


def test_the_longest_identity_allowed_fits_the_stores_indexes(cli, use_db, tmp_path):
    """Four-byte characters at every limit: the index rows still fit."""
    wide = "\U0001f600"
    doc = native(
        prompt_version=wide * NAME_MAX,
        environment=wide * NAME_MAX,
        metrics={**BASE["metrics"], wide * NAME_MAX: 1.0},
    )
    doc["model"]["key"] = "k" * NAME_MAX
    doc["dataset"]["version"] = wide * NAME_MAX
    doc["cases"][0]["case_id"] = wide * CASE_ID_MAX
    result = cli("push", write_native(tmp_path / "wide.json", doc))
    assert result.code == 0, result
    assert stored(use_db) == 1


# --- 3. declared totals ------------------------------------------------------------------


def test_a_native_run_without_cases_but_a_declared_total_is_refused(cli, use_db, tmp_path):
    doc = native(cases=[])
    doc["dataset"]["declared_cases"] = 30
    path = write_native(tmp_path / "empty.json", doc)
    result = cli("push", path)
    assert result.code == 2, result
    assert "holds no results but declares 30 cases" in result.err
    assert stored(use_db) == 0


def test_a_native_run_without_source_format_is_native(tmp_path):
    doc = native(cases=[])
    doc["dataset"]["declared_cases"] = 30
    doc["provenance"].pop("source_format", None)
    assert "declares 30" in refused(write_native(tmp_path / "r.json", doc)).problem


def test_aggregate_only_results_keep_their_declared_total(cli, tmp_path):
    source = samples.write(tmp_path / "monitoring.json", samples.monitoring_result())
    done = cli("convert", source, "-o", tmp_path / "converted.json")
    assert done.code == 0, done
    (run,) = read_file(tmp_path / "converted.json")
    assert not run.cases and run.dataset.declared_cases == 40
    assert run.provenance.source_format == "seed-monitoring"


def test_a_legacy_file_with_an_empty_results_list_is_refused(tmp_path):
    doc = samples.document_results(n=0, total_documents=12)
    error = refused(samples.write(tmp_path / "aggregated_metrics_openai.json", doc))
    assert "holds no results but declares 12 cases" in error.problem


# --- 4. torn reads -----------------------------------------------------------------------


def _rewriting(path: Path, new: bytes, keep_mtime: bool = False):
    """A reader that reads the file, then has it rewritten (as a writer would meanwhile)."""

    def read(handle: BinaryIO) -> bytes:
        data = handle.read()
        before = path.stat()
        with path.open("r+b") as other:  # in place: the same file, as an editor saving it
            other.write(new)
            other.truncate()
        if keep_mtime:
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        return data

    return read


def test_a_file_rewritten_while_read_is_refused(tmp_path):
    path = write_native(tmp_path / "r.json", native())
    longer = json.dumps(native(prompt_version="a-much-longer-prompt-version")).encode()
    with pytest.raises(BadInputError, match="changed while it was being read") as caught:
        load_source(path, reader=_rewriting(path, longer))
    assert "try again" in (caught.value.hint or "")


def test_a_same_size_rewrite_is_caught_by_its_modification_time(tmp_path):
    path = write_native(tmp_path / "r.json", native())
    same_size = path.read_bytes().replace(b"v2-structured", b"v9-structured")
    with pytest.raises(BadInputError, match="changed while it was being read"):
        load_source(path, reader=_rewriting(path, same_size))


def test_what_is_parsed_and_hashed_is_what_was_read(tmp_path):
    """A rewrite the stat cannot see (same size, mtime put back) does not reach the result:
    the bytes read are parsed, and nothing opens the file again."""
    original = native()
    path = write_native(tmp_path / "r.json", original)
    before = path.read_bytes()
    after = before.replace(b"v2-structured", b"v9-structured")
    source = load_source(path, reader=_rewriting(path, after, keep_mtime=True))
    assert path.read_bytes() == after
    assert source.raw == before
    (run,) = read_source(source)
    assert run.prompt_version == "v2-structured"
    (expected,) = read_source(load_source(write_native(tmp_path / "o.json", original)))
    assert run.content_sha256() == expected.content_sha256()


# --- 5. duplicate keys -------------------------------------------------------------------


def test_a_duplicate_key_is_refused_with_its_name_and_place(cli, use_db, tmp_path):
    text = json.dumps(native(), indent=2)
    text = text.replace(
        '"prompt_version": "v2-structured"', '"prompt_version": "a", "prompt_version": "b"'
    )
    path = tmp_path / "dup.json"
    path.write_text(text)
    result = cli("push", path)
    assert result.code == 2, result
    assert "key 'prompt_version' appears twice" in result.err
    assert stored(use_db) == 0


def test_a_nested_duplicate_key_names_its_object(tmp_path):
    text = json.dumps(native())
    text = text.replace('"details": {', '"details": {"x": 1, "x": 1, ', 1)
    path = tmp_path / "dup.json"
    path.write_text(text)
    error = refused(path)
    assert error.where == "field cases[0].details"
    assert "key 'x' appears twice" in error.problem


def test_an_escaped_colon_cannot_hide_a_duplicate(tmp_path):
    """``\\u003a`` is a colon the raw text does not show: the kept value below holds one as
    the dropped pair loses one, so colon counts that ignored escapes would be equal."""
    doc = native()
    doc["cases"][0]["details"] = {"a": "x\u003ay"}
    text = json.dumps(doc, indent=2).replace("x:y", "x\\u003ay")
    ok = tmp_path / "ok.json"
    ok.write_text(text)
    (run,) = read_file(ok)
    assert run.cases[0].details == {"a": "x:y"}
    dup = tmp_path / "dup.json"
    dup.write_text(text.replace('"a": "x\\u003ay"', '"a": 1, "a": "x\\u003ay"'))
    assert "key 'a' appears twice" in refused(dup).problem


# --- 6. symbolic link loops, and local SQL by push's rules --------------------------------


def test_a_symlink_loop_in_a_folder_is_refused_by_name(cli, use_db, tmp_path):
    folder = tmp_path / "results"
    write_native(folder / "good.json", native())
    (folder / "a.json").symlink_to(folder / "b.json")
    (folder / "b.json").symlink_to(folder / "a.json")
    result = cli("push", folder)
    assert result.code == 2, result
    assert "a.json" in result.err and "symbolic link loop" in result.err
    assert stored(use_db) == 0
    skipped = cli("push", folder, "--skip-invalid")
    assert skipped.code == 2 and stored(use_db) == 1


def test_a_broken_link_is_named_too(tmp_path):
    (tmp_path / "gone.json").symlink_to(tmp_path / "missing.json")
    error = refused(tmp_path / "gone.json")
    assert "broken symbolic link" in (error.hint or "")


@pytest.mark.parametrize(
    ("mutate", "view", "fragment"),
    [
        (lambda d: d["metrics"].update(f1=float("nan")), "runs", "metrics.f1: must be a finite"),
        (lambda d: d["metrics"].update(f1=1.7), "metrics", "metrics.f1: is a rate"),
        (lambda d: d["cases"][0].update(tp=-1), "cases", "tp: must lie in 0..2147483647"),
        (lambda d: d["cases"][1].update(case_id="P001"), "runs", "a case_id appears twice"),
        (lambda d: d["cases"][0].update(status="weird"), "cases", "status: must be ok or error"),
        (lambda d: d["cases"][1].update(latency_ms=-5), "cases", "latency_ms: must be a finite"),
        (lambda d: d["model"].update(key="Not A Key"), "metrics", "field model.key"),
        (lambda d: d.update(cases=[]), "runs", "holds no results but declares 6 cases"),
        (lambda d: d["cases"].append(d["cases"][0]), "runs", "holds 7 results but declares 6"),
    ],
    ids=["nan", "rate", "negative", "duplicate-id", "status", "latency", "key", "empty", "long"],
)
def test_local_sql_refuses_what_push_refuses(tmp_path, mutate, view, fragment):
    good = write_native(tmp_path / "results" / "good.json", native())
    doc = native()
    mutate(doc)
    bad = tmp_path / "results" / "bad.json"
    bad.write_text(json.dumps(doc, allow_nan=True))
    with pytest.raises(BadInputError):
        read_file(bad)
    with local.connect([tmp_path / "results"]) as session:
        with pytest.raises(SqlError) as caught:
            session.query(f"select * from {view}")
        assert fragment in str(caught.value) and "bad.json" in str(caught.value)
    with local.connect([good]) as session:
        assert len(session.query(f"select * from {view}")) > 0
