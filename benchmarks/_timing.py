"""Timing helper shared by the throughput benchmarks (scripts run from the repo root)."""

from __future__ import annotations

import time


def rate(fn, steps: int, num_envs: int) -> float:
    """env-steps/s of ``fn`` (one batched step of ``num_envs``), after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * num_envs / (time.perf_counter() - start)
