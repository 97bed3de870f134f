"""A tracking run made with `imitate train` / `imitate eval`, beside the zero action.

`imitate train TASK deepmimic total_steps=N` (TASK `humanoid-walk` by default, `humanoid-cartwheel`,
or `humanoid-walk clip=humanoid3d_run` etc.) runs as a subprocess (the preset config, the same
code path as the CLI; the run directory lands under --runs-dir), then `imitate eval RUN`
(deterministic policy, the run's eval episodes; `--video` also writes the video), and the same
evaluation with the zero action. A run already under --runs-dir with a checkpoint is resumed
(`resume=RUN`), a finished one only evaluated, so a run longer than a session continues in the
next one. The preset sets DeepMimic's absolute targets (`action_mode=default`: PD target =
default pose + action_scale * action; the zero action holds the default pose). With the overrides
`action_mode=reference action_scale=0.5` (residual actions: PD target = reference pose +
action_scale * action) the zero action replays the clip through the PD controllers, and that row
shows what the policy adds to it. The result names its action setting ("actions") and reports
the clip progress (`clip_fraction`; for clips that turn over, `rotation_completed_rate`).
Prints JSON and writes --out (commit, command, load average and wall time under "meta").
Throughput (raw physics, env, full PPO, memory): benchmarks/tracking_speed.py.

  python benchmarks/humanoid_tracking.py --total-steps 8192000    # -> humanoid_tracking_default_action.json
  python benchmarks/humanoid_tracking.py --total-steps 8192000 --out benchmarks/results/humanoid_tracking.json \
      action_mode=reference action_scale=0.5                      # residual actions (the file's figure)
  python benchmarks/humanoid_tracking.py --task humanoid-cartwheel --total-steps 8192000 --video \
      --runs-dir benchmarks/results/humanoid_cartwheel/runs --out benchmarks/results/humanoid_cartwheel.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from _meta import finish, record  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from imitate.utils.io import atomic_write_json


def cli(*args: str) -> tuple[list[str], dict, str]:
    """Run ``imitate ARGS`` as a subprocess: (the command, its final JSON line, its stdout)."""
    cmd = [sys.executable, "-m", "imitate.cli", *args]
    env = {**os.environ, "IMITATE_THREADS": os.environ.get("IMITATE_THREADS", "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-800:]}")
    return ["imitate", *args], json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


class ZeroPolicy:
    """Always the zero action: PD to the default pose with absolute targets; with residual actions
    (``action_mode=reference``) the PD targets are the clip's own pose."""

    def __init__(self, act_dim: int):
        self.act_dim = act_dim

    def act(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return torch.zeros(obs.shape[0], self.act_dim)


def zero_action(run_dir: str) -> dict:
    """The run's evaluation (same envs, seeds and episode count as `imitate eval RUN`) with the
    zero action instead of the policy: what replaying the clip through the PD controllers scores."""
    from imitate.eval.humanoid import rollout_tracking
    from imitate.registry import get_task
    from imitate.runner import run_config
    from imitate.utils.run import Run

    run = Run.open(run_dir)
    task, cfg = get_task(run.task), run_config(run)
    env = task.make_env(cfg.eval_episodes, seed=cfg.seed + 10_000, cfg=cfg)
    metrics = rollout_tracking(ZeroPolicy(env.act_dim), env, seed=cfg.seed + 10_000)["metrics"]
    env.close()
    return metrics


KEYS = (
    "reward_tracking",
    "episode_length",
    "success_rate",
    "motion_fall_rate",
    "clip_fraction",
    "rotation_episodes",
    "rotation_completed_rate",
    "tracking_error_root_pos_m",
    "tracking_error_joint_rad",
    "tracking_error_end_effector_m",
    "tracking_error_root_rot_rad",
)


def latest_run(runs_dir: str, task: str) -> str | None:
    """The newest run of ``task`` under ``runs_dir`` (the CLI's TASK/ALGO/STAMP layout), if any."""
    runs = sorted(p.parent for p in (Path(runs_dir) / task / "deepmimic").glob("*/config.yaml"))
    return str(runs[-1]) if runs else None


def train_tracking(
    task: str, total_steps: int, seed: int, out_dir: str, overrides: list[str], video: bool = False
) -> dict:
    """`imitate train TASK deepmimic` (preset config + overrides; or resume the run already under
    ``out_dir``), then `imitate eval RUN` (deterministic policy, the preset's 32 episodes), and the
    zero action on the same envs."""
    run_dir = latest_run(out_dir, task)
    if run_dir is not None and (Path(run_dir) / "metrics.json").is_file():
        train_cmd = ["imitate", "train", task, "deepmimic", "(finished earlier)"]
        train_metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    elif run_dir is not None:
        train_cmd, train_metrics, _ = cli("train", task, "deepmimic", f"resume={run_dir}")
    else:
        train_cmd, train_metrics, stdout = cli(
            "train",
            task,
            "deepmimic",
            f"total_steps={total_steps}",
            f"seed={seed}",
            f"out_dir={out_dir}",
            "progress=false",
            *overrides,
        )
        run_dir = next(line[5:] for line in stdout.splitlines() if line.startswith("run: "))
    eval_cmd, metrics, _ = cli("eval", run_dir, *(["--video"] if video else []))
    from imitate.runner import run_config
    from imitate.utils.run import Run

    run = Run.open(run_dir)
    cfg = run_config(run)
    curve = [
        {"samples": r["step"], "reward_tracking": r.get("reward/tracking"), "episode_length": r.get("episode/length")}
        for r in run.read_progress()
    ]
    zero = zero_action(run_dir)
    mode = cfg.task_options.action_mode
    return {
        "task": task,
        "clip": cfg.task_options.clip,
        "actions": f"{'absolute' if mode == 'default' else 'residual'} (action_mode={mode})",
        "run": run_dir,
        "train_command": train_cmd,
        "eval_command": eval_cmd,
        "config": {
            k: getattr(cfg, k) if hasattr(cfg, k) else getattr(cfg.task_options, k)
            for k in (
                "total_steps",
                "num_envs",
                "rollout_steps",
                "lr",
                "gamma",
                "hidden",
                "init_log_std",
                "action_mode",
                "action_scale",
                "eval_episodes",
            )
        },
        "train_seconds": train_metrics.get("train_seconds"),
        "env_steps": train_metrics.get("env_steps"),
        "samples_per_s": round(train_metrics["env_steps"] / train_metrics["train_seconds"], 1),
        "eval": {k: metrics[k] for k in KEYS if k in metrics},
        "video": metrics.get("video"),
        "zero_action_eval": {k: zero[k] for k in KEYS if k in zero},
        "training_first_reward_tracking": curve[0]["reward_tracking"] if curve else None,
        "training_last_reward_tracking": curve[-1]["reward_tracking"] if curve else None,
        "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="humanoid-walk", help="humanoid-walk (clip=CLIP: others), humanoid-cartwheel")
    parser.add_argument("--total-steps", type=int, default=8_192_000, help="training budget (0: no training)")
    parser.add_argument("--video", action="store_true", help="also `imitate eval RUN --video`")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs-dir", default="benchmarks/results/humanoid_walk/runs")
    parser.add_argument("--out", default="benchmarks/results/humanoid_tracking_default_action.json")
    parser.add_argument(
        "overrides",
        nargs="*",
        help="key=value for the training run (residual actions: action_mode=reference action_scale=0.5)",
    )
    args = parser.parse_args()
    meta = record()
    from imitate.runner import set_threads

    set_threads()
    result: dict = {"torch_threads": torch.get_num_threads()}
    if args.total_steps > 0:
        result["walk_training"] = train_tracking(  # the key of the first, walk-only files
            args.task, args.total_steps, args.seed, args.runs_dir, args.overrides, args.video
        )
    result = {"meta": finish(meta), **result}
    atomic_write_json(args.out, result)
    summary = {k: v for k, v in result.items() if k != "walk_training"}
    if "walk_training" in result:
        summary["walk_training"] = {k: v for k, v in result["walk_training"].items() if k != "curve"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
