"""Maze env throughput: env-steps/s at several batch sizes, against the raw physics rate.

"raw physics" is the PD integration and wall push-out alone (what any maze step must do);
"env step" adds actions, success/time-limit checks, auto-reset and the transition features.
Prints one JSON object; rerun with `python benchmarks/maze_env_throughput.py`.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

from _meta import finish, record
from _timing import rate
from imitate.tasks.maze import MazeEnv, action_to_target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="64,256,1024,4096")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/maze_env_throughput.json")
    args = parser.parse_args()
    meta = record()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    rows = []
    for n in map(int, args.sizes.split(",")):
        env = MazeEnv(n, seed=0)
        env.reset()
        g = torch.Generator().manual_seed(0)
        actions = torch.rand(n, 2, generator=g) * 2 - 1

        def physics():  # the engine alone: PD sub-steps and wall push-out (sim/pointmass.py)
            env.sim.step(action_to_target(actions))

        raw = rate(physics, args.steps, n)
        full = rate(lambda: env.step(actions), args.steps, n)
        rows.append(
            {
                "num_envs": n,
                "raw_physics_steps_per_s": round(raw),
                "env_steps_per_s": round(full),
                "env_over_raw": round(full / raw, 3),
            }
        )
    result = {
        "benchmark": "maze_env_throughput",
        "meta": finish(meta),
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
