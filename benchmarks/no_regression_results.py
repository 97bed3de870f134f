"""Learning results of this tree against a git worktree of an earlier commit: same commands,
same seeds, at shortened budgets, old and new trees run side by side (one process each).

Every run is `imitate train TASK ALGO seed=S ...` in each tree; the metrics its evaluation
writes are compared. The issue that introduced the term-table envs requires each success rate
within ±0.05 of before; identical numbers (not only close ones) mean the refactor changed no
step of training or evaluation. The budgets are shortened from the presets (stated per case in
the output) so that the whole comparison runs in about half an hour on two cores.

    python benchmarks/no_regression_results.py --before 3fca76b
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _meta import ROOT, finish, record

TIMING = (
    "train_seconds",
    "eval_seconds",
    "policy_seconds",
    "total_seconds",
    "energy_seconds",
    "plan_seconds",
    "seconds_per_episode",
)  # wall-clock figures: never equal between two runs
# (task, algo, seeds, overrides): shortened budgets of the README's figures.
CASES = (
    ("maze", "energy", (0, 1, 2), ["iterations=2000"]),
    ("maze", "near", (0, 1, 2), ["total_steps=100000"]),  # with that seed's energy run
    ("maze", "ppo", (0, 1, 2), ["total_steps=100000"]),
    ("maze", "amp", (0, 1, 2), ["total_steps=100000"]),
    ("maze", "cem", (0,), ["eval_episodes=10"]),
    ("particle", "mse", (0, 1, 2), ["iterations=1000"]),
    ("particle", "ibc-dfo", (0, 1, 2), ["iterations=1000"]),
    ("block-push", "mse", (0,), ["iterations=2000", "demo_episodes=200"]),
    ("pusht", "ppo", (0,), ["total_steps=100000"]),
    ("humanoid-walk", "deepmimic", (0,), ["total_steps=40960", "eval_episodes=20"]),
    ("humanoid-cartwheel", "deepmimic", (0,), ["total_steps=40960", "eval_episodes=20"]),
)


def train(tree: Path, out: Path, task: str, algo: str, seed: int, overrides: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "IMITATE_THREADS": "1"}
    args = [task, algo, f"seed={seed}", f"out_dir={out}", "progress=false", *overrides]
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "train", *args], capture_output=True, text=True, env=env, cwd=tree
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tree}: imitate train {' '.join(args)}: {proc.stderr.strip()[-400:]}")
    run = next(line[5:] for line in proc.stdout.splitlines() if line.startswith("run: "))
    return {"run": run, **json.loads(proc.stdout.strip().splitlines()[-1])}


def compare(old: dict, new: dict) -> dict:
    keys = sorted(k for k in set(old) & set(new) if isinstance(old[k], (int, float)) and k not in TIMING)
    return {
        "identical": all(old[k] == new[k] for k in keys),
        "compared": keys,
        "success_rate": [old.get("success_rate"), new.get("success_rate")],
        "differs": {k: [old[k], new[k]] for k in keys if old[k] != new[k]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="3fca76b")
    parser.add_argument("--out", default="benchmarks/results/no_regression_results.json")
    args = parser.parse_args()
    meta = record()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old_tree), args.before], cwd=ROOT, check=True)
        energy: dict[tuple[str, int], list[str]] = {}
        try:
            with ThreadPoolExecutor(2) as pool:
                for task, algo, seeds, overrides in CASES:
                    for seed in seeds:
                        extra = list(overrides)
                        sides = {}
                        for side, tree in (("before", old_tree), ("after", ROOT)):
                            more = [f"energy={energy[(side, seed)]}"] if algo in ("near", "cem") else []
                            out = Path(tmp) / side / "runs"
                            sides[side] = pool.submit(train, tree, out, task, algo, seed, extra + more)
                        result = {side: f.result() for side, f in sides.items()}
                        if algo == "energy":
                            for side in result:
                                energy[(side, seed)] = result[side]["run"]
                        row = {
                            "task": task,
                            "algo": algo,
                            "seed": seed,
                            "overrides": extra,
                            **compare(result["before"], result["after"]),
                        }
                        rows.append(row)
                        print(
                            f"{task:18s} {algo:10s} seed {seed}: success {row['success_rate']} "
                            f"identical={row['identical']} {row['differs'] or ''}",
                            flush=True,
                        )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, check=False)
    within = [r for r in rows if None not in r["success_rate"]]
    result = {
        "meta": finish(meta),
        "before_commit": args.before,
        "runs": rows,
        "all_identical": all(r["identical"] for r in rows),
        "max_success_rate_change": max(abs(r["success_rate"][1] - r["success_rate"][0]) for r in within),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs" and k != "meta"}))


if __name__ == "__main__":
    main()
