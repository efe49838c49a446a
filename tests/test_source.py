"""Strict loading: every way a file can be broken gives one clear BadInputError."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_analytics.errors import BadInputError
from bench_analytics.formats.source import line_col, load_source


def _load(tmp_path: Path, text: str | bytes) -> BadInputError:
    path = tmp_path / "r.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(BadInputError) as caught:
        load_source(path)
    return caught.value


def test_empty_file(tmp_path):
    error = _load(tmp_path, "  \n")
    assert "empty" in error.problem
    assert str(tmp_path / "r.json") in str(error)


def test_merge_conflict_markers_name_the_line(tmp_path):
    text = '{\n  "a": 1,\n<<<<<<< HEAD\n  "b": 2\n=======\n  "b": 3\n>>>>>>> 12f8c7a (x)\n}\n'
    error = _load(tmp_path, text)
    assert "merge-conflict" in error.problem
    assert error.where == "line 3"
    assert "<<<<<<< HEAD" in error.problem


def test_conflict_marker_later_in_file(tmp_path):
    text = '{\n  "a": 1\n}\n>>>>>>> branch\n'
    assert _load(tmp_path, text).where == "line 4"


def test_invalid_json_gives_line_and_column(tmp_path):
    error = _load(tmp_path, '{\n  "a": 1,\n  "b" 2\n}')
    assert error.where == "line 3, column 7"
    assert "invalid JSON" in error.problem


def test_text_table_saved_as_json(tmp_path):
    error = _load(tmp_path, "ID    Model Version    Environment\n----  -------------\n")
    assert error.where == "line 1, column 1"
    assert "looks like text" in error.hint


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_with_path_and_line(tmp_path, token):
    text = '{\n  "metrics": {\n    "f1": ' + token + "\n  }\n}"
    error = _load(tmp_path, text)
    assert token.lstrip("-") in error.problem
    assert error.where == "field metrics.f1 (line 3, column 11)"


def test_nan_inside_a_string_is_fine(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text('{"note": "NaN and Infinity are words here", "x": 1}')
    assert load_source(path).data["x"] == 1


def test_non_finite_in_list_path(tmp_path):
    error = _load(tmp_path, '{"rows": [1, 2, NaN]}')
    assert error.where.startswith("field rows[2]")


def test_not_utf8(tmp_path):
    error = _load(tmp_path, b'{"a": "\xff\xfe"}')
    assert "UTF-8" in error.problem


def test_missing_file(tmp_path):
    with pytest.raises(BadInputError) as caught:
        load_source(tmp_path / "nope.json")
    assert "cannot read" in caught.value.problem


def test_line_col():
    assert line_col("ab\ncd", 4) == (2, 2)
    assert line_col("abc", 0) == (1, 1)


def test_a_marker_inside_a_string_is_content(tmp_path):
    """Valid JSON cannot hold a marker at a line start, so it is parsed, not refused."""
    path = tmp_path / "ok.json"
    path.write_text('{\n  "note": "x\\n<<<<<<< HEAD\\n=======\\n>>>>>>> b",\n  "y": 1\n}\n')
    assert load_source(path).data["note"] == "x\n<<<<<<< HEAD\n=======\n>>>>>>> b"
