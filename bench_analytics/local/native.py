"""SQL over native result files: DuckDB's ``read_json`` scans them directly, no Python loop.

Run status comes from ``bench_analytics.health.judge`` itself, registered in DuckDB as the
function ``bench_health`` (one call per file); metrics are the file's own, as written.

Values ``push`` refuses are refused here too, by the same rules written in SQL (identity,
case values, metrics, declared totals): each view checks what it shows of every file it
reads, and the first bad value stops the query with DuckDB's ``error()`` naming the file,
field and rule. The checks run in the same scan, vectorised (docs/local-sql.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bench_analytics.formats import AGGREGATE_FORMATS
from bench_analytics.health import judge
from bench_analytics.local.columns import CASE_FIELDS as CASE_ROW
from bench_analytics.local.columns import (
    CASES,
    METRICS,
    RUNS,
    ident,
    literal,
    select_list,
)
from bench_analytics.metrics import REGISTRY
from bench_analytics.model import CASE_ID_MAX, INT32_MAX, KEY_PATTERN, NAME_MAX

if TYPE_CHECKING:
    import duckdb

MIN_OBJECT_SIZE = 16 * 1024 * 1024

_MODEL = 'STRUCT("key" VARCHAR, display_name VARCHAR, "version" VARCHAR, provider VARCHAR)'
_DATASET = 'STRUCT("name" VARCHAR, "version" VARCHAR, declared_cases BIGINT)'
_PROVENANCE = (
    "STRUCT(commit_sha VARCHAR, branch VARCHAR, run_id VARCHAR, triggered_by VARCHAR, "
    "tags VARCHAR[], notes VARCHAR, source_format VARCHAR, source_name VARCHAR)"
)
_CASE = "STRUCT(" + ", ".join(f"{ident(name)} {kind}" for name, kind in CASE_ROW) + ")"
_CONTEXT = {
    "schema_version": "BIGINT",
    "model": _MODEL,
    "dataset": _DATASET,
    "prompt_version": "VARCHAR",
    "environment": "VARCHAR",
    "started_at": "TIMESTAMPTZ",
    "finished_at": "TIMESTAMPTZ",
}
RUN_FIELDS = {
    **_CONTEXT,
    "benchmark_type": "VARCHAR",
    "metrics": "MAP(VARCHAR, DOUBLE)",
    "reported_errors": "BIGINT",
    "outage_evidence": "VARCHAR",
    "provenance": _PROVENANCE,
    # what the health rule and the checks of the case list need (values: the cases view)
    "cases": 'STRUCT(case_id VARCHAR, status VARCHAR, "error" VARCHAR)[]',
}
_SOURCE_FORMAT = "STRUCT(source_format VARCHAR)"
CASE_FIELDS = {**_CONTEXT, "cases": f"{_CASE}[]", "provenance": _SOURCE_FORMAT}
METRIC_FIELDS = {**_CONTEXT, "metrics": "MAP(VARCHAR, DOUBLE)"}

HEALTH_FUNCTION = "bench_health"
_HEALTH_ARGS = ["BIGINT", "BIGINT", "VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "DOUBLE"]
_HEALTH_RESULT = {
    "status": "VARCHAR",
    "reason": "VARCHAR",
    "case_count": "BIGINT",
    "error_count": "BIGINT",
}


def _health_row(
    cases: int | None,
    errors: int | None,
    first_error: str | None,
    declared: int | None,
    reported: int | None,
    outage: str | None,
    threshold: float,
) -> dict[str, object]:
    return asdict(
        judge(cases or 0, errors or 0, first_error, declared, reported, outage, threshold)
    )


def register_health(con: duckdb.DuckDBPyConnection) -> None:
    """``bench_health(cases, errors, first_error, declared, reported, outage, threshold)``:
    ``bench_analytics.health.judge`` as a DuckDB function returning a STRUCT(status,
    reason, case_count, error_count). Called once per result file, so its cost is nil."""
    import duckdb

    con.create_function(  # type: ignore[call-overload]  # the stubs type parameters narrowly
        HEALTH_FUNCTION,
        _health_row,
        _HEALTH_ARGS,
        duckdb.struct_type(_HEALTH_RESULT),
        null_handling="special",
        side_effects=False,
    )


def _columns_arg(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in fields.items()) + "}"


def read_json_sql(files: Sequence[Path], fields: dict[str, str]) -> str:
    """``read_json`` over the files with explicit column types (no schema sniffing)."""
    sizes = [path.stat().st_size for path in files]
    limit = max(MIN_OBJECT_SIZE, 2 * max(sizes, default=0) + 1024 * 1024)
    listed = "[" + ", ".join(literal(str(path)) for path in files) + "]"
    return (
        f"read_json({listed}, columns={_columns_arg(fields)}, format='unstructured', "
        f"filename=true, maximum_object_size={limit})"
    )


_HEADLINE = ("f1", "precision", "recall", "latency_ms", "cost_usd")
_CONTEXT_EXPRS = {
    "run_key": "j.filename",
    "model": 'j.model."key"',
    "dataset_version": 'j.dataset."version"',
    "prompt_version": "j.prompt_version",
    "environment": "coalesce(j.environment, 'local')",
    "run_at": "coalesce(j.finished_at, j.started_at)",
}

# --- the checks: push's rules in SQL ----------------------------------------------------------
# Each rule is a condition that holds for a bad value (NULL for a missing optional one) and
# a message. Per file, before its cases or metrics are unnested, one cheap test of all
# conditions finds the first bad element (``list_filter``); only that one has its message
# built, and the view's filter stops the query with ``error()``.

_COUNTS = ("tp", "fp", "fn", "input_tokens", "output_tokens")
_FRACTIONS = sorted(n for n, spec in REGISTRY.items() if spec.unit == "fraction")
_NON_NEGATIVE = sorted(
    n for n, spec in REGISTRY.items() if spec.unit in {"ms", "usd", "tokens", "count"}
)
_REFUSED = " (push refuses this file too: fix it, or query without it)"
Rules = list[tuple[str, str]]


def _text(expr: str, width: int = 60) -> str:
    """``expr`` as quoted text for a message, cut to ``width`` characters."""
    quote = literal("'")
    return f"{quote} || left(CAST({expr} AS VARCHAR), {width}) || {quote}"


def _any(rules: Rules) -> str:
    """True when a rule is broken; false (not NULL) otherwise."""
    return "coalesce(" + " OR ".join(f"({cond})" for cond, _ in rules) + ", false)"


def _message(rules: Rules) -> str:
    """The message of the first broken rule (NULL when none is)."""
    whens = "\n".join(f"        WHEN {cond} THEN {message}" for cond, message in rules)
    return f"CASE\n{whens}\n        END"


def _length(expr: str, field: str, low: int, high: int) -> Rules:
    """1..high characters (bytes are counted first: characters only for long values)."""
    return [
        (f"{expr} IS NULL", literal(f"field {field}: is missing")),
        (
            f"strlen({expr}) < {low} OR strlen({expr}) > {high} AND length({expr}) > {high}",
            literal(f"field {field}: must be {low} to {high} characters long, got ")
            + f" || length({expr})",
        ),
    ]


def identity_rules(r: str) -> Rules:
    """Schema version, model key, dataset and prompt versions, environment of file row ``r``."""
    key = f'{r}.model."key"'
    pattern = KEY_PATTERN.removeprefix("^").removesuffix("$")
    return [
        (
            f"{r}.schema_version <> 1",
            literal("field schema_version: this release reads result schema version 1, got ")
            + f" || {r}.schema_version",
        ),
        (f"{key} IS NULL", literal("field model.key: is missing")),
        (
            f"length({key}) > {NAME_MAX} OR NOT regexp_full_match({key}, {literal(pattern)})",
            literal(
                "field model.key: must be lower case letters, digits, '.', '_' or '-' "
                f"(at most {NAME_MAX} characters), got "
            )
            + f" || {_text(key)}",
        ),
        *_length(f'{r}.dataset."version"', "dataset.version", 1, NAME_MAX),
        *_length(f"{r}.prompt_version", "prompt_version", 1, NAME_MAX),
        (
            f"length({r}.environment) > {NAME_MAX}",
            literal(f"field environment: must be at most {NAME_MAX} characters long"),
        ),
    ]


def case_rules(c: str, values: bool = True) -> Rules:
    """Id and status of case struct ``c``, and (``values``) its counts and numbers."""
    field = f"{literal('field cases[case_id=')} || {_text(f'{c}.case_id')} || '].'"
    rules = [
        (f"{c}.case_id IS NULL", literal("field cases[]: a case has no case_id")),
        (
            f"strlen({c}.case_id) = 0 OR strlen({c}.case_id) > {CASE_ID_MAX} "
            f"AND length({c}.case_id) > {CASE_ID_MAX}",
            literal(f"field cases[].case_id: must be 1 to {CASE_ID_MAX} characters long"),
        ),
        (
            f"{c}.status NOT IN ('ok', 'error')",
            f"{field} || {literal('status: must be ok or error, got ')} || {_text(f'{c}.status')}",
        ),
    ]
    if not values:
        return rules
    for name in _COUNTS:  # read as INTEGER: DuckDB itself refuses more than 2147483647
        message = literal(f"{name}: must lie in 0..{INT32_MAX}, got ")
        rules.append((f"{c}.{name} < 0", f"{field} || {message} || {c}.{name}"))
    message = literal("score: must be a finite number, got ")
    rules.append((f"NOT isfinite({c}.score)", f"{field} || {message} || {c}.score"))
    for name in ("latency_ms", "cost_usd"):
        message = literal(f"{name}: must be a finite number >= 0, got ")
        rules.append(
            (f"{c}.{name} < 0 OR NOT isfinite({c}.{name})", f"{field} || {message} || {c}.{name}")
        )
    return rules


def metric_rules(name: str, value: str) -> Rules:
    """``bench_analytics.metrics.check_value`` for one metric, and the name's length."""
    field = f"{literal('field metrics.')} || left({name}, 60) || ': '"
    fractions = "[" + ", ".join(map(literal, _FRACTIONS)) + "]"
    non_negative = "[" + ", ".join(map(literal, _NON_NEGATIVE)) + "]"
    return [
        (
            f"length({name}) > {NAME_MAX}",
            literal(f"field metrics: a name is longer than {NAME_MAX} characters"),
        ),
        (f"{value} IS NULL", f"{field} || 'must be a number, got null'"),
        (f"NOT isfinite({value})", f"{field} || 'must be a finite number, got ' || {value}"),
        (
            f"list_contains({fractions}, {name}) AND NOT {value} BETWEEN 0 AND 1",
            f"{field} || 'is a rate and must lie in [0, 1], got ' || {value}",
        ),
        (
            f"list_contains({non_negative}, {name}) AND {value} < 0",
            f"{field} || 'cannot be negative, got ' || {value}",
        ),
    ]


def run_rules(r: str) -> Rules:
    """The counts file row ``r`` states, and its benchmark type."""
    return [
        *(
            (
                f"NOT {value} BETWEEN 0 AND {INT32_MAX}",
                f"'field {field}: must lie in 0..{INT32_MAX}, got ' || {value}",
            )
            for field, value in (
                ("dataset.declared_cases", f"{r}.dataset.declared_cases"),
                ("reported_errors", f"{r}.reported_errors"),
            )
        ),
        (f"{r}.benchmark_type = ''", "'field benchmark_type: must not be empty'"),
    ]


def case_list_rules(r: str) -> Rules:
    """The case list of file row ``r`` as a whole: the declared total (as
    ``formats.check_declared``) and duplicate ids."""
    cases = f"coalesce(len({r}.cases), 0)"
    declared = f"{r}.dataset.declared_cases"
    aggregate = "[" + ", ".join(map(literal, sorted(AGGREGATE_FORMATS))) + "]"
    ids = f"list_transform({r}.cases, lambda c: c.case_id)"
    return [
        (
            f"{cases} = 0 AND {declared} > 0 AND NOT list_contains({aggregate}, "
            f"coalesce({r}.provenance.source_format, 'native'))",
            f"'field cases: holds no results but declares ' || {declared} || ' cases'",
        ),
        (
            f"{cases} > 0 AND {declared} <> {cases}",
            f"'field cases: holds ' || {cases} || ' results but declares ' || {declared}",
        ),
        (
            f"len(list_distinct({ids})) <> len(list_filter({ids}, lambda i: i IS NOT NULL))",
            "'field cases: a case_id appears twice'",
        ),
    ]


def _refuse(ok: str, problem: str, value: str = "true") -> str:
    """``value`` when ``ok``, else DuckDB's ``error()`` with ``problem`` (a WHERE condition,
    or a column that checks what it is computed from)."""
    return (
        f"CASE WHEN {ok} THEN {value} "
        f"ELSE error(j.filename || ': ' || {problem} || {literal(_REFUSED)}) END"
    )


# --- the views ---------------------------------------------------------------------------------


def runs_sql(files: Sequence[Path], threshold: float) -> str:
    """One row per native file; status and counts from the health rule (``bench_health``).

    Every row is checked (identity, stated counts, metrics); the columns computed from the
    case list (status, counts) check the case list too, so a query that reads none of them
    does not read the cases at all.
    """
    thr = f"CAST({float(threshold)!r} AS DOUBLE)"
    from_cases = {
        "status": "j._health.status",
        "status_reason": "j._health.reason",
        "effective_status": "j._health.status",
        "case_count": "j._health.case_count",
        "error_count": "j._health.error_count",
    }
    exprs = {
        **_CONTEXT_EXPRS,
        "model_display_name": "j.model.display_name",
        "model_version": 'j.model."version"',
        "provider": "j.model.provider",
        "dataset_name": 'j.dataset."name"',
        "benchmark_type": "coalesce(j.benchmark_type, 'custom')",
        "commit_sha": "j.provenance.commit_sha",
        "branch": "j.provenance.branch",
        "run_id": "j.provenance.run_id",
        "triggered_by": "j.provenance.triggered_by",
        "tags": "coalesce(j.provenance.tags, [])",
        "notes": "j.provenance.notes",
        "run_started_at": "j.started_at",
        "run_finished_at": "j.finished_at",
        **{
            name: _refuse("j._cases_problem IS NULL", "j._cases_problem", expr)
            for name, expr in from_cases.items()
        },
        **{name: f"j.metrics[{literal(name)}]" for name in _HEADLINE},
        "source_format": "coalesce(j.provenance.source_format, 'native')",
        "source_name": "coalesce(j.provenance.source_name, parse_filename(j.filename))",
    }
    file_rules = identity_rules("j") + run_rules("j")
    metric = metric_rules("j._bad_metric.key", "j._bad_metric.value")
    ok = f"NOT {_any(file_rules)} AND j._bad_metric IS NULL"
    problem = (
        f"coalesce({_message(file_rules)}, "
        f"CASE WHEN j._bad_metric IS NOT NULL THEN {_message(metric)} END)"
    )
    bad_metric = _any(metric_rules("e.key", "e.value"))
    case_list = case_list_rules("f")
    case = case_rules("f._bad_case", values=False)
    return f"""SELECT {select_list(RUNS, exprs)}
FROM (
    SELECT f.*,
           coalesce(
               CASE WHEN {_any(case_list)} THEN {_message(case_list)} END,
               CASE WHEN f._bad_case IS NOT NULL THEN {_message(case)} END
           ) AS _cases_problem
    FROM (
        SELECT r.*,
               {HEALTH_FUNCTION}(
                   len(r.cases),
                   len(list_filter(r.cases, lambda c: c.status = 'error')),
                   list_filter(
                       r.cases, lambda c: c.status = 'error' AND coalesce(c."error", '') <> ''
                   )[1]."error",
                   r.dataset.declared_cases,
                   r.reported_errors,
                   r.outage_evidence,
                   {thr}
               ) AS _health,
               list_filter(map_entries(r.metrics), lambda e: {bad_metric})[1] AS _bad_metric,
               list_filter(
                   r.cases, lambda c: {_any(case_rules("c", values=False))}
               )[1] AS _bad_case
        FROM {read_json_sql(files, RUN_FIELDS)} r
    ) f
) j
WHERE {_refuse(ok, problem)}"""


def cases_sql(files: Sequence[Path]) -> str:
    """One row per case of every native file (the case list as a whole: ``runs``)."""
    exprs = {
        **_CONTEXT_EXPRS,
        "case_id": "j.c.case_id",
        "status": "coalesce(j.c.status, 'ok')",
        **{name: f"j.c.{name}" for name in ("tp", "fp", "fn", "score", "latency_ms")},
        **{name: f"j.c.{name}" for name in ("input_tokens", "output_tokens", "cost_usd")},
        "error": 'j.c."error"',
        "details": "coalesce(j.c.details, '{}')",
    }
    identity = identity_rules("r")
    case = case_rules("f._bad_case")
    return f"""SELECT {select_list(CASES, exprs)}
FROM (
    SELECT f.filename, f.model, f.dataset, f.prompt_version, f.environment, f.started_at,
           f.finished_at,
           coalesce(
               f._file, CASE WHEN f._bad_case IS NOT NULL THEN {_message(case)} END
           ) AS _problem,
           unnest(f.cases) AS c
    FROM (
        SELECT r.*,
               list_filter(r.cases, lambda c: {_any(case_rules("c"))})[1] AS _bad_case,
               CASE WHEN {_any(identity)} THEN {_message(identity)} END AS _file
        FROM {read_json_sql(files, CASE_FIELDS)} r
    ) f
) j
WHERE {_refuse("j._problem IS NULL", "j._problem")}"""


def metrics_sql(files: Sequence[Path]) -> str:
    """One row per metric of every native file, with unit and direction from the registry."""
    exprs = {
        **_CONTEXT_EXPRS,
        "name": "j.name",
        "value": "j.value",
        "unit": "coalesce(reg.unit, 'unknown')",
        "direction": "coalesce(reg.direction, 'unknown')",
    }
    identity = identity_rules("r")
    metric = metric_rules("f._bad_metric.key", "f._bad_metric.value")
    bad_metric = _any(metric_rules("e.key", "e.value"))
    return f"""SELECT {select_list(METRICS, exprs)}
FROM (
    SELECT f.filename, f.model, f.dataset, f.prompt_version, f.environment, f.started_at,
           f.finished_at,
           coalesce(
               f._file, CASE WHEN f._bad_metric IS NOT NULL THEN {_message(metric)} END
           ) AS _problem,
           unnest(map_keys(f.metrics)) AS name,
           unnest(map_values(f.metrics)) AS value
    FROM (
        SELECT r.*,
               list_filter(map_entries(r.metrics), lambda e: {bad_metric})[1] AS _bad_metric,
               CASE WHEN {_any(identity)} THEN {_message(identity)} END AS _file
        FROM {read_json_sql(files, METRIC_FIELDS)} r
    ) f
) j
LEFT JOIN _bench.metric_registry reg ON reg.name = j.name
WHERE {_refuse("j._problem IS NULL", "j._problem")}"""
