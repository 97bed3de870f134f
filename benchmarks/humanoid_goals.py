"""The directable humanoid (issue 14): goal tasks and composed rewards, through `imitate train`
and `imitate eval` only, so that every figure can be replayed from its run directory.

Parts (``--parts``):
- ``target``: `humanoid-target` with the walk data set. Per seed: `energy motion=walk` (on the
  goal task itself: an energy run is checked against its task), then `near energy=RUN`, `amp`
  and `ppo` on the target reward alone (`w_task=1`, PPO's own reward). Goal success rate, time to
  target, pose error, falls.
- ``strike``: `humanoid-strike`. NEAR composes a walk energy and a punch energy
  (`energy=walk:RUN,punch:RUN energy_weights=3,1 energy_gate=punch:GATE`, resets from the
  `strike` data set); AMP has one discriminator on the `strike` data set (walk + punch).
- ``compose``: walk on the lower body and punch on the upper body on `humanoid` (energy runs with
  `mask=lower` and `mask=upper`, then `near energy=walk:RUN,punch:RUN`): the pose error of the
  lower body against the walk and of the upper body against the punch, and a video
  (`imitate eval RUN --video`).

A run that exists with a checkpoint is resumed, a finished one only evaluated (the helpers of
`humanoid_imitation.py`), and the results JSON is rewritten atomically after every run, merged
with the rows an earlier invocation left, so a grid stopped by the end of a session keeps what it
finished.

    python benchmarks/humanoid_goals.py --parts target --seeds 0,1,2 --total-steps 3000000
    python benchmarks/humanoid_goals.py --parts strike,compose --seeds 0 --total-steps 3000000
    python benchmarks/humanoid_goals.py --plot-only     # curves_<part>.png: mean ± std over seeds
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _meta import record
from humanoid_imitation import KEYS, imitate, plot_curves, train, write_merged

GOAL_KEYS = ("goal_success_rate", "goal_time_s")
SOURCE_KEYS = tuple(f"motion_{top}pose_error_dtw_m_{label}" for label in ("walk", "punch") for top in ("", "top20_"))


def energy(out: Path, task: str, motion: str, seed: int, iterations: int, mask: str = "all") -> Path:
    """NEAR step 1 on ``task``, each under its own folder (``train`` picks the latest run of a folder)."""
    folder = out / f"energy-{motion}-{mask}"
    args = [f"seed={seed}", f"motion={motion}", f"iterations={iterations}", f"mask={mask}"]
    return train(folder, task, "energy", args)[0]


def runs_of(part: str, out: Path, seed: int, args) -> list[tuple[str, str, list[str]]]:
    """(task, algo, overrides) of each policy run of ``part``, energy runs trained on the way."""
    steps = [f"seed={seed}", f"total_steps={args.total_steps}"]
    its = args.energy_iterations
    if part == "target":
        e = energy(out, "humanoid-target", "walk", seed, its)
        common = [*steps, "motion=walk"]
        return [
            ("humanoid-target", "near", [*common, f"energy={e}"]),
            ("humanoid-target", "amp", common),
            ("humanoid-target", "ppo", common),
        ]
    if part == "strike":
        walk, punch = (energy(out, "humanoid-strike", m, seed, its) for m in ("walk", "punch"))
        composed = [f"energy=walk:{walk},punch:{punch}", "energy_weights=3,1", f"energy_gate=punch:{args.gate_m}"]
        return [
            ("humanoid-strike", "near", [*steps, "motion=strike", *composed]),
            ("humanoid-strike", "amp", [*steps, "motion=strike"]),
        ]
    if part == "compose":
        walk = energy(out, "humanoid", "walk", seed, its, mask="lower")
        punch = energy(out, "humanoid", "punch", seed, its, mask="upper")
        return [("humanoid", "near", [*steps, "motion=walk", f"energy=walk:{walk},punch:{punch}"])]
    raise SystemExit(f"--parts: unknown part {part!r}; parts: target, strike, compose")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default="target")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--total-steps", type=int, default=3_000_000)
    parser.add_argument("--energy-iterations", type=int, default=20_000)
    parser.add_argument("--gate-m", type=float, default=1.5, help="strike: the punch energy counts within this (m)")
    parser.add_argument("--video", action="store_true", help="compose: also `imitate eval RUN --video`")
    parser.add_argument("--out", default="benchmarks/results/humanoid_goals")
    parser.add_argument("--plot-only", action="store_true", help="only draw curves_<part>.png from the results JSON")
    args = parser.parse_args()
    results_path = Path(args.out) / "results.json"
    if args.plot_only:
        rows = json.loads(results_path.read_text())["runs"]
        for path in plot_curves(rows, "part", lambda part: Path(args.out) / f"curves_{part}.png"):
            print(path)
        return
    meta = record()
    rows: dict[tuple, dict] = {}
    for part in args.parts.split(","):
        for seed in map(int, args.seeds.split(",")):
            out = Path(args.out) / "runs" / f"{part}-{seed}"
            for task, algo, overrides in runs_of(part, out, seed, args):
                path, metrics = train(out, task, algo, overrides)
                if part == "compose" and args.video:
                    metrics = imitate("eval", str(path), "--video")
                row = {
                    "part": part,
                    "task": task,
                    "seed": seed,
                    "algo": algo,
                    "run": str(path),
                    "commit": meta["commit"],
                    **{k: metrics.get(k) for k in (*KEYS, *GOAL_KEYS, *SOURCE_KEYS, "video") if k in metrics},
                }
                rows[(part, seed, algo)] = row
                print(json.dumps(row), flush=True)
                header = {
                    "benchmark": "humanoid_goals",
                    "total_steps": args.total_steps,
                    "energy_iterations": args.energy_iterations,
                }
                write_merged(results_path, lambda r: (r["part"], r["seed"], r["algo"]), rows, header, meta)


if __name__ == "__main__":
    main()
