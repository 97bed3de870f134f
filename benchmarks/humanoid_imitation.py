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


def earlier_rows(path: Path) -> dict[tuple, dict]:
    """The rows already in the results file, re-read before each write so that invocations
    running side by side (other seeds, other motions) keep each other's rows."""
    runs = json.loads(path.read_text())["runs"] if path.is_file() else []
    return {(r["motion"], r["seed"], r["algo"]): r for r in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--motions", default="walk")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--algos", default="near,amp,ppo,deepmimic")
    parser.add_argument("--total-steps", type=int, default=1_500_000)
    parser.add_argument("--energy-iterations", type=int, default=20_000)
    parser.add_argument("--out", default="benchmarks/results/humanoid_imitation")
    args = parser.parse_args()
    meta = record()
    results_path = Path(args.out) / "results.json"
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
                result = {
                    "benchmark": "humanoid_imitation",
                    "meta": finish(meta),
                    "total_steps": args.total_steps,
                    "energy_iterations": args.energy_iterations,
                    "runs": list({**earlier_rows(results_path), **rows}.values()),
                }
                atomic_write_json(results_path, result)


if __name__ == "__main__":
    main()
