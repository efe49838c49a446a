"""Push context: environment, commit, branch, run id and actor, from flags, the file, git, CI."""

from __future__ import annotations

import getpass
import os
import subprocess
from dataclasses import dataclass

from bench_analytics.errors import UsageError
from bench_analytics.model import NAME_MAX, RunResult


@dataclass(frozen=True)
class PushContext:
    """Identity a push adds to a result; None means 'not given'."""

    environment: str | None = None
    commit_sha: str | None = None
    branch: str | None = None
    run_id: str | None = None
    triggered_by: str | None = None
    tags: tuple[str, ...] | None = None
    notes: str | None = None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def detect_context() -> PushContext:
    """What CI variables and git say about this push (GITHUB_* first, then git, then the OS)."""
    env = os.environ
    in_actions = env.get("GITHUB_ACTIONS", "").lower() == "true"
    branch = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME")
    if not branch:
        branch = _git("rev-parse", "--abbrev-ref", "HEAD")
        branch = None if branch == "HEAD" else branch
    actor = env.get("GITHUB_ACTOR") or _git("config", "user.name")
    if not actor:
        try:
            actor = getpass.getuser()
        except (KeyError, OSError):
            actor = None
    return PushContext(
        environment="github-actions" if in_actions else "local",
        commit_sha=env.get("GITHUB_SHA") or _git("rev-parse", "HEAD"),
        branch=branch,
        run_id=env.get("GITHUB_RUN_ID"),
        triggered_by=actor,
    )


def apply_context(run: RunResult, flags: PushContext, defaults: PushContext) -> RunResult:
    """Fill identity: a flag wins, then what the document says, then the detected default."""
    provenance = run.provenance
    updates: dict[str, object] = {}
    for name in ("commit_sha", "branch", "run_id", "triggered_by", "notes"):
        value = getattr(flags, name) or getattr(provenance, name) or getattr(defaults, name)
        updates[name] = value
    if flags.tags is not None:
        updates["tags"] = list(flags.tags)
    environment = flags.environment or run.environment or defaults.environment or "local"
    if len(environment) > NAME_MAX:
        raise UsageError(f"environment must be at most {NAME_MAX} characters long")
    texts = [environment, *(v for v in updates.values() if isinstance(v, str)), *(flags.tags or ())]
    if any("\x00" in text for text in texts):
        raise UsageError("a push context value holds a NUL character, which the store cannot keep")
    return run.model_copy(
        update={"environment": environment, "provenance": provenance.model_copy(update=updates)}
    )
