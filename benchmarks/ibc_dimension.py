"""Success against the particle's dimension N (the IBC paper's Fig. 6, Florence et al. 2021).

Every cell (method, N, seed) is one `imitate train particle ALGO n_dim=N demos=FILE seed=S
iterations=I eval_episodes=E` (`ibc_particle.train_cell`), trained on the same 2000
oracle episodes per N and evaluated on E fresh episodes. The budget may differ per method (a
Langevin step costs about 5 DFO steps) and per N; each cell records its steps and its measured
train / eval seconds. Resumable: each finished cell is written to the JSON (atomically) as it
ends, and a re-run with the same command skips the cells already there with the same budget.

    python benchmarks/ibc_dimension.py                                   # the committed sweep (resumes it)
    python benchmarks/ibc_dimension.py --steps mse=4000,ibc-langevin=1000,ibc-langevin@16=500
    python benchmarks/ibc_dimension.py --cell-seeds ibc-langevin@16=0    # fewer seeds for one cell
    python benchmarks/ibc_dimension.py --plot-only                       # table + plot from the JSON

Writes benchmarks/results/NAME.json, NAME.md (table) and NAME.png (success against N on a log2
axis, with the paper's claim drawn on it); run directories and demos under --out (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from _meta import finish, record
from ibc_particle import make_demos, train_cell
from imitate.utils.io import atomic_savefig, atomic_write, atomic_write_json

ALGOS = ("mse", "mdn", "ibc-dfo", "ibc-langevin", "ibc-ardfo")  # run order (per seed)
DEFAULT_STEPS = "4000"  # the presets'; the sweep's own budget is the --steps default
# The committed sweep (docs/ibc.md#success-against-dimension): ~70 min at one run at a time on the
# loaded 2-core machine. Langevin and ARDFO get 1 seed; ARDFO at N = 1 is plain DFO and is not run.
SWEEP_STEPS = "2000,ibc-dfo=1000,ibc-ardfo=1000,ibc-langevin=1000"
SWEEP_CELL_SEEDS = "ibc-ardfo=0,ibc-langevin=0,ibc-ardfo@1="
# The paper's Fig. 6 as docs/methods.md#ibc states it: the largest N with >= 95% success
# (for plain DFO: it fails beyond N ≈ 5).
PAPER_HOLDS_TO = {"ibc-langevin": 16, "ibc-ardfo": 16, "mse": 8, "ibc-dfo": 5}
COLOURS = {"ibc-langevin": "C0", "ibc-ardfo": "C1", "ibc-dfo": "C2", "mse": "C3", "mdn": "C4"}


def per_cell(spec: str, default: str) -> dict[str, str]:
    """'4000,ibc-langevin=1000,ibc-langevin@16=500' -> {'': '4000', 'ibc-langevin': '1000', ...}."""
    out = {"": default}
    for item in filter(None, spec.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            key, value = "", key
        out[key] = value
    return out


def lookup(table: dict[str, str], algo: str, n_dim: int) -> str:
    """The most specific entry: ALGO@N, then ALGO, then the default."""
    return table.get(f"{algo}@{n_dim}", table.get(algo, table[""]))


def cell_key(row: dict) -> tuple:
    return (row["algo"], row["n_dim"], row["seed"], row["iterations"], row["eval_episodes"])


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def summarise(rows: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        cells.setdefault((r["algo"], r["n_dim"]), []).append(r)
    out = []
    for (algo, n_dim), rs in sorted(cells.items(), key=lambda c: (ALGOS.index(c[0][0]), c[0][1])):
        s = [r["success_rate"] for r in sorted(rs, key=lambda r: r["seed"])]
        out.append(
            {
                "algo": algo,
                "n_dim": n_dim,
                "success_mean": round(statistics.mean(s), 3),
                "success_std": round(statistics.pstdev(s), 3),
                "success_per_seed": s,
                "seeds": sorted(r["seed"] for r in rs),
                "iterations": sorted({r["iterations"] for r in rs}),
                "eval_episodes": sorted({r["eval_episodes"] for r in rs}),
                "train_seconds_mean": round(statistics.mean(r["train_seconds"] for r in rs), 1),
                "eval_seconds_mean": round(statistics.mean(r["eval_seconds"] for r in rs), 1),
            }
        )
    return out


def markdown(table: list[dict]) -> str:
    algos = [a for a in ALGOS if any(c["algo"] == a for c in table)]
    dims = sorted({c["n_dim"] for c in table})
    at = {(c["algo"], c["n_dim"]): c for c in table}

    def cell(c: dict | None) -> str:
        if c is None:
            return "–"
        seeds = " / ".join(f"{s:.2f}" for s in c["success_per_seed"])
        return f"{c['success_mean']:.2f} ± {c['success_std']:.2f} ({seeds})"

    lines = [
        "Success rate on the N-D particle, mean ± std over seeds (per seed in brackets).",
        "",
        "| N | " + " | ".join(algos) + " |",
        "|---|" + "---|" * len(algos),
    ]
    lines += [f"| {d} | " + " | ".join(cell(at.get((a, d))) for a in algos) + " |" for d in dims]
    lines += [
        "",
        "Budget per cell: gradient steps, seeds, evaluation episodes; mean train / eval seconds per run.",
        "",
        "| N | " + " | ".join(algos) + " |",
        "|---|" + "---|" * len(algos),
    ]
    for d in dims:
        parts = []
        for a in algos:
            c = at.get((a, d))
            parts.append(
                "–"
                if c is None
                else f"{'/'.join(map(str, c['iterations']))} steps × {len(c['seeds'])} seeds × "
                f"{'/'.join(map(str, c['eval_episodes']))} ep; "
                f"{c['train_seconds_mean']:.0f} / {c['eval_seconds_mean']:.0f} s"
            )
        lines.append(f"| {d} | " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def plot(table: list[dict], rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    ax.axhline(0.95, color="0.6", lw=0.8, ls=":")
    # The paper's claim as thick bars near the top: >= 0.95 success from N = 1 up to the bar's end.
    for k, (algo, top) in enumerate(PAPER_HOLDS_TO.items()):
        y = 1.08 - 0.03 * k
        ax.plot([1, top], [y, y], color=COLOURS[algo], lw=5, alpha=0.45, solid_capstyle="butt")
        claim = "fails past N ≈ 5" if algo == "ibc-dfo" else f"≥ 0.95 up to N = {top}"
        ax.text(top * 1.06, y, f"paper: {algo} {claim}", fontsize=7, va="center", color=COLOURS[algo])
    for algo in [a for a in ALGOS if any(c["algo"] == a for c in table)]:
        cells = [c for c in table if c["algo"] == algo]
        steps = "/".join(sorted({str(i) for c in cells for i in c["iterations"]}))
        seeds = "/".join(sorted({str(len(c["seeds"])) for c in cells}))
        colour = COLOURS[algo]
        ax.plot(
            [c["n_dim"] for c in cells],
            [c["success_mean"] for c in cells],
            "-o",
            color=colour,
            label=f"{algo} ({steps} steps, {seeds} seed(s))",
        )
        pts = [r for r in rows if r["algo"] == algo]
        ax.scatter([r["n_dim"] for r in pts], [r["success_rate"] for r in pts], s=14, color=colour, alpha=0.35)
    ax.set_xscale("log", base=2)
    dims = sorted({c["n_dim"] for c in table} | {1, 16})
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.set_xlim(0.85, max(dims) * 2.6)
    ax.set_ylim(-0.02, 1.11)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.text(max(dims) * 2.5, 0.945, "0.95", fontsize=7, ha="right", va="top", color="0.4")
    ax.set_xlabel("particle dimension N (log2 axis)")
    ax.set_ylabel("success rate (100 episodes per run)")
    ax.set_title("N-D particle: success against N (lines: mean over seeds, dots: single seeds)", fontsize=10)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)


def write(result: dict, base: Path) -> None:
    """JSON, table and plot, each atomically; called after every cell."""
    result["table"] = summarise(result["rows"])
    atomic_write_json(base.with_suffix(".json"), result)
    atomic_write(base.with_suffix(".md"), lambda f: f.write(markdown(result["table"])), mode="w")
    plot(result["table"], result["rows"], base.with_suffix(".png"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dims", default="1,2,4,8,16")
    p.add_argument("--algos", default=",".join(ALGOS))
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", default=SWEEP_STEPS, help="gradient steps: DEFAULT[,ALGO=I][,ALGO@N=I]...")
    p.add_argument(
        "--cell-seeds", default=SWEEP_CELL_SEEDS, help="seeds of some cells: ALGO=0:1 or ALGO@N=0 (':'-separated)"
    )
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/ibc_dimension"), help="runs and demos")
    p.add_argument("--name", default="ibc_dimension")
    p.add_argument("--plot-only", action="store_true", help="rebuild the table and plot from the JSON")
    p.add_argument("extra", nargs="*", help="extra key=value overrides for every run")
    args = p.parse_args()
    base = Path("benchmarks/results") / args.name
    old = load(base.with_suffix(".json"))
    if args.plot_only:
        write(old, base)
        return
    meta = record()
    steps = per_cell(args.steps, DEFAULT_STEPS)
    cell_seeds = per_cell(args.cell_seeds.replace(":", ";"), args.seeds.replace(",", ";"))
    dims = [int(d) for d in args.dims.split(",")]
    algos = [a for a in args.algos.split(",") if a]
    jobs = [
        (a, d, int(s), int(lookup(steps, a, d)))
        for s in args.seeds.split(",")
        for a in algos
        for d in dims
        if s in lookup(cell_seeds, a, d).split(";")
    ]
    done = {cell_key(r): r for r in old.get("rows", []) if r.get("extra", []) == args.extra}
    result = {
        "benchmark": "ibc_dimension",
        "meta": meta,
        "earlier_sessions": old.get("earlier_sessions", []) + ([old["meta"]] if "meta" in old else []),
        "setup": {
            "demo_episodes": 2000,
            "threads_per_run": 1,
            "parallel_runs": 1,
            "preset": "src/imitate/configs/particle.yaml",
            "steps": steps,
            "cell_seeds": args.cell_seeds,
            "extra": args.extra,
        },
        "paper_holds_to": PAPER_HOLDS_TO,
        "rows": list(done.values()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    todo = [j for j in jobs if (*j[:3], j[3], args.episodes) not in done]
    print(f"{len(jobs)} cells, {len(jobs) - len(todo)} finished earlier, {len(todo)} to run", file=sys.stderr)
    for algo, n_dim, seed, iterations in todo:
        demos = make_demos(n_dim, "fixed", args.out)
        row = train_cell(algo, n_dim, seed, demos, iterations, args.episodes, args.out, extra=args.extra) | {
            "extra": args.extra,
            "load_avg_end": [round(x, 2) for x in os.getloadavg()],
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        print(row, file=sys.stderr, flush=True)
        result["rows"] = [r for r in result["rows"] if cell_key(r)[:3] != (algo, n_dim, seed)] + [row]
        result["meta"] = finish(meta)  # wall time and load so far; final at the end
        write(result, base)
    result["meta"] = finish(meta)
    write(result, base)


if __name__ == "__main__":
    main()
