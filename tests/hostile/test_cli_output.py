"""Values from users, files and the store reach the terminal as they are, through every
command; a store that refuses one result of a batch is reported result by result."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results
from bench_analytics.model import ModelRef

PATIENTS = synthetic_patients(40, seed=13)
ODD = "[/bold]"  # rich markup that would raise MarkupError, or vanish, if parsed


@pytest.fixture
def odd_store(cli, use_db, tmp_path):
    """Two versions whose prompt, display name, environment and file name hold markup."""
    runs = [
        simulate_run(
            "medgemma",
            PATIENTS,
            prompt=ODD,
            commit=f"{day:040x}",
            when=DEMO_START + timedelta(days=day),
            shift=-0.4 * day,
        ).model_copy(update={"model": ModelRef(key="medgemma", display_name="[red]Med[/red]")})
        for day in range(2)
    ]
    folder = tmp_path / "x" / "[b]"
    paths = write_results(runs, folder)
    renamed = [path.rename(path.with_name(f"[oops]{i}.json")) for i, path in enumerate(paths)]
    pushed = cli("push", *renamed, "--environment", "[/x]", "--force")
    assert pushed.code == 0, pushed
    assert ODD in pushed.out and "[/x]" in pushed.out and "[oops]0.json" in pushed.out
    return renamed


def test_markup_in_values_prints_as_it_is_through_every_command(cli, odd_store, tmp_path):
    where = ("--prompt", ODD, "--environment", "[/x]")
    commands = {
        "snapshots": ("snapshots",),
        "history": ("history", "medgemma"),
        "compare": ("compare", "medgemma@1", "medgemma@2", *where),
        "compare md": ("compare", "medgemma@1", "medgemma@2", "--markdown", *where),
        "show": ("show", "medgemma@current", *where),
        "check": ("check", odd_store[1], "--baseline", "medgemma@1", "-e", "[/x]"),
        "cost": ("cost", "--since", "all", "--by", "prompt"),
        "cases list": ("cases", "list", "medgemma@1", *where, "--limit", "3"),
        "cases compare": ("cases", "compare", "medgemma@1", "medgemma@2", *where),
        "pin": ("pin", "medgemma", "--version", "1", "--reason", "[/reason]", *where),
        "rollback": ("rollback", "medgemma", "--to-version", "1", "--reason", "[/why]", *where),
        "quarantine": ("quarantine", "2", "--reason", "[/outage]"),
        "db status": ("db", "status"),
        "convert": ("convert", odd_store[0], "-o", tmp_path / "[c]" / "one.json"),
    }
    outputs = {}
    for name, args in commands.items():
        result = cli(*args)
        assert result.code in (0, 1), (name, result)  # 1: check finds the regression
        outputs[name] = result.out
    assert len(outputs) == len(commands)
    for name in ("snapshots", "compare", "show", "pin"):
        assert ODD in outputs[name], name
    assert "[/why]" in cli("history", "medgemma").out
    assert "[/outage]" in cli("history", "medgemma").out
    assert "[c]" in outputs["convert"]


def test_markup_in_error_messages_prints_as_it_is(cli, use_db, tmp_path):
    missing = cli("history", "[/nobody]")
    assert missing.code == 2 and "model=[/nobody]" in missing.err
    bad_key = cli("push", tmp_path / "nothing.json", "--model", "[Bad]")
    assert bad_key.code == 2 and "model key '[Bad]' is not valid" in bad_key.err
    run = simulate_run("openai", PATIENTS)
    document = json.loads(run.to_json())
    document["model"]["key"] = "UPPER case"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    refused = cli("push", path)
    assert refused.code == 2 and "'^[a-z0-9][a-z0-9._-]*$'" in refused.err


def test_a_store_refusal_mid_batch_names_the_result_and_what_was_stored(cli, use_db, tmp_path):
    runs = [
        simulate_run(model, PATIENTS, commit=f"{i:040x}", when=DEMO_START + timedelta(days=i))
        for i, model in enumerate(("openai", "gemini", "medgemma", "baseline"))
    ]
    paths = write_results(runs, tmp_path / "batch")
    with psycopg.connect(use_db, autocommit=True) as conn:  # a store that refuses one model
        conn.execute(
            """CREATE FUNCTION refuse_medgemma() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                   IF NEW.model_key = 'medgemma' THEN
                       RAISE EXCEPTION 'medgemma results are not accepted here';
                   END IF;
                   RETURN NEW;
               END $$;
               CREATE TRIGGER refuse BEFORE INSERT ON benchmark_transactions
               FOR EACH ROW EXECUTE FUNCTION refuse_medgemma();"""
        )
    result = cli("push", *paths)
    assert result.code == 4, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    medgemma = next(p.name for p in paths if p.name.startswith("medgemma"))
    assert f"the store refused {medgemma}: medgemma results are not accepted here" in lines[0]
    assert "stored before it:" in lines[0] and "not tried: 1" in lines[0]
    with psycopg.connect(use_db) as conn:
        stored = [
            row[0]
            for row in conn.execute("SELECT model_key FROM benchmark_transactions ORDER BY id")
        ]
    assert stored == ["openai", "gemini"]  # in run order; each its own transaction


def test_a_run_in_memory_with_a_nul_is_refused_before_the_store(bench):
    from bench_analytics.errors import BadInputError

    run = simulate_run("openai", PATIENTS)
    cases = [run.cases[0].model_copy(update={"error": "bad\x00byte", "status": "error"})]
    poisoned = run.model_copy(update={"cases": cases + run.cases[1:]})
    with pytest.raises(BadInputError, match="NUL character"):
        bench.push(("poisoned", poisoned))
    assert bench.snapshots() == []
    details = [run.cases[1].model_copy(update={"details": {"raw": "a\x00b"}})]
    with pytest.raises(BadInputError, match="NUL character"):
        bench.push(("details", run.model_copy(update={"cases": run.cases[:1] + details})))
    assert bench.push(("clean", run)).created == 1
