"""DeepMimic tracking speed in one run: raw batched physics, the tracking env, full PPO, memory.

All rates are measured in one process, round by round (raw, env, PPO for each N, then the next
round), so that the three see the same load on a shared machine; the ratios are taken within
each round and their median is reported:
  raw: `MujocoSim.step` alone (mujoco.rollout over the env's threads) on the env's own physics
       states and PD targets, recorded from the env under the policy noise below and replayed,
       in control steps/s (4 physics steps each);
  env: `HumanoidTrackingEnv.step` (the humanoid-walk preset's task options: absolute targets,
       product reward) with the preset policy's initial noise as actions, N(0, e^-2), env steps/s;
  ppo: `PPO.train` of the `humanoid-walk deepmimic` preset at N envs for `--iterations`
       iterations (rollouts, rewards, GAE, 5 epochs of updates), samples/s, with its time split
       into physics (sim.step), the rest of env.step, the update and the rest (the network in
       the rollout, buffers).
Warm start: Newton iterations per substep with the solver's warm start carried across control
steps and without (one MjData per env, on the env's states), and the threads backend's rate with
and without it (`MujocoSim(warmstart=True)`).
Memory (each N in a child process, so the peaks do not mix; Linux /proc): peak RSS above the
process's RSS after its imports, per env, for the env built and stepped 8 times, and for one PPO
iteration (the preset's 32-step rollout buffers and update included).
The load average is recorded with every round and in "meta" (commit, command, start/end load).

  python benchmarks/tracking_speed.py                      # 256,1024 envs; memory at 256,1024,4096
  python benchmarks/tracking_speed.py --envs 256 --rounds 1 --memory-envs ""
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from _meta import finish, record  # noqa: E402  (benchmarks/ is on sys.path when a script runs)
from imitate.utils.io import atomic_write_json

GOAL_RATIO, GOAL_SAMPLES = 0.6, 5000.0  # the goals: PPO ≥ 0.6 × raw; ≥ 5000 samples/s at 256-1024 envs


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def preset(num_envs: int, iterations: int):
    """The humanoid-walk deepmimic preset at ``num_envs`` envs for ``iterations`` PPO iterations."""
    from imitate.config import apply_overrides
    from imitate.runner import resolve_config

    cfg = resolve_config("humanoid-walk", "deepmimic", {"progress": False}, check_inputs=False)
    return apply_overrides(
        cfg, {"num_envs": num_envs, "total_steps": num_envs * cfg.rollout_steps * iterations}, "bench"
    )


def make_env(num_envs: int, seed: int = 0):
    from imitate.registry import get_task

    cfg = preset(num_envs, 1)
    env = get_task("humanoid-walk").make_env(num_envs, seed=seed, cfg=cfg)
    env.reset(seed=seed)
    return env, cfg


def trajectory(num_envs: int, steps: int) -> tuple[object, list[np.ndarray], list[np.ndarray]]:
    """The env (stepped ``steps`` times under the initial policy noise), the physics state before
    each step (N, nstate) and the PD targets of each step (N, 28): the env's own workload."""
    env, cfg = make_env(num_envs)
    act = policy_noise(env, cfg)
    rows, targets = [], []
    for _ in range(steps):
        a = act()
        targets.append(env.spec.action.func(env, a.clamp(-1, 1), **env.spec.action.params))
        rows.append(env.sim.state.copy())
        env.step(a)
    return env, rows, targets


def raw_rate(num_envs: int, calls: int) -> float:
    """Control steps/s of MujocoSim.step alone on the env's own states and PD targets (replayed
    from ``trajectory``: the same physics, falls and resets included)."""
    env, rows, targets = trajectory(num_envs, calls + 1)
    sim = env.sim
    sim.state = rows[0].copy()
    sim.step(targets[0])  # warm-up
    elapsed = 0.0
    for k in range(1, calls + 1):
        sim.state = rows[k].copy()
        t0 = time.perf_counter()
        sim.step(targets[k])
        elapsed += time.perf_counter() - t0
    env.close()
    return num_envs * calls / elapsed


def policy_noise(env, cfg, seed: int = 0) -> Callable[[], torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    std = float(np.exp(cfg.init_log_std))
    return lambda: std * torch.randn(env.num_envs, env.act_dim, generator=gen)


def env_rate(num_envs: int, steps: int) -> float:
    env, cfg = make_env(num_envs)
    act = policy_noise(env, cfg)
    env.step(act())
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(act())
    rate = num_envs * steps / (time.perf_counter() - t0)
    env.close()
    return rate


class Stopwatch:
    """Wraps callables and adds up the seconds spent in each (by name)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

        return timed


def ppo_rate(num_envs: int, iterations: int) -> tuple[float, dict[str, float]]:
    """Samples/s of the full PPO loop and the share of its time in physics, the rest of the env
    step, the update and everything else."""
    from imitate.algos.ppo import PPO
    from imitate.registry import get_task
    from imitate.rewards.tracking import make_tracking_reward

    cfg = preset(num_envs, iterations)
    task = get_task("humanoid-walk")
    env = task.make_env(num_envs, seed=0, cfg=cfg)
    ppo = PPO(env, cfg, make_tracking_reward(task, cfg, env))
    watch = Stopwatch()
    env.sim.step = watch.wrap("physics", env.sim.step)
    env.step = watch.wrap("env_step", env.step)
    ppo._update = watch.wrap("update", ppo._update)
    t0 = time.perf_counter()
    ppo.train()
    total = time.perf_counter() - t0
    env.close()
    s = watch.seconds
    split = {
        "physics": s["physics"] / total,
        "env_without_physics": (s["env_step"] - s["physics"]) / total,
        "update": s["update"] / total,
        "rest": (total - s["env_step"] - s["update"]) / total,
    }
    return ppo.global_step / total, {k: round(v, 3) for k, v in split.items()}


# -- warm start --------------------------------------------------------------------------------
def warmstart_effect(num_envs: int, steps: int) -> dict:
    """Newton iterations per substep, cold vs warm (one MjData per env, states and targets of the
    env under the initial policy noise), and the threads backend's rate without/with warm start."""
    import mujoco

    from imitate.sim.mujoco_c import MujocoSim

    env, rows, targets = trajectory(num_envs, steps)
    m = env.sim.model
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    d = mujoco.MjData(m)
    iters = {}
    for warm in (False, True):
        count = np.zeros(env.sim.substeps)
        for i in range(num_envs):
            mujoco.mj_setState(m, d, rows[0][i], spec)
            d.qacc_warmstart[:] = 0.0
            for k in range(steps):
                if not warm:
                    d.qacc_warmstart[:] = 0.0
                d.ctrl[:] = targets[k][i]
                for s in range(env.sim.substeps):
                    mujoco.mj_step(m, d)
                    count[s] += d.solver_niter[0]
        iters["warm" if warm else "cold"] = [round(float(c), 3) for c in count / (num_envs * steps)]
    rates: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(3):  # interleaved
        for name, warm in (("cold", False), ("warm", True)):
            sim = MujocoSim(m, num_envs, substeps=env.sim.substeps, backend="threads", warmstart=warm)
            sim.state = rows[0].copy()
            t0 = time.perf_counter()
            for k in range(steps):
                sim.step(targets[k])
            rates[name].append(num_envs * steps / (time.perf_counter() - t0))
            sim.close()
    env.close()
    return {
        "num_envs": num_envs,
        "control_steps": steps,
        "newton_iterations_per_substep": iters,
        "threads_backend_steps_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "load_avg": load(),
    }


# -- memory ------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in KB (Linux): VmRSS now, VmHWM the peak since the last reset."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(num_envs: int, mode: str) -> dict:
    """In this (child) process: RSS (KB) after the imports, then the peak while the env is built and
    stepped, or while one PPO iteration runs."""
    from imitate.algos.ppo import PPO  # imported before the baseline: imports are not the envs' memory
    from imitate.registry import get_task
    from imitate.rewards.tracking import make_tracking_reward

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) restarts from the RSS now
    base = _status_kb("VmRSS")
    if mode == "env":
        env, cfg = make_env(num_envs)
        act = policy_noise(env, cfg)
        for _ in range(8):
            env.step(act())
    else:
        cfg = preset(num_envs, 1)
        task = get_task("humanoid-walk")
        env = task.make_env(num_envs, seed=0, cfg=cfg)
        PPO(env, cfg, make_tracking_reward(task, cfg, env)).train()
    return {"baseline_kb": base, "peak_kb": _status_kb("VmHWM")}


def memory(num_envs: int, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--memory-child", str(num_envs), mode]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    got = json.loads(out)
    return {
        "num_envs": num_envs,
        "mode": mode,
        "peak_rss_mb": round(got["peak_kb"] / 1024, 1),
        "baseline_rss_mb": round(got["baseline_kb"] / 1024, 1),
        "peak_rss_per_env_kb": round((got["peak_kb"] - got["baseline_kb"]) / num_envs, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="256,1024", help="comma list of env counts for the rates")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of raw, env, PPO per env count")
    parser.add_argument("--calls", type=int, default=10, help="raw sim calls and env steps per measurement")
    parser.add_argument("--iterations", type=int, default=2, help="PPO iterations per measurement")
    parser.add_argument("--memory-envs", default="256,1024,4096", help="env counts for peak RSS (empty: skip)")
    parser.add_argument("--warmstart-envs", type=int, default=64, help="envs for the warm-start check (0: skip)")
    parser.add_argument("--out", default="benchmarks/results/tracking_speed.json")
    parser.add_argument("--memory-child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    from imitate.runner import set_threads

    set_threads()
    if args.memory_child:
        print(json.dumps(memory_child(int(args.memory_child[0]), args.memory_child[1])))
        return
    meta = record()
    rounds = []
    for r in range(args.rounds):
        for n in [int(x) for x in args.envs.split(",") if x]:
            raw = raw_rate(n, args.calls)
            env = env_rate(n, args.calls)
            ppo, split = ppo_rate(n, args.iterations)
            row = {
                "round": r,
                "num_envs": n,
                "load_avg": load(),
                "raw_control_steps_per_s": round(raw, 1),
                "env_steps_per_s": round(env, 1),
                "ppo_samples_per_s": round(ppo, 1),
                "env_vs_raw": round(env / raw, 3),
                "ppo_vs_raw": round(ppo / raw, 3),
                "ppo_time_split": split,
            }
            rounds.append(row)
            print(json.dumps(row), flush=True)
    summary = []
    for n in sorted({row["num_envs"] for row in rounds}):
        mine = [row for row in rounds if row["num_envs"] == n]
        med = lambda key: round(statistics.median(row[key] for row in mine), 3)  # noqa: E731
        summary.append(
            {
                "num_envs": n,
                **{k: med(k) for k in ("raw_control_steps_per_s", "env_steps_per_s", "ppo_samples_per_s")},
                "env_vs_raw": med("env_vs_raw"),
                "ppo_vs_raw": med("ppo_vs_raw"),
                "goal_ppo_vs_raw_met": med("ppo_vs_raw") >= GOAL_RATIO,
                "goal_samples_per_s_met": med("ppo_samples_per_s") >= GOAL_SAMPLES,
            }
        )
    result: dict = {
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "goals": {"ppo_vs_raw": GOAL_RATIO, "ppo_samples_per_s_idle": GOAL_SAMPLES},
        "rounds": rounds,
        "summary": summary,
    }
    if args.warmstart_envs:
        result["warmstart"] = warmstart_effect(args.warmstart_envs, 30)
        print(json.dumps(result["warmstart"]), flush=True)
    rows = []
    for n in [int(x) for x in args.memory_envs.split(",") if x]:
        for mode in ("env", "ppo"):
            rows.append({**memory(n, mode), "load_avg": load()})
            print(json.dumps(rows[-1]), flush=True)
    result["memory"] = rows
    result = {"meta": finish(meta), **result}
    atomic_write_json(Path(args.out), result)
    print(json.dumps({"summary": summary, "load_avg_end": result["meta"]["load_avg_end"]}, indent=1))


if __name__ == "__main__":
    main()
