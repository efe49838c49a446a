"""Sample data: a realistic, seeded benchmark history shared by tests, the demo and notebooks.

Four models (baseline, openai, gemini, medgemma) run a synthetic patient case set over ten
simulated commits and three prompt versions. The history holds what real histories hold:
a real regression (medgemma at commit 6), an endpoint outage (gemini at commit 7, every
case HTTP 503), a few timeouts that do not fail a run, and an experimental prompt branch.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_analytics.model import CaseResult, DatasetRef, ModelRef, Provenance, RunResult
from bench_analytics.summary import metrics_from_cases

ISSUE_TYPES = (
    ("duplicate_charge", False),
    ("upcoding", False),
    ("gender_mismatch", True),
    ("age_inappropriate", True),
    ("temporal_violation", False),
    ("medical_necessity", True),
    ("anatomical_contradiction", True),
)
CATEGORY = {
    "duplicate_charge": "billing",
    "upcoding": "billing",
    "temporal_violation": "billing",
    "gender_mismatch": "clinical",
    "age_inappropriate": "clinical",
    "medical_necessity": "clinical",
    "anatomical_contradiction": "clinical",
}
DEMO_DATASET = "demo-patients-v1"
DEMO_START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ModelProfile:
    """How a simulated model behaves."""

    key: str
    display_name: str
    provider: str
    recall: float
    domain_recall: float
    false_positive_rate: float
    latency_ms: float
    usd_per_1k_tokens: float


PROFILES = {
    "baseline": ModelProfile("baseline", "Heuristic Baseline", "heuristic", 0.45, 0.05, 0.05, 2, 0),
    "openai": ModelProfile(
        "openai", "OpenAI GPT-4o-mini", "openai", 0.62, 0.45, 0.35, 1800, 0.0006
    ),
    "gemini": ModelProfile(
        "gemini", "Google Gemini 1.5 Pro", "google", 0.58, 0.5, 0.3, 4200, 0.0035
    ),
    "medgemma": ModelProfile(
        "medgemma", "Google MedGemma-4B-IT", "google", 0.66, 0.72, 0.25, 5600, 0.0002
    ),
}
PROMPT_EFFECT = {"v1": -0.08, "v2-structured": 0.0, "v3-reasoning": 0.05}


@dataclass(frozen=True)
class Patient:
    """A synthetic case: the issues a reviewer expects (type, needs domain knowledge).

    Each issue has a difficulty (logit offset) shared by every run, so a hard issue is
    hard for all models and runs: results of two runs on one case are correlated, as
    they are in real evaluations.
    """

    case_id: str
    issues: tuple[tuple[str, bool], ...]
    difficulty: tuple[float, ...]


def synthetic_patients(count: int = 60, seed: int = 7) -> list[Patient]:
    """A seeded case set; about a quarter of the patients are clean."""
    rng = random.Random(f"patients-{seed}")
    patients = []
    for index in range(1, count + 1):
        n_issues = rng.choices((0, 1, 2, 3), weights=(25, 40, 25, 10))[0]
        issues = tuple(rng.choice(ISSUE_TYPES) for _ in range(n_issues))
        difficulty = tuple(round(rng.gauss(0, 1.5), 3) for _ in issues)
        patients.append(Patient(f"P{index:03d}", issues, difficulty))
    return patients


def _chance(rate: float, difficulty: float) -> float:
    rate = min(max(rate, 0.01), 0.99)
    return 1 / (1 + math.exp(-(math.log(rate / (1 - rate)) - difficulty)))


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _expected(patient: Patient, found: list[bool] | None) -> list[dict[str, object]]:
    """The expected issues in the runner's shape (type, category, domain knowledge, found)."""
    return [
        {
            "type": issue_type,
            "category": CATEGORY[issue_type],
            "domain_knowledge": needs_domain,
            **({"found": found[i]} if found is not None else {}),
        }
        for i, (issue_type, needs_domain) in enumerate(patient.issues)
    ]


def _case(
    patient: Patient, profile: ModelProfile, shift: float, rng: random.Random, error: str | None
) -> CaseResult:
    latency = profile.latency_ms * math.exp(rng.gauss(0, 0.25))
    if error:
        return CaseResult(
            case_id=patient.case_id,
            status="error",
            latency_ms=round(latency, 3),
            error=error,
            details={"expected": _expected(patient, None)},
        )
    hits = []
    for (_, needs_domain), difficulty in zip(patient.issues, patient.difficulty, strict=True):
        rate = (profile.domain_recall if needs_domain else profile.recall) + shift
        hits.append(rng.random() < _chance(rate, difficulty))
    found = [t for (t, _), hit in zip(patient.issues, hits, strict=True) if hit]
    false_positives = sum(rng.random() < profile.false_positive_rate for _ in range(2))
    input_tokens = 0 if profile.usd_per_1k_tokens == 0 else int(rng.gauss(1400, 150))
    output_tokens = 0 if profile.usd_per_1k_tokens == 0 else int(rng.gauss(220, 40))
    cost = (input_tokens + output_tokens) / 1000 * profile.usd_per_1k_tokens
    return CaseResult(
        case_id=patient.case_id,
        tp=len(found),
        fp=false_positives,
        fn=len(hits) - len(found),
        latency_ms=round(latency, 3),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(cost, 6),
        details={"expected": _expected(patient, hits), "found": found},
    )


def simulate_run(
    model: str,
    patients: list[Patient],
    *,
    prompt: str = "v2-structured",
    commit: str = "0" * 40,
    branch: str = "main",
    when: datetime = DEMO_START,
    environment: str = "github-actions",
    shift: float = 0.0,
    error_rate: float = 0.0,
    outage: str | None = None,
    seed: int = 7,
) -> RunResult:
    """One run of a simulated model over ``patients``.

    ``shift`` moves the model's detection rate (a regression is negative); ``error_rate``
    makes that share of cases time out; ``outage`` fails every case with that message.
    """
    profile = PROFILES[model]
    rng = _rng(seed, model, prompt, commit, environment)
    shift += PROMPT_EFFECT.get(prompt, 0.0)
    cases = []
    for patient in patients:
        error = outage or ("timeout after 30 s" if rng.random() < error_rate else None)
        cases.append(_case(patient, profile, shift, rng, error))
    metrics = metrics_from_cases(cases)
    for name in ("f1", "precision", "recall"):
        if f"{name}_micro" in metrics:
            metrics[name] = metrics[f"{name}_micro"]
    duration = sum(c.latency_ms or 0 for c in cases) / 1000
    return RunResult(
        model=ModelRef(key=model, display_name=profile.display_name, provider=profile.provider),
        dataset=DatasetRef(name="demo-patients", version=DEMO_DATASET, declared_cases=len(cases)),
        prompt_version=prompt,
        benchmark_type="patients",
        environment=environment,
        started_at=when,
        finished_at=when + timedelta(seconds=round(duration, 3)),
        averaging="micro",
        metrics=metrics,
        cases=cases,
        provenance=Provenance(
            commit_sha=commit,
            branch=branch,
            triggered_by="ci-bot" if branch == "main" else "analyst",
            source_format="native",
            tags=["demo"],
        ),
    )


def commit_sha(index: int) -> str:
    """A stable fake 40-hex commit id for simulated commit ``index``."""
    return hashlib.sha1(f"demo-commit-{index}".encode()).hexdigest()


def sample_history(seed: int = 7, commits: int = 10, patients: int = 100) -> list[RunResult]:
    """The demo history: every model at every commit, with the events described above."""
    case_set = synthetic_patients(patients, seed)
    runs = []
    for index in range(1, commits + 1):
        when = DEMO_START + timedelta(days=index - 1)
        sha = commit_sha(index)
        prompt = "v1" if index <= 3 else "v2-structured"
        for model in PROFILES:
            shift = -0.3 if model == "medgemma" and index == 6 else 0.0
            outage = (
                "HTTP 503: model endpoint unavailable" if (model, index) == ("gemini", 7) else None
            )
            error_rate = 0.05 if model == "openai" and index == 9 else 0.0
            runs.append(
                simulate_run(
                    model,
                    case_set,
                    prompt=prompt,
                    commit=sha,
                    when=when,
                    shift=shift,
                    error_rate=error_rate,
                    outage=outage,
                    seed=seed,
                )
            )
        if index >= commits - 2:  # an experimental prompt, tried locally on the last commits
            for model in ("openai", "medgemma"):
                runs.append(
                    simulate_run(
                        model,
                        case_set,
                        prompt="v3-reasoning",
                        commit=sha,
                        branch="prompt-v3",
                        when=when + timedelta(hours=3),
                        environment="local",
                        seed=seed,
                    )
                )
    return runs


def write_results(runs: list[RunResult], directory: Path) -> list[Path]:
    """Write each run as a native result file; returns the paths."""
    from bench_analytics.files import result_file_name, write_atomic

    directory.mkdir(parents=True, exist_ok=True)
    return [write_atomic(directory / result_file_name(run), run.to_json()) for run in runs]
