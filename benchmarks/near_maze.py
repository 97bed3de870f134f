"""NEAR on the maze vs PPO on the sparse task reward alone (and AMP, CEM), same policy budget,
several seeds.

For each seed: `imitate train maze energy` (oracle demos + energy model), then
`imitate train maze near energy=RUN`; `imitate train maze ppo` and `imitate train maze amp` as
baselines; `imitate train maze cem energy=RUN` plans with that seed's energy model (trained
here if NEAR is not in the list). Each run ends with an evaluation over `eval_episodes`
(default 100) deterministic episodes, which also reports `demo_distance`: the mean distance (arena
units) from visited states to the nearest demonstrated state. Runs go two at a time (the
machine has two cores). Prints one JSON object and writes a markdown table.

    python benchmarks/near_maze.py --seeds 0,1,2 --algos near,ppo --out benchmarks/results/near_maze
    python benchmarks/near_maze.py --algos amp,cem --out benchmarks/results/maze_amp_cem
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

from _meta import finish, record  # noqa: E402  (benchmarks/ is on sys.path when a script runs)


def imitate(*args: str) -> dict:
    """Run one `imitate train` and return its metrics plus the run directory."""
    env = {**os.environ, "IMITATE_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "train", *args, "progress=false"], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"imitate train {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    run_dir = next(line[5:] for line in proc.stdout.splitlines() if line.startswith("run: "))
    return {"run": run_dir, **json.loads(proc.stdout.strip().splitlines()[-1])}


def row(algo: str, seed: int, metrics: dict, start: float, **extra) -> dict:
    return {
        "seed": seed,
        "algo": algo,
        "success_rate": metrics["success_rate"],
        "episode_length": metrics["episode_length"],
        "demo_distance": metrics.get("demo_distance", float("nan")),
        "policy_seconds": metrics.get("train_seconds", 0.0),
        "total_seconds": round(time.time() - start, 1),
        "env_steps": metrics.get("env_steps", 0),
        "run": metrics["run"],
        **extra,
    }


def energy_seed(seed: int, out_dir: str) -> dict:
    return imitate("maze", "energy", f"seed={seed}", f"out_dir={out_dir}")


def near_seed(seed: int, out_dir: str, extra: list[str]) -> dict:
    start = time.time()
    energy = energy_seed(seed, out_dir)
    near = imitate("maze", "near", f"energy={energy['run']}", f"seed={seed}", f"out_dir={out_dir}", *extra)
    return row("near", seed, near, start, energy_seconds=energy["train_seconds"], energy_run=energy["run"])


def baseline(algo: str):
    def run(seed: int, out_dir: str, extra: list[str]) -> dict:
        start = time.time()
        return row(algo, seed, imitate("maze", algo, f"seed={seed}", f"out_dir={out_dir}", *extra), start)

    return run


def cem_seed(seed: int, out_dir: str, extra: list[str]) -> dict:
    """CEM plans with this seed's energy model; it has no policy to train, so no overrides."""
    start = time.time()
    found = sorted(Path(out_dir, "maze", "energy").glob(f"*-{seed}"))
    energy_run = str(found[-1]) if found else energy_seed(seed, out_dir)["run"]
    return row(
        "cem",
        seed,
        imitate("maze", "cem", f"energy={energy_run}", f"seed={seed}", f"out_dir={out_dir}"),
        start,
        energy_run=energy_run,
    )


def near_success_bonus() -> float:
    """What NEAR pays on a success termination beyond its task term, in units of PPO's task reward.

    NEAR's reward there is w_task·r_task + w_energy·r_energy + w_energy·γ/(1−γ) (the absorbing
    state, ``absorbing_success``). PPO's reward is r_task (+ success_bonus), and PPO normalises
    advantages and values, so what matters is the bonus relative to the task reward: we give PPO
    (w_energy/w_task)·γ/(1−γ), read from NEAR's resolved maze config (99 with the defaults)."""
    from imitate.runner import resolve_config

    near = resolve_config("maze", "near", {})
    ppo = resolve_config("maze", "ppo", {})
    if ppo.gamma != near.gamma:
        raise RuntimeError(f"maze presets disagree on gamma: ppo {ppo.gamma}, near {near.gamma}")
    if not near.absorbing_success or near.gamma >= 1:
        return 0.0
    return round(near.w_energy / near.w_task * near.gamma / (1 - near.gamma), 9)


def ppo_bonus_seed(seed: int, out_dir: str, extra: list[str]) -> dict:
    """PPO on the task reward plus NEAR's success value (see near_success_bonus)."""
    start = time.time()
    bonus = near_success_bonus()
    metrics = imitate(
        "maze",
        "ppo",
        f"success_bonus={bonus!r}",
        f"seed={seed}",
        f"out_dir={Path(out_dir, RUN_DIRS['ppo-bonus'][0])}",
        *extra,
    )
    return row("ppo-bonus", seed, metrics, start, success_bonus=bonus)


RUNNERS = {
    "near": near_seed,
    "ppo": baseline("ppo"),
    "ppo-bonus": ppo_bonus_seed,
    "amp": baseline("amp"),
    "cem": cem_seed,
}
# Rows whose runs are not under out_dir/maze/<algo>: (subdirectory of out_dir, the algo they train).
RUN_DIRS = {"ppo-bonus": ("ppo-bonus", "ppo")}


def summarise(rows: list[dict], algo: str) -> dict:
    mine = [r for r in rows if r["algo"] == algo]
    out = {}
    for key in ("success_rate", "episode_length", "demo_distance", "total_seconds"):
        values = [r[key] for r in mine if r[key] == r[key]]  # CEM has no demo distance (NaN)
        out[key] = (
            {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
            if values
            else {"mean": float("nan"), "std": float("nan")}
        )
    return out


def collected(algo: str, seed: int, out_dir: str) -> dict:
    """A row from a finished run already on disk (``--collect``), without training again."""
    sub, trained = RUN_DIRS.get(algo, ("", algo))
    found = [d for d in sorted(Path(out_dir, sub, "maze", trained).glob(f"*-{seed}")) if (d / "metrics.json").is_file()]
    if not found:
        raise RuntimeError(f"--collect: no finished {algo} run for seed {seed} under {out_dir}")
    metrics = {**json.loads((found[-1] / "metrics.json").read_text()), "run": str(found[-1])}
    seconds = metrics.get("train_seconds", 0.0) + metrics.get("plan_seconds", 0.0)
    return {**row(algo, seed, metrics, time.time()), "total_seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="benchmarks/results/near_maze")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--algos",
        default="near,ppo",
        help="comma list of near, ppo, ppo-bonus, amp, cem (cem runs last); ppo-bonus: "
        "ppo with success_bonus = NEAR's success value (see near_success_bonus)",
    )
    parser.add_argument(
        "--collect",
        action="store_true",
        help="do not train: rebuild the table from finished runs under --out (wall time = train/plan seconds)",
    )
    parser.add_argument("overrides", nargs="*", help="key=value for both policy runs (e.g. total_steps=500000)")
    args = parser.parse_args()
    meta = record()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    runs_dir = str(out / "runs")
    algos = args.algos.split(",")
    jobs = [(RUNNERS[a], s) for a in algos if a != "cem" for s in seeds]
    if args.collect:
        rows = [collected(a, s, runs_dir) for a in algos for s in seeds]
        jobs, algos_to_plan = [], []
    else:
        algos_to_plan = algos
    with ThreadPoolExecutor(args.workers) as pool:
        if jobs:
            rows = list(pool.map(lambda job: job[0](job[1], runs_dir, args.overrides), jobs))
        elif not args.collect:
            rows = []
        if "cem" in algos_to_plan:  # after NEAR, so it reuses NEAR's energy models
            rows += list(pool.map(lambda s: cem_seed(s, runs_dir, []), seeds))
    for r in rows:
        r.setdefault("commit", meta["commit"] if not args.collect else None)
    previous = out / "results.json"
    invocations = []
    if previous.is_file():  # keep other algorithms' rows from an earlier invocation
        done = {(r["algo"], r["seed"]) for r in rows}
        earlier = json.loads(previous.read_text())
        rows = [r for r in earlier["runs"] if (r["algo"], r["seed"]) not in done] + rows
        invocations = earlier.get("meta", [])
    algos = list(dict.fromkeys(r["algo"] for r in rows))
    # One entry per invocation that wrote rows here; each row names the commit it ran at (rows
    # without one predate this record).
    invocations.append({**finish(meta), "algos": args.algos.split(","), "collect": args.collect})
    result = {
        "benchmark": "near_maze",
        "meta": invocations,
        "seeds": sorted({r["seed"] for r in rows}),
        "overrides": args.overrides,
        **{a: summarise(rows, a) for a in algos},
        "runs": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=2))
    lines = [
        "| algo | seed | success rate | episode length | demo distance | wall time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['algo']} | {r['seed']} | {r['success_rate']:.2f} | {r['episode_length']:.1f} | "
            f"{r['demo_distance']:.1f} | {r['total_seconds']:.0f} |"
        )
    for algo in algos:
        s = result[algo]
        lines.append(
            f"| **{algo}** | mean ± std | {s['success_rate']['mean']:.2f} ± {s['success_rate']['std']:.2f} | "
            f"{s['episode_length']['mean']:.1f} ± {s['episode_length']['std']:.1f} | "
            f"{s['demo_distance']['mean']:.1f} ± {s['demo_distance']['std']:.1f} | "
            f"{s['total_seconds']['mean']:.0f} ± {s['total_seconds']['std']:.0f} |"
        )
    lines.append("")
    lines.append(
        "Policy runs: same env-step budget (preset total_steps); cem has no policy and plans "
        "with its seed's energy model; ppo-bonus is ppo with success_bonus = NEAR's success value "
        "(benchmarks/near_maze.py near_success_bonus). Wall times are per run; commits, commands and "
        'load averages are under "meta" in results.json.'
    )
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
