"""End-to-end ``bench-analytics push`` of an lm-evaluation-harness MMLU run with its samples.

Synthesised from the harness's own structure (0.4.x ``results_<time>.json`` with ``groups``,
``group_subtasks``, ``n-samples``, ``higher_is_better``; ``--log_samples`` JSON Lines of
multiple-choice loglikelihood samples, four choices each), 14,042 samples in all:
  * ``single``: one task ``mmlu`` whose samples log holds all 14,042 samples (one run);
  * ``subtasks``: the harness's real layout, 57 subtasks with their MMLU test sizes, a log
    each, plus the 5 group rows (62 runs).
Each push sends new content (a new ``date``), as a user runs it: a new CLI process, the
embedded store, server up (warm) and started by the push (cold). Median of N runs.
Reference, same run: ``orjson.loads`` of the samples bytes, and the reader alone
(``read_file``, in this process). Target: push < 3 s.

    python benchmarks/perf/push_lm_eval.py [--runs 3] [--layout single|subtasks|both]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.formats import read_file
from benchmarks.perf.processes import CLI, server_held, time_command, user_env

SIZES = {  # MMLU test split, per subject (14,042 questions)
    "stem": {
        "abstract_algebra": 100, "anatomy": 135, "astronomy": 152, "college_biology": 144,
        "college_chemistry": 100, "college_computer_science": 100, "college_mathematics": 100,
        "college_physics": 102, "computer_security": 100, "conceptual_physics": 235,
        "electrical_engineering": 145, "elementary_mathematics": 378,
        "high_school_biology": 310, "high_school_chemistry": 203,
        "high_school_computer_science": 100, "high_school_mathematics": 270,
        "high_school_physics": 151, "high_school_statistics": 216, "machine_learning": 112,
    },
    "other": {
        "business_ethics": 100, "clinical_knowledge": 265, "college_medicine": 173,
        "global_facts": 100, "human_aging": 223, "management": 103, "marketing": 234,
        "medical_genetics": 100, "miscellaneous": 783, "nutrition": 306,
        "professional_accounting": 282, "professional_medicine": 272, "virology": 166,
    },
    "social_sciences": {
        "econometrics": 114, "high_school_geography": 198,
        "high_school_government_and_politics": 193, "high_school_macroeconomics": 390,
        "high_school_microeconomics": 238, "high_school_psychology": 545,
        "human_sexuality": 131, "professional_psychology": 612, "public_relations": 110,
        "security_studies": 245, "sociology": 201, "us_foreign_policy": 100,
    },
    "humanities": {
        "formal_logic": 126, "high_school_european_history": 165,
        "high_school_us_history": 204, "high_school_world_history": 237,
        "international_law": 121, "jurisprudence": 108, "logical_fallacies": 163,
        "moral_disputes": 346, "moral_scenarios": 895, "philosophy": 311, "prehistory": 324,
        "professional_law": 1534, "world_religions": 171,
    },
}  # fmt: skip
TOTAL = 14_042


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sample(doc_id: int, subject: str, seed: int) -> tuple[bytes, float]:
    """One multiple-choice sample line as the harness logs it, and its acc."""
    question = f"Question {doc_id} about {subject.replace('_', ' ')} (variant {seed})?"
    choices = [f"answer {k} to question {doc_id}" for k in range(4)]
    gold = (doc_id * 7 + seed) % 4
    prompt = (
        f"The following are multiple choice questions (with answers) about {subject}.\n\n"
        f"{question}\nA. {choices[0]}\nB. {choices[1]}\nC. {choices[2]}\nD. {choices[3]}\nAnswer:"
    )
    loglik = [[f"{-0.5 - ((doc_id + k * 3 + seed) % 11) / 4:.16f}", "False"] for k in range(4)]
    best = max(range(4), key=lambda k: float(loglik[k][0]))
    acc = 1.0 if best == gold else 0.0
    line = {
        "doc_id": doc_id,
        "doc": {"question": question, "subject": subject, "choices": choices, "answer": gold},
        "target": gold,
        "arguments": {
            f"gen_args_{k}": {"arg_0": prompt, "arg_1": f" {'ABCD'[k]}"} for k in range(4)
        },
        "resps": [[pair] for pair in loglik],
        "filtered_resps": loglik,
        "filter": "none",
        "metrics": ["acc"],
        "doc_hash": _sha(question),
        "prompt_hash": _sha(prompt),
        "target_hash": _sha(str(gold)),
        "acc": acc,
    }
    return json.dumps(line, ensure_ascii=False).encode() + b"\n", acc


def _task(name: str, accs: list[float]) -> dict[str, object]:
    mean = sum(accs) / len(accs)
    stderr = (mean * (1 - mean) / max(len(accs) - 1, 1)) ** 0.5
    return {"alias": name, "acc,none": mean, "acc_stderr,none": stderr}


def synthesise(folder: Path, layout: str, seed: int) -> tuple[Path, int]:
    """Write a results file and its samples logs; returns (results path, samples bytes)."""
    folder.mkdir(parents=True)
    stamp = f"2025-03-03T00-05-{seed % 60:02d}.750676"
    tasks: dict[str, list[float]] = {}
    written = 0
    subjects = [(group, subject, n) for group, s in SIZES.items() for subject, n in s.items()]
    if layout == "single":
        name = "mmlu"
        with (folder / f"samples_{name}_{stamp}.jsonl").open("wb") as out:
            doc_id, accs = 0, []
            for _, subject, n in subjects:
                for _ in range(n):
                    line, acc = _sample(doc_id, subject, seed)
                    out.write(line)
                    written += len(line)
                    accs.append(acc)
                    doc_id += 1
        tasks[name] = accs
        results = {name: _task(name, accs)}
        groups: dict[str, object] = {}
        subtasks: dict[str, list[str]] = {name: []}
    else:
        results, groups, subtasks = {}, {}, {"mmlu": [f"mmlu_{g}" for g in SIZES]}
        for group, subject, n in subjects:
            name = f"mmlu_{subject}"
            lines = [_sample(i, subject, seed) for i in range(n)]
            data = b"".join(line for line, _ in lines)
            (folder / f"samples_{name}_{stamp}.jsonl").write_bytes(data)
            written += len(data)
            tasks[name] = [acc for _, acc in lines]
            subtasks.setdefault(f"mmlu_{group}", []).append(name)
        for group in SIZES:
            accs = [a for t in subtasks[f"mmlu_{group}"] for a in tasks[t]]
            groups[f"mmlu_{group}"] = _task(f" - {group}", accs)
        groups["mmlu"] = _task("mmlu", [a for accs in tasks.values() for a in accs])
        results = {**groups, **{t: _task(t, accs) for t, accs in tasks.items()}}
    leaves = [t for t in tasks]
    assert sum(len(tasks[t]) for t in leaves) == TOTAL
    document = {
        "results": results,
        "groups": groups,
        "group_subtasks": subtasks,
        "configs": {
            t: {"task": t, "num_fewshot": 0, "output_type": "multiple_choice"} for t in leaves
        },
        "versions": {**{t: 1.0 for t in leaves}, **{g: 2 for g in groups}},
        "n-shot": {t: 0 for t in leaves},
        "higher_is_better": {t: {"acc": True} for t in [*groups, *leaves]},
        "n-samples": {t: {"original": len(tasks[t]), "effective": len(tasks[t])} for t in leaves},
        "config": {
            "model": "hf",
            "model_args": "pretrained=meta-llama/Llama-3.2-1B,trust_remote_code=True",
            "model_revision": "main",
            "batch_size": "8",
            "limit": None,
        },
        "git_hash": "e7e32cb",
        "date": 1740959613.3433125 + seed,
        "model_source": "hf",
        "model_name": "meta-llama/Llama-3.2-1B",
        "start_time": 9944623.183391808,
        "end_time": 9945340.989499524,
        "total_evaluation_time_seconds": "717.8061077161878",
    }
    path = folder / f"results_{stamp}.json"
    path.write_text(json.dumps(document, indent=2))
    return path, written


def _reference(results: Path) -> tuple[float, float]:
    """(orjson.loads of every samples log's bytes, the reader alone), best of three."""
    logs = [p.read_bytes() for p in sorted(results.parent.glob("samples_*"))]
    loads, reads = [], []
    for _ in range(3):
        start = time.perf_counter()
        for raw in logs:
            for line in raw.splitlines():
                orjson.loads(line)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_file(results)
        reads.append(time.perf_counter() - start)
    return min(loads), min(reads)


def measure(root: Path, layout: str, runs: int) -> None:
    env = user_env(root / ".bench")
    bundles = [synthesise(root / layout / f"run{i}", layout, i) for i in range(2 * runs + 1)]
    first, size = bundles[0]
    loads, reader = _reference(first)
    time_command([CLI, "db", "upgrade"], env, root)
    files = iter(path for path, _ in bundles[1:])
    cold = [time_command([CLI, "push", str(next(files))], env, root) for _ in range(runs)]
    with server_held(env, root):
        warm = [time_command([CLI, "push", str(next(files))], env, root) for _ in range(runs)]
    med = statistics.median
    print(f"[{layout}] {TOTAL:,} samples, {size / 1e6:.1f} MB of samples logs")
    print(f"  orjson.loads, every line     : {loads:.3f} s (reference)")
    print(f"  reader alone (read_file)     : {reader:.3f} s  ({reader / loads:.1f}x reference)")
    for label, values in (("push, server up", warm), ("push, cold start", cold)):
        verdict = "PASS" if med(values) < 3 else "FAIL"
        print(
            f"  {label:<29}: {med(values):.3f} s  (target < 3 s: {verdict}; "
            f"{med(values) / loads:.1f}x reference; min {min(values):.3f}, max {max(values):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--layout", choices=("single", "subtasks", "both"), default="both")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-lm-eval-perf-"))
    try:
        for layout in ("single", "subtasks") if args.layout == "both" else (args.layout,):
            measure(root, layout, args.runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
