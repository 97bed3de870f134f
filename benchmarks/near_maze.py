"""NEAR on the maze vs PPO on the sparse task reward alone, same policy budget, several seeds.

For each seed: `imitate train maze energy` (oracle demos + energy model), then
`imitate train maze near energy=RUN`, and `imitate train maze ppo` as the baseline. Each run
ends with an evaluation over `eval_episodes` (default 100) deterministic episodes. Runs go two at
a time (the machine has two cores). Prints one JSON object and writes a markdown table.

    python benchmarks/near_maze.py --seeds 0,1,2 --out benchmarks/results/near_maze
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def imitate(*args: str) -> dict:
    """Run one `imitate train` and return its metrics plus the run directory."""
    env = {**os.environ, "IMITATE_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "imitate.cli", "train", *args, "progress=false"],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"imitate train {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    run_dir = next(line[5:] for line in proc.stdout.splitlines() if line.startswith("run: "))
    return {"run": run_dir, **json.loads(proc.stdout.strip().splitlines()[-1])}


def near_seed(seed: int, out_dir: str, extra: list[str]) -> dict:
    start = time.time()
    energy = imitate("maze", "energy", f"seed={seed}", f"out_dir={out_dir}")
    near = imitate("maze", "near", f"energy={energy['run']}", f"seed={seed}", f"out_dir={out_dir}", *extra)
    return {"seed": seed, "algo": "near", "success_rate": near["success_rate"],
            "episode_length": near["episode_length"], "energy_seconds": energy["train_seconds"],
            "policy_seconds": near["train_seconds"], "total_seconds": round(time.time() - start, 1),
            "env_steps": near["env_steps"], "run": near["run"], "energy_run": energy["run"]}


def ppo_seed(seed: int, out_dir: str, extra: list[str]) -> dict:
    start = time.time()
    ppo = imitate("maze", "ppo", f"seed={seed}", f"out_dir={out_dir}", *extra)
    return {"seed": seed, "algo": "ppo", "success_rate": ppo["success_rate"],
            "episode_length": ppo["episode_length"], "policy_seconds": ppo["train_seconds"],
            "total_seconds": round(time.time() - start, 1), "env_steps": ppo["env_steps"], "run": ppo["run"]}


def summarise(rows: list[dict], algo: str) -> dict:
    mine = [r for r in rows if r["algo"] == algo]
    out = {}
    for key in ("success_rate", "episode_length", "total_seconds"):
        values = [r[key] for r in mine]
        out[key] = {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="benchmarks/results/near_maze")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("overrides", nargs="*", help="key=value for both policy runs (e.g. total_steps=500000)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    runs_dir = str(out / "runs")
    jobs = [(near_seed, s) for s in seeds] + [(ppo_seed, s) for s in seeds]
    with ThreadPoolExecutor(args.workers) as pool:
        rows = list(pool.map(lambda job: job[0](job[1], runs_dir, args.overrides), jobs))
    result = {"benchmark": "near_maze", "seeds": seeds, "overrides": args.overrides,
              "near": summarise(rows, "near"), "ppo": summarise(rows, "ppo"), "runs": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    lines = ["| algo | seed | success rate | episode length | wall time (s) |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['algo']} | {r['seed']} | {r['success_rate']:.2f} | {r['episode_length']:.1f} | {r['total_seconds']:.0f} |")
    for algo in ("near", "ppo"):
        s = result[algo]
        lines.append(f"| **{algo}** | mean ± std | {s['success_rate']['mean']:.2f} ± {s['success_rate']['std']:.2f} | "
                     f"{s['episode_length']['mean']:.1f} ± {s['episode_length']['std']:.1f} | "
                     f"{s['total_seconds']['mean']:.0f} ± {s['total_seconds']['std']:.0f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
