"""NEAR's PPO loop on the humanoid against the DeepMimic tracking PPO loop, samples/s as a
ratio in one run (issue: NEAR ≥ 0.8× tracking at the same number of envs).

Both loops are the on-policy trainer (`algos/on_policy.py`) at the presets' PPO settings, with
`num_envs` and a few iterations overridden; NEAR scores every transition with the energy model
of a step-1 run (the preset's 512-512 net, trained for a few iterations: throughput does not
depend on how well it is trained). The two are measured alternately, `--rounds` times, and the
median of each side is reported.

    python benchmarks/humanoid_near_throughput.py --envs 64,256
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from _meta import finish, record
from imitate.config import apply_overrides
from imitate.registry import get_algo, get_task
from imitate.runner import resolve_config, set_threads


def samples_per_s(task_name: str, algo_name: str, n: int, iterations: int, extra: dict) -> float:
    from imitate.algos.ppo import PPO

    task, algo = get_task(task_name), get_algo(algo_name, task_name)
    cfg = resolve_config(task_name, algo_name, {"progress": "false", **extra}, check_inputs=False)
    cfg = apply_overrides(cfg, {"num_envs": n, "total_steps": n * cfg.rollout_steps * iterations}, "bench")
    env = task.make_env(n, seed=0, cfg=cfg)
    from imitate.registry import resolve

    ppo = PPO(env, cfg, resolve(algo.reward)(task, cfg, env))
    start = time.perf_counter()
    ppo.train()
    rate = ppo.global_step / (time.perf_counter() - start)
    if hasattr(env, "close"):
        env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--envs", default="64,256")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/humanoid_near_throughput.json")
    args = parser.parse_args()
    meta = record()
    set_threads()
    from imitate.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        assert (
            cli(
                ["train", "humanoid", "energy", "iterations=20", "demo_episodes=20", "progress=false", f"out_dir={tmp}"]
            )
            == 0
        )
        energy = str(next(Path(tmp).rglob("config.yaml")).parent)
        rows = []
        for n in map(int, args.envs.split(",")):
            rates: dict[str, list[float]] = {"tracking": [], "near": []}
            for _ in range(args.rounds):
                rates["tracking"].append(samples_per_s("humanoid-walk", "deepmimic", n, args.iterations, {}))
                rates["near"].append(samples_per_s("humanoid", "near", n, args.iterations, {"energy": energy}))
            med = {k: statistics.median(v) for k, v in rates.items()}
            rows.append(
                {
                    "num_envs": n,
                    "tracking_samples_per_s": round(med["tracking"], 1),
                    "near_samples_per_s": round(med["near"], 1),
                    "near_over_tracking": round(med["near"] / med["tracking"], 3),
                    "rounds": {k: [round(r, 1) for r in v] for k, v in rates.items()},
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    result = {
        "benchmark": "humanoid_near_throughput",
        "meta": finish(meta),
        "iterations": args.iterations,
        "results": rows,
        "all_at_least_0.8": all(r["near_over_tracking"] >= 0.8 for r in rows),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
