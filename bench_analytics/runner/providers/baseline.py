"""The baseline: deterministic rules over codes, ages, sexes and duplicates. Runs offline."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from bench_analytics.model import ModelRef
from bench_analytics.runner.cases import Case
from bench_analytics.runner.codes import FEMALE_ONLY, MALE_ONLY, PEDIATRIC_MAX_AGE, PROCEDURES
from bench_analytics.runner.providers.base import Answer

RULES_VERSION = "rules-v1"


def detect(case: Case) -> list[dict[str, Any]]:
    """The issues the rules find in one case."""
    issues: list[dict[str, Any]] = []
    codes = case.codes()
    for (code, when), count in sorted(Counter(codes).items(), key=lambda item: str(item[0])):
        if count > 1:
            on = f" on {when}" if when else ""
            issues.append(
                {
                    "type": "duplicate_charge",
                    "code": code,
                    "summary": f"{code} billed {count} times{on}",
                }
            )
    sex = (case.patient.sex or "").upper()[:1]
    age = case.patient.age
    for code in sorted({code for code, _ in codes}):
        name = PROCEDURES.get(code, (code, 0))[0]
        if (sex == "M" and code in FEMALE_ONLY) or (sex == "F" and code in MALE_ONLY):
            issues.append(
                {
                    "type": "gender_mismatch",
                    "code": code,
                    "summary": f"{name} billed for a patient of sex {sex}",
                }
            )
        if age is not None and code in PEDIATRIC_MAX_AGE and age > PEDIATRIC_MAX_AGE[code]:
            issues.append(
                {
                    "type": "age_inappropriate",
                    "code": code,
                    "summary": f"{name} billed for a {age}-year-old",
                }
            )
    return issues


class BaselineProvider:
    """Rules, no endpoint: never fails for outage reasons, same answer every time."""

    def __init__(self) -> None:
        self.model = ModelRef(
            key="baseline",
            display_name="Heuristic Baseline",
            version=RULES_VERSION,
            provider="heuristic",
        )
        self.prompt_version = RULES_VERSION
        self.description: dict[str, Any] = {"provider": "baseline", "rules": RULES_VERSION}

    async def answer(self, case: Case) -> Answer:
        start = time.perf_counter()
        raw = json.dumps({"issues": detect(case)}, sort_keys=True)
        return Answer(
            raw=raw,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            latency_ms=(time.perf_counter() - start) * 1000,
        )

    async def close(self) -> None:
        return None
