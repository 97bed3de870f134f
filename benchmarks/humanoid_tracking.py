"""Humanoid tracking throughput and a walk training run (issue 4 benchmark).

Measures on this machine:
  1. raw physics rate of our MJCF: a plain `mj_step` loop on one MjData (1 thread), and
     `HumanoidSim.step` (mujoco.rollout over N envs, zero PD targets) in physics steps/s;
  2. tracking env step rate (control steps = samples per second) at each N, and its ratio to the raw
     rollout rate expressed in control steps (physics rate / 4 substeps);
  3. the full PPO loop (rollout + reward + GAE + 5 epochs of updates) in samples/s at each N;
  4. a humanoid-walk deepmimic training run (preset config) for --train-minutes of wall time:
     mean per-step tracking reward and episode length against samples and wall time.
Prints JSON and writes benchmarks/results/humanoid_tracking.json.

  .venv/bin/python benchmarks/humanoid_tracking.py --envs 64,128,256,512 --train-minutes 20
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch


def raw_mj_step(seconds: float = 3.0) -> float:
    import mujoco
    from imitate.envs.humanoid import model as hm
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
    from imitate.envs.humanoid.sim import HumanoidSim
    sim = HumanoidSim(n)
    ctrl = np.zeros((n, sim.nu))
    sim.step(ctrl)
    t0 = time.perf_counter()
    for _ in range(calls):
        sim.step(ctrl)
    rate = n * calls * sim.substeps / (time.perf_counter() - t0)
    sim.close()
    return rate


def env_rate(n: int, calls: int = 20) -> float:
    from imitate.envs.humanoid.tracking import HumanoidTrackingEnv
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
    from imitate.config import apply_overrides, preset, with_task_fields, PPOConfig
    from imitate.envs.humanoid.options import TrackingOptions
    from imitate.envs.humanoid.tracking import HumanoidTrackingEnv
    from imitate.rewards.tracking import TrackingReward
    cls = with_task_fields(PPOConfig, TrackingOptions)
    cfg = apply_overrides(cls(), preset("humanoid-walk", "deepmimic"), "preset")
    cfg = apply_overrides(cfg, {"num_envs": n, "total_steps": n * cfg.rollout_steps * iterations,
                                "progress": False}, "bench")
    env = HumanoidTrackingEnv(n, seed=0, cfg=cfg)
    ppo = PPO(env, cfg, TrackingReward())
    t0 = time.perf_counter()
    ppo.train()
    rate = ppo.global_step / (time.perf_counter() - t0)
    env.close()
    return rate


def train_walk(minutes: float, seed: int = 0) -> dict:
    """PPO on humanoid-walk with the preset config until `minutes` of wall time have passed."""
    from imitate.algos.ppo import PPO
    from imitate.config import apply_overrides, preset, with_task_fields, PPOConfig
    from imitate.envs.humanoid.options import TrackingOptions
    from imitate.envs.humanoid.tracking import HumanoidTrackingEnv
    from imitate.rewards.tracking import TrackingReward
    cls = with_task_fields(PPOConfig, TrackingOptions)
    cfg = apply_overrides(cls(), preset("humanoid-walk", "deepmimic"), "preset")
    cfg = apply_overrides(cfg, {"seed": seed, "progress": False}, "bench")
    env = HumanoidTrackingEnv(cfg.num_envs, seed=seed, cfg=cfg)
    ppo = PPO(env, cfg, TrackingReward())
    curve: list[dict] = []
    t0 = time.perf_counter()

    class Stop(Exception):
        pass

    def log(step: int, stats: dict) -> None:
        curve.append({"samples": step, "wall_s": round(time.perf_counter() - t0, 1),
                      "reward_tracking": stats.get("reward/tracking"),
                      "episode_length": stats.get("episode/length"),
                      **{k.replace("reward/", "reward_"): v for k, v in stats.items()
                         if k.startswith("reward/") and k != "reward/tracking"}})
        if time.perf_counter() - t0 > minutes * 60:
            raise Stop

    try:
        ppo.train(log=log)
    except Stop:
        pass
    env.close()
    wall = time.perf_counter() - t0
    rate = curve[-1]["samples"] / wall
    first = curve[:3]
    last = curve[-3:]
    mean = lambda xs, k: float(np.mean([x[k] for x in xs if x[k] is not None]))  # noqa: E731
    return {"config": {k: getattr(cfg, k) for k in ("num_envs", "rollout_steps", "lr", "gamma", "hidden",
                                                   "init_log_std", "action_mode", "action_scale")},
            "wall_s": round(wall, 1), "samples": curve[-1]["samples"], "samples_per_s": round(rate, 1),
            "first3_reward_tracking": mean(first, "reward_tracking"),
            "last3_reward_tracking": mean(last, "reward_tracking"),
            "first3_episode_length": mean(first, "episode_length"),
            "last3_episode_length": mean(last, "episode_length"),
            "one_hour_samples_at_this_rate": int(rate * 3600), "curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="64,128,256,512")
    parser.add_argument("--train-minutes", type=float, default=20.0)
    parser.add_argument("--out", default="benchmarks/results/humanoid_tracking.json")
    args = parser.parse_args()
    from imitate.runner import set_threads
    set_threads()
    import os
    result: dict = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                                "torch_threads": torch.get_num_threads(), "note": "2-core CPU shared with other jobs"}}
    result["raw_mj_step_per_s_1thread"] = round(raw_mj_step(), 1)
    rows = []
    for n in [int(x) for x in args.envs.split(",")]:
        sim = sim_rate(n)
        env = env_rate(n)
        ppo = ppo_rate(n)
        rows.append({"num_envs": n, "sim_physics_steps_per_s": round(sim, 1),
                     "sim_control_steps_per_s": round(sim / 4, 1), "env_steps_per_s": round(env, 1),
                     "ppo_samples_per_s": round(ppo, 1), "env_vs_raw": round(env / (sim / 4), 3),
                     "ppo_vs_raw": round(ppo / (sim / 4), 3)})
        print(json.dumps(rows[-1]), flush=True)
    result["throughput"] = rows
    if args.train_minutes > 0:
        result["walk_training"] = train_walk(args.train_minutes)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    summary = {k: v for k, v in result.items() if k != "walk_training"}
    if "walk_training" in result:
        summary["walk_training"] = {k: v for k, v in result["walk_training"].items() if k != "curve"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
