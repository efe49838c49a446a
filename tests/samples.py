"""Our own sample files in the shapes of the old system's formats (values made up here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def document_results(model: str = "openai", n: int = 4, **overrides: Any) -> dict[str, Any]:
    """An ``aggregated_metrics_<model>.json`` document (micro scores, percent fields)."""
    cases = []
    for i in range(n):
        expected = i % 2
        tp = 1 if (expected and i % 4 == 1) else 0
        cases.append(
            {
                "document_name": f"doc_{i:02d}",
                "document_type": "medical_bill",
                "extraction_success": True,
                "extraction_latency_ms": 0.5 + i,
                "pipeline_latency_ms": 1000.0 + 10 * i,
                "input_tokens": None,
                "output_tokens": None,
                "total_tokens": None,
                "issues_detected": tp + (1 if i == 2 else 0),
                "issues_expected": expected,
                "true_positives": tp,
                "false_positives": 1 if i == 2 else 0,
                "false_negatives": expected - tp,
                "json_valid": True,
                "error_message": None,
            }
        )
    doc = {
        "model_name": model,
        "total_documents": n,
        "successful_extractions": n,
        "extraction_accuracy": 100.0,
        "issue_precision": 0.5,
        "issue_recall": 0.5,
        "issue_f1_score": 0.5,
        "json_validity_rate": 75.0,
        "avg_input_tokens": 0.0,
        "avg_output_tokens": 0.0,
        "avg_total_tokens": 0.0,
        "avg_extraction_latency_ms": 2.0,
        "avg_pipeline_latency_ms": 1015.0,
        "generated_at": "2026-03-01 10:00:00",
        "individual_results": cases,
    }
    doc.update(overrides)
    return doc


def patient_results(model: str = "medgemma", n: int = 3, **overrides: Any) -> dict[str, Any]:
    """A ``patient_benchmark_<model>.json`` document (macro scores, percent domain rate)."""
    cases = []
    for i in range(n):
        cases.append(
            {
                "patient_id": f"P{i + 1:03d}",
                "patient_name": f"Test Patient {i + 1}",
                "model_name": model,
                "documents_analyzed": 2,
                "analysis_latency_ms": 3000.0 + i,
                "expected_issues": [
                    {
                        "type": "gender_mismatch",
                        "severity": "high",
                        "requires_domain_knowledge": True,
                        "cpt_code": "76805",
                    }
                ],
                "detected_issues": [{"type": "gender mismatch", "code": "76805"}] if i else [],
                "true_positives": 1 if i else 0,
                "false_positives": 0,
                "false_negatives": 0 if i else 1,
                "domain_knowledge_score": 100.0 if i else 0.0,
                "error_message": None,
            }
        )
    doc = {
        "model_name": model,
        "total_patients": n,
        "successful_analyses": n,
        "avg_precision": 0.6,
        "avg_recall": 0.66,
        "avg_f1_score": 0.62,
        "domain_knowledge_detection_rate": 66.0,
        "avg_latency_ms": 3001.0,
        "generated_at": "2026-03-02 11:00:00",
        "individual_results": cases,
    }
    doc.update(overrides)
    return doc


def monitoring_result(**overrides: Any) -> dict[str, Any]:
    """The old monitoring JSON (aggregate only)."""
    doc = {
        "model_version": "medgemma-v2.0",
        "dataset_version": "set-v9",
        "prompt_version": "analysis-v1",
        "model_provider": "google",
        "dataset_size": 40,
        "metrics": {
            "precision": 0.8,
            "recall": 0.7,
            "f1": 0.75,
            "latency_ms": 300,
            "analysis_cost": 0.01,
            "true_positives": 20,
            "false_negatives": 8,
        },
    }
    doc.update(overrides)
    return doc


def export_row(row_id: str, created_at: str, model_version: str, **overrides: Any) -> dict:
    """One row of the old benchmark_transactions table."""
    row = {
        "id": row_id,
        "created_at": created_at,
        "commit_sha": "a" * 40,
        "branch_name": "refs/heads/main",
        "model_version": model_version,
        "model_provider": "baseline",
        "dataset_version": "benchmark-set-v1",
        "dataset_size": 16,
        "prompt_version": "v1",
        "environment": "github-actions",
        "run_id": "123",
        "triggered_by": "someone",
        "metrics": {
            "f1": 0.4,
            "recall": 0.25,
            "precision": 1.0,
            "latency_ms": 0.5,
            "analysis_cost": 0.0,
            "total_documents": 16,
        },
        "duration_seconds": None,
        "error_count": 0,
        "success_count": 0,
        "tags": None,
        "notes": None,
        "benchmark_type": "standard",
    }
    row.update(overrides)
    return row


def dashboard_summary() -> dict[str, Any]:
    """What the old dashboard exported: aggregates of runs, not a result."""
    return {
        "generated_at": "2026-03-05T10:00:00",
        "total_transactions": 3,
        "model_summary": {"Heuristic Baseline": {"total_runs": 3}},
        "leaderboard": [],
        "trends": {},
    }


def write(path: Path, data: Any) -> Path:
    """Write JSON (pretty, like the old pipeline) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def simulated_files(
    folder: Path, patients: list, shifts: list[float], model: str = "medgemma", **kwargs: Any
) -> list[Path]:
    """One native result file per shift, a day apart (a negative shift is a regression)."""
    from datetime import timedelta

    from bench_analytics.fixtures import DEMO_START, simulate_run, write_results

    runs = [
        simulate_run(
            model,
            patients,
            commit=f"{i:040x}",
            when=DEMO_START + timedelta(days=i),
            shift=shift,
            **kwargs,
        )
        for i, shift in enumerate(shifts)
    ]
    return write_results(runs, folder)


def created(push_json: str) -> int:
    """How many results a `push --json` stored anew (0: all were stored before)."""
    return sum(outcome["created"] for outcome in json.loads(push_json))
