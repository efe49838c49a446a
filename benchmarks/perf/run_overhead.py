"""`run` over 1,000 cases at concurrency 16 against a local endpoint that answers at once.

Reference, measured in the same run against the same server: a bare httpx client sending
the same 1,000 requests at the same concurrency (the endpoint's own time plus transport).
Overhead per case = (runner wall time - bare wall time) / cases. Target: under 5 ms.

    python benchmarks/perf/run_overhead.py [--cases 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_analytics.config import Settings
from bench_analytics.runner.engine import run_benchmark
from bench_analytics.runner.generate import generate_case_set
from bench_analytics.runner.providers import make_provider, read_prompt
from bench_analytics.runner.providers.base import render_case
from tests.fake_openai import FakeOpenAI


async def bare(url: str, bodies: list[dict], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one(body: dict) -> None:
            async with gate:
                response = await client.post(url + "/chat/completions", json=body)
                response.json()

        await asyncio.gather(*(one(body) for body in bodies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    case_set = generate_case_set(args.cases, seed=11)
    prompt, _ = read_prompt(None, None)
    bodies = [
        {
            "model": "instant",
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompt},
                {"role": "user", "content": render_case(case)},
            ],
        }
        for case in case_set.cases
    ]
    runner_s, bare_s = [], []
    with FakeOpenAI() as server:
        for _ in range(args.rounds):
            start = time.perf_counter()
            asyncio.run(bare(server.url, bodies, args.concurrency))
            bare_s.append(time.perf_counter() - start)
            provider = make_provider(
                f"openai-compatible:instant@{server.url}",
                settings=Settings(),
                concurrency=args.concurrency,
            )
            start = time.perf_counter()
            result = run_benchmark(provider, case_set, concurrency=args.concurrency)
            runner_s.append(time.perf_counter() - start)
            assert result.metrics["error_count"] == 0
    best_run, best_bare = min(runner_s), min(bare_s)
    overhead_ms = (best_run - best_bare) / args.cases * 1000
    print(f"bare httpx          : {args.cases / best_bare:8.0f} cases/s ({best_bare:.2f} s)")
    print(f"bench-analytics run : {args.cases / best_run:8.0f} cases/s ({best_run:.2f} s)")
    print(
        f"overhead per case   : {overhead_ms:.2f} ms (target < 5 ms: "
        f"{'PASS' if overhead_ms < 5 else 'FAIL'}; ratio {best_run / best_bare:.2f}x bare)"
    )


if __name__ == "__main__":
    main()
