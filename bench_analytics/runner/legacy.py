"""Write a run in the old ``patient_benchmark_<model>.json`` shape, for teams with old scripts."""

from __future__ import annotations

from typing import Any

from bench_analytics.model import RunResult
from bench_analytics.runner.cases import CaseSet


def _percent(found: int, total: int) -> float:
    return 100.0 * found / total if total else 0.0


def legacy_patient_benchmark(run: RunResult, case_set: CaseSet) -> dict[str, Any]:
    """The old patient-level file: macro averages, percent domain rate, per-patient rows."""
    cases = case_set.by_id()
    rows, domain_found, domain_total = [], 0, 0
    for result in run.cases:
        case = cases[result.case_id]
        expected = result.details.get("expected", [])
        found = sum(bool(e.get("found")) and e.get("domain_knowledge") for e in expected)
        total = sum(bool(e.get("domain_knowledge")) for e in expected)
        domain_found += found
        domain_total += total
        rows.append(
            {
                "patient_id": case.case_id,
                "patient_name": case.patient.name,
                "model_name": run.model.key,
                "documents_analyzed": len(case.documents),
                "analysis_latency_ms": result.latency_ms or 0.0,
                "expected_issues": [
                    {
                        "type": i.type,
                        "severity": i.severity,
                        "description": i.description,
                        "requires_domain_knowledge": i.requires_domain_knowledge,
                        "cpt_code": i.cpt_code,
                    }
                    for i in case.expected_issues
                ],
                "detected_issues": [
                    {"type": d.get("type"), "summary": d.get("summary"), "code": d.get("code")}
                    for d in result.details.get("detected", [])
                ],
                "true_positives": result.tp or 0,
                "false_positives": result.fp or 0,
                "false_negatives": result.fn
                if result.fn is not None
                else len(case.expected_issues),
                "domain_knowledge_score": _percent(found, total) if total else 100.0,
                "error_message": result.error,
            }
        )
    metrics = run.metrics
    return {
        "model_name": run.model.key,
        "total_patients": len(rows),
        "successful_analyses": sum(r.status == "ok" for r in run.cases),
        "avg_precision": metrics.get("precision_macro", 0.0),
        "avg_recall": metrics.get("recall_macro", 0.0),
        "avg_f1_score": metrics.get("f1_macro", 0.0),
        "domain_knowledge_detection_rate": _percent(domain_found, domain_total),
        "avg_latency_ms": metrics.get("latency_ms", 0.0),
        "generated_at": run.run_at.strftime("%Y-%m-%d %H:%M:%S") if run.run_at else None,
        "individual_results": rows,
    }
