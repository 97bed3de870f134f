"""IBC on the N-D particle (Florence et al. 2021): IBC-DFO, IBC-Langevin, MSE and MDN at one CPU budget.

Part 1: 2-D, all four methods, several seeds. Part 2: success against dimension N for the
methods in --dim-algos. Every run is `imitate train particle ALGO n_dim=N demos=FILE seed=S
iterations=I` with the preset in configs/particle.yaml (same trunk for every method), trained on
the same 2000 oracle episodes per N and evaluated on --episodes fresh episodes. The CPU budget is
stated in the output: gradient steps per run, threads, and measured train/eval seconds.

    python benchmarks/ibc_particle.py                      # full: 3 seeds, N = 2, 4, 8, 16
    python benchmarks/ibc_particle.py --quick              # a reduced check (1 seed, fewer steps)
    python benchmarks/ibc_particle.py --goal-order either --dims 2   # IBC's multimodal oracle

Prints one JSON object and writes benchmarks/results/ibc_particle.json (+ .md table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _meta import finish, record

ALGOS = ("ibc-dfo", "ibc-langevin", "mse", "mdn")
PUBLISHED_2D = {"ibc": 0.96, "mse": 0.05}  # IBC README's one short 2-D run, not a paper result (docs/methods.md#ibc)


def imitate(*args: str) -> dict:
    """One `imitate train particle ...`; returns its metrics plus the run directory."""
    env = {**os.environ, "IMITATE_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "train", "particle", *args, "progress=false"],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"imitate train particle {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    run_dir = next(line[5:] for line in proc.stdout.splitlines() if line.startswith("run: "))
    return {"run": run_dir, **json.loads(proc.stdout.strip().splitlines()[-1])}


def make_demos(n_dim: int, goal_order: str, out: Path) -> Path:
    path = out / (f"demos_{n_dim}d.npz" if goal_order == "fixed" else f"demos_{n_dim}d_{goal_order}.npz")
    if not path.is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "imitate.cli",
                "data",
                "particle",
                f"n_dim={n_dim}",
                f"goal_order={goal_order}",
                "--episodes",
                "2000",
                "--out",
                str(path),
                "--no-progress",
            ],
            check=True,
        )
    return path


def train_cell(
    algo: str,
    n_dim: int,
    seed: int,
    demos: Path,
    iterations: int,
    episodes: int,
    out: Path,
    goal_order: str = "fixed",
    extra: list[str] | tuple[str, ...] = (),
) -> dict:
    """One run of one method at one N and seed; its metrics as a result row."""
    m = imitate(
        algo,
        f"n_dim={n_dim}",
        f"goal_order={goal_order}",
        f"seed={seed}",
        f"demos={demos}",
        f"iterations={iterations}",
        f"eval_episodes={episodes}",
        f"out_dir={out / 'runs'}",
        *extra,
    )
    return {
        "algo": algo,
        "n_dim": n_dim,
        "seed": seed,
        "success_rate": m["success_rate"],
        "train_seconds": m["train_seconds"],
        "eval_seconds": m["eval_seconds"],
        "iterations": m["iterations"],
        "eval_episodes": m["episodes"],
        "final_loss": m["final_loss"],
        "run": m["run"],
    }


def one(algo: str, n_dim: int, seed: int, demos: Path, args) -> dict:
    row = train_cell(algo, n_dim, seed, demos, args.iterations, args.episodes, args.out, args.goal_order, args.extra)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def summarise(rows: list[dict]) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(f"{r['n_dim']}d", {}).setdefault(r["algo"], []).append(r)
    table = {}
    for dim, algos in out.items():
        table[dim] = {}
        for algo, rs in algos.items():
            s = [r["success_rate"] for r in rs]
            table[dim][algo] = {
                "success_mean": round(statistics.mean(s), 3),
                "success_std": round(statistics.pstdev(s), 3),
                "seeds": len(s),
                "train_seconds_mean": round(statistics.mean(r["train_seconds"] for r in rs), 1),
                "eval_seconds_mean": round(statistics.mean(r["eval_seconds"] for r in rs), 1),
            }
    return table


def markdown(table: dict, budget: dict) -> str:
    algos = [a for a in ALGOS if any(a in t for t in table.values())]
    lines = [
        f"Particle (goal order: {budget['goal_order']}), success rate "
        f"(mean ± std over seeds, {budget['eval_episodes']} episodes each); "
        f"{budget['iterations']} gradient steps per run, {budget['threads']} CPU thread.",
        "",
        "| N | " + " | ".join(algos) + " |",
        "|---|" + "---|" * len(algos),
    ]
    for dim in sorted(table, key=lambda d: int(d[:-1])):
        cells = [
            f"{table[dim][a]['success_mean']:.2f} ± {table[dim][a]['success_std']:.2f}" if a in table[dim] else "–"
            for a in algos
        ]
        lines.append(f"| {dim[:-1]} | " + " | ".join(cells) + " |")
    lines += ["", "Mean train / eval seconds per run:", ""]
    for dim in sorted(table, key=lambda d: int(d[:-1])):
        lines.append(
            f"- {dim}: "
            + ", ".join(
                f"{a} {v['train_seconds_mean']:.0f} / {v['eval_seconds_mean']:.0f} s" for a, v in table[dim].items()
            )
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--iterations", type=int, default=4000)
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--dims", default="2,4,8,16", help="dimensions of part 2 (2 is part 1)")
    p.add_argument("--algos", default=",".join(ALGOS), help="methods of part 1 (2-D)")
    p.add_argument("--dim-algos", default="ibc-dfo,mse,mdn", help="methods of part 2 (N > 2)")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel (one thread each)")
    p.add_argument("--quick", action="store_true", help="1 seed, 1500 steps, N = 2 (all) and 8 (ibc-dfo, mse)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/ibc_particle"))
    p.add_argument("--name", default="", help="result file name (default ibc_particle, or ibc_particle_quick)")
    p.add_argument(
        "--goal-order",
        choices=("fixed", "either"),
        default="fixed",
        help="either: IBC's multimodal oracle (random goal order per episode)",
    )
    p.add_argument("extra", nargs="*", help="extra key=value overrides for every run")
    args = p.parse_args()
    meta = record()
    if args.quick:
        args.seeds, args.iterations, args.dims, args.dim_algos = "0", 1500, "2,8", "ibc-dfo,mse"
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    dims = [int(d) for d in args.dims.split(",")]
    jobs = [(a, 2, s) for a in args.algos.split(",") if a for s in seeds]
    jobs += [(a, d, s) for d in dims if d != 2 for a in args.dim_algos.split(",") for s in seeds]
    demos = {d: make_demos(d, args.goal_order, args.out) for d in sorted({j[1] for j in jobs})}
    started = time.time()
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda j: one(j[0], j[1], j[2], demos[j[1]], args), jobs))
    budget = {
        "iterations": args.iterations,
        "eval_episodes": args.episodes,
        "threads": 1,
        "parallel_runs": args.jobs,
        "demo_episodes": 2000,
        "goal_order": args.goal_order,
        "wall_seconds": round(time.time() - started, 1),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "preset": "src/imitate/configs/particle.yaml",
        "extra": args.extra,
    }
    table = summarise(rows)
    result = {
        "benchmark": "ibc_particle",
        "meta": finish(meta),
        "budget": budget,
        "table": table,
        "published_2d": PUBLISHED_2D,
        "rows": rows,
    }
    name = args.name or ("ibc_particle_quick" if args.quick else "ibc_particle")
    name += "" if args.goal_order == "fixed" or args.name else f"_{args.goal_order}"
    (args.out / f"{name}.md").write_text(markdown(table, budget))
    text = json.dumps(result, indent=2)
    Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
    Path(f"benchmarks/results/{name}.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
