"""The case row is defined once (``bench_analytics.case_columns``); the rest derives from it."""

from __future__ import annotations

from types import NoneType
from typing import get_args

from bench_analytics import local
from bench_analytics.case_columns import CASE_COLUMN_NAMES, CASE_COLUMNS
from bench_analytics.local import native
from bench_analytics.local.columns import CASE_FIELDS, CASES
from bench_analytics.model import CaseResult
from tests.local_helpers import sample_runs, write_sample


def test_the_columns_are_the_fields_of_a_case():
    assert len(CASE_COLUMNS) == 12
    assert tuple(CaseResult.model_fields) == CASE_COLUMN_NAMES
    for column in CASE_COLUMNS:
        field = CaseResult.model_fields[column.name]
        assert column.nullable == (NoneType in get_args(field.annotation)), column.name


def test_local_sql_derives_its_case_columns():
    assert tuple((c.name, c.sql_type) for c in CASE_COLUMNS) == CASE_FIELDS
    assert CASES[-len(CASE_FIELDS) :] == CASE_FIELDS
    struct = ", ".join(f'"{c.name}" {c.sql_type}' for c in CASE_COLUMNS)
    assert native.CASE_FIELDS["cases"] == f"STRUCT({struct})[]"


def test_the_cases_view_has_the_columns_and_types(tmp_path):
    write_sample(tmp_path, sample_runs()[:1])
    with local.connect([tmp_path]) as session:
        described = session.con.sql("DESCRIBE cases").fetchall()
    types = {row[0]: row[1] for row in described}
    assert [name for name, _ in CASE_FIELDS] == [row[0] for row in described][-12:]
    assert {c.name: c.sql_type for c in CASE_COLUMNS} == {
        name: types[name] for name in CASE_COLUMN_NAMES
    }


def test_the_store_copies_the_same_columns():
    from bench_analytics.store import push

    assert tuple(push.CASE_COLUMNS) == ("transaction_id", *CASE_COLUMN_NAMES)
