"""Humanoid tracking throughput and a walk training run made with `imitate train` / `imitate eval`.

Measures on this machine:
  1. (with --envs) raw physics rate of our MJCF: a plain `mj_step` loop on one MjData (1 thread),
     and `MujocoSim.step` (mujoco.rollout over N envs, zero PD targets) in physics steps/s; the
     tracking env step rate at each N and its ratio to the raw rate in control steps (physics / 4
     substeps); the full PPO loop (rollout + reward + GAE + 5 epochs of updates) in samples/s;
  2. (with --total-steps > 0) `imitate train humanoid-walk deepmimic total_steps=N` as a
     subprocess (the preset config, the same code path as the CLI; the run directory lands under
     --runs-dir), then `imitate eval RUN` (deterministic policy, the run's eval episodes), and the
     same evaluation with the zero action. The preset uses the default `action_mode=reference`:
     PD target = reference pose + action_scale * action, so the zero action already replays the
     clip through the PD controllers; that row shows what the policy adds to it.
Prints JSON and writes --out (commit, command, load average and wall time under "meta").

  python benchmarks/humanoid_tracking.py --total-steps 8192000
  python benchmarks/humanoid_tracking.py --envs 64,128,256,512 --total-steps 0 \
      --out benchmarks/results/humanoid_throughput.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _meta import finish, record  # noqa: E402  (benchmarks/ is on sys.path when a script runs)


def raw_mj_step(seconds: float = 3.0) -> float:
    import mujoco

    from imitate.data.motion import humanoid_model as hm

    m = hm.load_model()
    d = mujoco.MjData(m)
    mujoco.mj_resetData(m, d)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            mujoco.mj_step(m, d)
        n += 100
        if d.qpos[2] < 0.3:  # keep it in a standing-like regime: reset after a fall
            mujoco.mj_resetData(m, d)
    return n / (time.perf_counter() - t0)


def sim_rate(n: int, calls: int = 20) -> float:
    from imitate.data.motion import humanoid_model as hm
    from imitate.sim.mujoco_c import MujocoSim

    sim = MujocoSim(hm.load_model(), n, substeps=hm.SUBSTEPS)
    ctrl = np.zeros((n, sim.nu))
    sim.step(ctrl)
    t0 = time.perf_counter()
    for _ in range(calls):
        sim.step(ctrl)
    rate = n * calls * sim.substeps / (time.perf_counter() - t0)
    sim.close()
    return rate


def env_rate(n: int, calls: int = 20) -> float:
    from imitate.tasks.humanoid.tracking import HumanoidTrackingEnv

    env = HumanoidTrackingEnv(n, seed=0)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    act = lambda: 0.3 * torch.randn(n, env.act_dim, generator=gen)  # noqa: E731
    env.step(act())
    t0 = time.perf_counter()
    for _ in range(calls):
        env.step(act())
    rate = n * calls / (time.perf_counter() - t0)
    env.close()
    return rate


def ppo_rate(n: int, iterations: int = 2) -> float:
    from imitate.algos.ppo import PPO
    from imitate.config import apply_overrides
    from imitate.registry import get_task
    from imitate.rewards.tracking import TrackingReward
    from imitate.runner import resolve_config

    cfg = resolve_config("humanoid-walk", "deepmimic", {"progress": False}, check_inputs=False)
    cfg = apply_overrides(cfg, {"num_envs": n, "total_steps": n * cfg.rollout_steps * iterations}, "bench")
    env = get_task("humanoid-walk").make_env(n, seed=0, cfg=cfg)
    ppo = PPO(env, cfg, TrackingReward())
    t0 = time.perf_counter()
    ppo.train()
    rate = ppo.global_step / (time.perf_counter() - t0)
    env.close()
    return rate


def cli(*args: str) -> tuple[list[str], dict, str]:
    """Run ``imitate ARGS`` as a subprocess: (the command, its final JSON line, its stdout)."""
    cmd = [sys.executable, "-m", "imitate.cli", *args]
    env = {**os.environ, "IMITATE_THREADS": os.environ.get("IMITATE_THREADS", "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-800:]}")
    return ["imitate", *args], json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


class ZeroPolicy:
    """Always the zero action: in ``action_mode=reference`` the PD targets are the clip's own pose."""

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
    "tracking_error_root_pos_m",
    "tracking_error_joint_rad",
    "tracking_error_end_effector_m",
    "tracking_error_root_rot_rad",
)


def train_walk(total_steps: int, seed: int, out_dir: str, overrides: list[str]) -> dict:
    """`imitate train humanoid-walk deepmimic` (preset config + overrides), then `imitate eval RUN`
    (deterministic policy, the preset's 32 episodes), and the zero action on the same envs."""
    train_cmd, train_metrics, stdout = cli(
        "train",
        "humanoid-walk",
        "deepmimic",
        f"total_steps={total_steps}",
        f"seed={seed}",
        f"out_dir={out_dir}",
        "progress=false",
        *overrides,
    )
    run_dir = next(line[5:] for line in stdout.splitlines() if line.startswith("run: "))
    eval_cmd, metrics, _ = cli("eval", run_dir)
    from imitate.runner import run_config
    from imitate.utils.run import Run

    run = Run.open(run_dir)
    cfg = run_config(run)
    curve = [
        {"samples": r["step"], "reward_tracking": r.get("reward/tracking"), "episode_length": r.get("episode/length")}
        for r in run.read_progress()
    ]
    zero = zero_action(run_dir)
    return {
        "run": run_dir,
        "train_command": train_cmd,
        "eval_command": eval_cmd,
        "config": {
            k: getattr(cfg, k)
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
        "zero_action_eval": {k: zero[k] for k in KEYS if k in zero},
        "training_first_reward_tracking": curve[0]["reward_tracking"] if curve else None,
        "training_last_reward_tracking": curve[-1]["reward_tracking"] if curve else None,
        "curve": curve,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="", help="comma list of env counts for the throughput part (empty: skip)")
    parser.add_argument("--total-steps", type=int, default=8_192_000, help="walk training budget (0: no training)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs-dir", default="benchmarks/results/humanoid_walk/runs")
    parser.add_argument("--out", default="benchmarks/results/humanoid_tracking.json")
    parser.add_argument("overrides", nargs="*", help="key=value for the training run (e.g. action_mode=default)")
    args = parser.parse_args()
    meta = record()
    from imitate.runner import set_threads

    set_threads()
    result: dict = {"torch_threads": torch.get_num_threads()}
    if args.envs:
        result["raw_mj_step_per_s_1thread"] = round(raw_mj_step(), 1)
        rows = []
        for n in [int(x) for x in args.envs.split(",")]:
            sim = sim_rate(n)
            env = env_rate(n)
            ppo = ppo_rate(n)
            rows.append(
                {
                    "num_envs": n,
                    "sim_physics_steps_per_s": round(sim, 1),
                    "sim_control_steps_per_s": round(sim / 4, 1),
                    "env_steps_per_s": round(env, 1),
                    "ppo_samples_per_s": round(ppo, 1),
                    "env_vs_raw": round(env / (sim / 4), 3),
                    "ppo_vs_raw": round(ppo / (sim / 4), 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        result["throughput"] = rows
    if args.total_steps > 0:
        result["walk_training"] = train_walk(args.total_steps, args.seed, args.runs_dir, args.overrides)
    result = {"meta": finish(meta), **result}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    summary = {k: v for k, v in result.items() if k != "walk_training"}
    if "walk_training" in result:
        summary["walk_training"] = {k: v for k, v in result["walk_training"].items() if k != "curve"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
