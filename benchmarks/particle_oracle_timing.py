"""How long `imitate data particle` takes: 2000 oracle episodes per dimension and goal order.

Times `particle_oracle` (the function behind `imitate data particle`) with 1 torch thread, after
one small warm-up call, and prints one JSON object; also writes
benchmarks/results/particle_oracle_timing.json.

    python benchmarks/particle_oracle_timing.py
"""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

from imitate.data.oracles.particle import particle_oracle

EPISODES = 2000


def main() -> None:
    torch.set_num_threads(1)
    particle_oracle(10, seed=0)  # warm-up: imports and first-call allocations
    rows = []
    for goal_order in ("fixed", "either"):
        for n_dim in (2, 4, 8, 16):
            started = time.perf_counter()
            demos = particle_oracle(EPISODES, seed=0, n_dim=n_dim, goal_order=goal_order)
            rows.append({"n_dim": n_dim, "goal_order": goal_order, "episodes": EPISODES,
                         "seconds": round(time.perf_counter() - started, 3),
                         "oracle_success_rate": demos.metadata["oracle_success_rate"]})
    result = {"benchmark": "particle_oracle_timing", "threads": 1, "cpu": platform.processor() or platform.machine(),
              "rows": rows}
    text = json.dumps(result, indent=2)
    Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
    Path("benchmarks/results/particle_oracle_timing.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
