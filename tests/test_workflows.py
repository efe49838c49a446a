"""The GitHub workflows: actionlint passes on each, none hides a failure, none runs on a
deprecated runtime or inlines an expression in a script, and every matrix job names its
artifact safely. (The jobs themselves are played in test_workflow_play.py.)"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import REPO
from tests.workflow_play import (
    NAMED,
    RUN_BENCHMARKS,
    WORKFLOWS,
    actionlint,
    load_workflow,
    steps_of,
    workflow_files,
)


def test_the_three_workflows_exist():
    files = workflow_files()
    assert files, f"no workflow under {WORKFLOWS}"
    names = {load_workflow(path).get("name") for path in files}
    assert names >= NAMED, f"missing workflows: {sorted(NAMED - names)}"
    assert not (WORKFLOWS / "benchmark.yml").exists(), "benchmark.yml was replaced"


def test_actionlint_passes_on_every_workflow():
    files = workflow_files()
    assert files
    done = actionlint(*files, cwd=REPO)
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
    done = actionlint(target, cwd=tmp_path)
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
    for path in workflow_files():
        for where, step in steps_of(load_workflow(path)):
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
    for path in workflow_files():
        doc = load_workflow(path)
        for job_name, job in doc["jobs"].items():
            if job.get("continue-on-error") not in (None, False):
                found.append(f"{path.name}, job {job_name}: continue-on-error")
        for where, step in steps_of(doc):
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
        for path in workflow_files()
        for where, step in steps_of(load_workflow(path))
        if "${{" in str(step.get("run", ""))
    ]
    assert found == []


def test_the_matrix_gives_every_model_a_safe_artifact_name(tmp_path):
    """Each matrix job names its artifact after its model, without ':' or '/', and the
    names differ (download-artifact then lays them out one folder each)."""
    job = load_workflow(RUN_BENCHMARKS)["jobs"]["run"]
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
