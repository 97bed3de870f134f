"""NEAR vs AMP vs PPO-on-the-task-reward on the humanoid (imitation from observation), with
DeepMimic tracking of the same clip as a reference point, through `imitate train` and
`imitate eval` only, so every figure can be replayed from its run directory.

For each motion and seed: `imitate train humanoid energy motion=M` (NEAR step 1), then
`near energy=RUN`, `amp` and `ppo` with the same `total_steps`, and `deepmimic` on
`humanoid-walk` with the motion's main clip. A run that exists with a checkpoint is resumed
(`resume=RUN`) instead of started again, so a long grid continues across sessions; a finished
run is only evaluated. Each run's metrics (NEAR's motion metrics: pose error by DTW, SPARC,
root speed/acceleration/jerk, distance, falls, top-20 beside all episodes) go into one JSON,
rewritten (atomically) after every run and merged with the rows an earlier invocation left there,
so a grid stopped by the end of a session keeps what it finished.

    python benchmarks/humanoid_imitation.py --motions walk --seeds 0,1,2 --total-steps 10000000 \
        --out benchmarks/results/humanoid_imitation_10m
    python benchmarks/humanoid_imitation.py --plot-only --out benchmarks/results/humanoid_imitation_10m

``--plot-only`` draws ``curves_<motion>.png`` beside the JSON: episode length and task return
against samples, mean ± std over seeds per algorithm, from the runs' ``progress.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _meta import finish, record
from imitate.utils.io import atomic_write_json

CLIPS = {
    "walk": "humanoid3d_walk",
    "run": "humanoid3d_run",
    "spinkick": "humanoid3d_spinkick",
    "punch": "humanoid3d_punch",
}
KEYS = (
    "success_rate",
    "fall_rate",
    "episode_length",
    "return",
    "motion_distance_m",
    "motion_pose_error_dtw_m",
    "motion_top20_pose_error_dtw_m",
    "motion_root_speed_m_s",
    "motion_root_acc_m_s2",
    "motion_root_jerk_m_s3",
    "motion_sparc_root_vel_axes",
    "train_seconds",
    "env_steps",
    "motion_clip_root_speed_m_s",
    "motion_clip_sparc_root_vel_axes",
)


def imitate(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "imitate.cli", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"imitate {' '.join(args)}: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_dir(out: Path, task: str, algo: str) -> Path | None:
    runs = sorted(p.parent for p in (out / task / algo).glob("*/config.yaml"))
    return runs[-1] if runs else None


def train(out: Path, task: str, algo: str, args: list[str]) -> tuple[Path, dict]:
    """Train (or resume, or only evaluate a finished run) one run under ``out``."""
    existing = run_dir(out, task, algo)
    if existing is not None and (existing / "metrics.json").is_file():
        return existing, imitate("eval", str(existing))
    if existing is not None:
        imitate("train", task, algo, f"resume={existing}")
    else:
        imitate("train", task, algo, *args, f"out_dir={out}", "progress=false")
    found = run_dir(out, task, algo)
    assert found is not None
    return found, json.loads((found / "metrics.json").read_text())


CURVE_KEYS = ("episode/length", "episode/task_return")  # what every algorithm here logs, so that they compare


def plot_curves(rows: list[dict], group: str, path_of) -> list[Path]:
    """Episode length and task return against samples, the mean ± std over seeds of each
    algorithm, one figure per value of ``group`` (the motion, or a goal benchmark's part), at
    ``path_of(value)``. Reads each row's run directory (``progress.jsonl``), so it works on the
    committed runs without their checkpoints. The DeepMimic reference is left out: its episodes
    (up to 300 steps) and its tracking reward would flatten the three compared methods' curves."""
    from imitate.utils.run import Run
    from imitate.viz.curves import plot_curves_with_spread

    made = []
    for value in dict.fromkeys(r[group] for r in rows):
        groups: dict[str, list[list[dict]]] = {}
        for r in rows:
            if r[group] == value and r["algo"] != "deepmimic" and Path(r["run"]).is_dir():
                groups.setdefault(r["algo"], []).append(Run.open(r["run"]).read_progress())
        title = f"{value}: mean ± std over seeds (deterministic evaluation is in results.json)"
        path = plot_curves_with_spread(groups, list(CURVE_KEYS), path_of(value), title=title)
        if path is not None:
            made.append(path)
    return made


def write_merged(path: Path, key, rows: dict[tuple, dict], header: dict, meta: dict) -> None:
    """Rewrite the results file (atomically) with this invocation's ``rows`` over the rows already
    there (re-read before each write, so invocations running side by side keep each other's rows).
    ``meta`` stays the first invocation's; each later one's (commit, command, load) is kept in
    ``meta_later_invocations``, this invocation's replacing its own earlier entry."""
    earlier = json.loads(path.read_text()) if path.is_file() else {}
    merged = {key(r): r for r in earlier.get("runs", [])} | rows
    metas = [earlier["meta"], *earlier.get("meta_later_invocations", [])] if earlier else []
    metas = [m for m in metas if m.get("started_utc") != meta["started_utc"]] + [finish(meta)]
    out = {**header, "meta": metas[0], "meta_later_invocations": metas[1:], "runs": list(merged.values())}
    atomic_write_json(path, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--motions", default="walk")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--algos", default="near,amp,ppo,deepmimic")
    parser.add_argument("--total-steps", type=int, default=1_500_000)
    parser.add_argument("--energy-iterations", type=int, default=20_000)
    parser.add_argument("--out", default="benchmarks/results/humanoid_imitation")
    parser.add_argument("--plot-only", action="store_true", help="only draw curves_<motion>.png from the results JSON")
    args = parser.parse_args()
    results_path = Path(args.out) / "results.json"
    if args.plot_only:
        rows = json.loads(results_path.read_text())["runs"]
        for path in plot_curves(rows, "motion", lambda m: Path(args.out) / f"curves_{m}.png"):
            print(path)
        return
    meta = record()
    rows: dict[tuple, dict] = {}  # this invocation's runs
    for motion in args.motions.split(","):
        for seed in map(int, args.seeds.split(",")):
            out = Path(args.out) / "runs" / f"{motion}-{seed}"
            common = [f"seed={seed}", f"total_steps={args.total_steps}"]
            energy = None
            for algo in args.algos.split(","):
                if algo == "near" and energy is None:
                    energy, _ = train(
                        out,
                        "humanoid",
                        "energy",
                        [f"seed={seed}", f"motion={motion}", f"iterations={args.energy_iterations}"],
                    )
                if algo == "deepmimic":
                    path, metrics = train(out, "humanoid-walk", "deepmimic", [*common, f"clip={CLIPS[motion]}"])
                else:
                    extra = [f"energy={energy}"] if algo == "near" else []
                    path, metrics = train(out, "humanoid", algo, [*common, f"motion={motion}", *extra])
                row = {
                    "motion": motion,
                    "seed": seed,
                    "algo": algo,
                    "run": str(path),
                    "commit": meta["commit"],  # each invocation may be another (rows merge across them)
                    **{k: metrics.get(k) for k in KEYS},
                }
                rows[(motion, seed, algo)] = row
                print(json.dumps(row), flush=True)
                header = {
                    "benchmark": "humanoid_imitation",
                    "total_steps": args.total_steps,
                    "energy_iterations": args.energy_iterations,
                }
                write_merged(results_path, lambda r: (r["motion"], r["seed"], r["algo"]), rows, header, meta)


if __name__ == "__main__":
    main()
