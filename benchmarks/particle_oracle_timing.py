"""How long `imitate data particle` takes: 2000 oracle episodes per dimension and goal order.

Times `particle_oracle` (the function behind `imitate data particle`) with 1 torch thread, after
one small warm-up call, and the whole command once (Python and torch start-up included); prints
one JSON object and also writes benchmarks/results/particle_oracle_timing.json.

    python benchmarks/particle_oracle_timing.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _meta import finish, record
from imitate.oracles.particle import particle_oracle

EPISODES = 2000


def main() -> None:
    meta = record()
    torch.set_num_threads(1)
    particle_oracle(10, seed=0)  # warm-up: imports and first-call allocations
    rows = []
    for goal_order in ("fixed", "either"):
        for n_dim in (2, 4, 8, 16):
            started = time.perf_counter()
            demos = particle_oracle(EPISODES, seed=0, n_dim=n_dim, goal_order=goal_order)
            rows.append(
                {
                    "n_dim": n_dim,
                    "goal_order": goal_order,
                    "episodes": EPISODES,
                    "seconds": round(time.perf_counter() - started, 3),
                    "oracle_success_rate": demos.metadata["oracle_success_rate"],
                }
            )
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "imitate.cli", "data", "particle", "--out", f"{tmp}/p.npz", "--no-progress"],
            check=True,
            capture_output=True,
        )
        command_seconds = round(time.perf_counter() - started, 2)
    result = {
        "benchmark": "particle_oracle_timing",
        "meta": finish(meta),
        "threads": 1,
        "cpu": platform.processor() or platform.machine(),
        "rows": rows,
        "command": "imitate data particle (2000 episodes, N = 2)",
        "command_seconds": command_seconds,
    }
    text = json.dumps(result, indent=2)
    Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
    Path("benchmarks/results/particle_oracle_timing.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
