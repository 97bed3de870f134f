"""Humanoid simulation throughput on this machine.

- raw: `mj_step` of our model in a single MjData loop (physics steps/s, PD hold of a standing pose);
- batched: `MujocoSim(model, N).step` (30 Hz control = 4 physics steps at 120 Hz) with both backends
  (mujoco.rollout; thread pool over MjData), at several N and thread counts, and the threads
  backend plus the batched body-kinematics read (`body_pos()`, velocities, ground contact),
  in env control steps/s (x4 for physics steps/s);
- bare threadpool: N persistent MjData stepped by a thread pool, no state copies (upper bound);
- pybullet: pybullet's own DeepMimic humanoid env (`pybullet_envs.deep_mimic`, stable PD,
  240 Hz physics, 30 Hz control) stepped through its internal env (the gym wrapper needs `gym`).

Prints one JSON object and writes benchmarks/results/humanoid_sim_throughput.json.
Rerun: `python benchmarks/humanoid_sim_throughput.py [--sizes 64,256,512] [--steps 10]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mujoco
import numpy as np

from _meta import finish, record
from imitate.data.motion import humanoid_model as hm
from imitate.sim.mujoco_c import MujocoSim
from imitate.tasks.humanoid.common import ground_contact


def standing(n: int) -> np.ndarray:
    q = np.zeros((n, 35))
    q[:, 2], q[:, 3] = 0.8815, 1.0
    return q


def raw_rate(steps: int) -> float:
    m = hm.load_model()
    d = mujoco.MjData(m)
    d.qpos[:] = standing(1)[0]
    mujoco.mj_forward(m, d)
    for _ in range(100):
        mujoco.mj_step(m, d)
    t = time.perf_counter()
    for _ in range(steps):
        mujoco.mj_step(m, d)
    return steps / (time.perf_counter() - t)


def batched_rate(n: int, nthread: int, steps: int, read_kinematics: bool, backend: str = "threads") -> float:
    sim = MujocoSim(hm.load_model(), n, substeps=hm.SUBSTEPS, nthread=nthread, backend=backend)
    rng = np.random.default_rng(0)
    sim.set_joints(standing(n), np.zeros((n, 34)))
    ctrl = rng.uniform(-0.05, 0.05, size=(steps + 1, n, 28))
    sim.step(ctrl[0])  # warm-up
    t = time.perf_counter()
    for k in range(steps):
        sim.step(ctrl[k + 1])
        if read_kinematics:
            sim.body_pos(), sim.body_lin_vel(), ground_contact(sim)
    el = time.perf_counter() - t
    sim.close()
    return n * steps / el


def thread_pool_rate(n: int, nthread: int, steps: int) -> float:
    m = hm.load_model()
    datas = [mujoco.MjData(m) for _ in range(n)]
    for d in datas:
        d.qpos[:] = standing(1)[0]
        mujoco.mj_forward(m, d)
    chunks = [datas[i * n // nthread : (i + 1) * n // nthread] for i in range(nthread)]

    def work(chunk):
        for d in chunk:
            for _ in range(hm.SUBSTEPS):
                mujoco.mj_step(m, d)

    with ThreadPoolExecutor(nthread) as ex:
        list(ex.map(work, chunks))
        t = time.perf_counter()
        for _ in range(steps):
            list(ex.map(work, chunks))
        el = time.perf_counter() - t
    return n * steps / el


def pybullet_rate(steps: int) -> dict:
    """pybullet's DeepMimic walk env: control steps/s (8 physics steps of 1/240 s each)."""
    try:
        import sys
        import types

        import pybullet_data

        if "gym" not in sys.modules:  # pybullet_envs/__init__ registers gym envs; we only need its
            try:  # internal env, so a no-op `gym.envs.registration` suffices
                import gym  # noqa: F401
            except ImportError:
                gym = types.ModuleType("gym")
                gym.envs = types.ModuleType("gym.envs")
                gym.envs.registration = types.ModuleType("gym.envs.registration")
                gym.envs.registration.__dict__.update(
                    register=lambda *a, **k: None, make=None, spec=None, registry=types.SimpleNamespace(env_specs={})
                )
                sys.modules.update({"gym": gym, "gym.envs": gym.envs, "gym.envs.registration": gym.envs.registration})
        from pybullet_envs.deep_mimic.env.pybullet_deep_mimic_env import PyBulletDeepMimicEnv
        from pybullet_utils.arg_parser import ArgParser
    except Exception as exc:  # noqa: BLE001 — report why, do not fail the benchmark
        return {"error": f"{type(exc).__name__}: {exc}"}
    args = ArgParser()
    args.load_file(os.path.join(pybullet_data.getDataPath(), "args", "run_humanoid3d_walk_args.txt"))
    env = PyBulletDeepMimicEnv(args, enable_draw=False, time_step=1.0 / 240)
    env.reset()
    action = -np.asarray(env.build_action_offset(-1))  # the neutral action, as the gym wrapper maps 0
    resets = 0

    def control_step():
        nonlocal resets
        env.calc_reward(-1)
        env.set_action(-1, action)
        for _ in range(8):
            env.update(1.0 / 240)
        env.record_state(-1)
        if env.is_episode_end():
            env.reset()
            resets += 1

    for _ in range(5):
        control_step()
    t = time.perf_counter()
    for _ in range(steps):
        control_step()
    el = time.perf_counter() - t
    return {
        "control_steps_per_s": steps / el,
        "physics_steps_per_s": 8 * steps / el,
        "physics_hz": 240,
        "control_hz": 30,
        "resets": resets,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="64,256,512")
    parser.add_argument("--steps", type=int, default=10, help="control steps per measurement")
    parser.add_argument("--threads", default="1,2", help="rollout thread counts to try")
    parser.add_argument("--raw-steps", type=int, default=5000)
    parser.add_argument("--pybullet-steps", type=int, default=60)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "humanoid_sim_throughput.json"))
    args = parser.parse_args()
    meta = record()
    raw = raw_rate(args.raw_steps)
    rows = []
    for n in map(int, args.sizes.split(",")):
        for nth in map(int, args.threads.split(",")):
            roll = batched_rate(n, nth, args.steps, read_kinematics=False, backend="rollout")
            thr = batched_rate(n, nth, args.steps, read_kinematics=False, backend="threads")
            full = batched_rate(n, nth, args.steps, read_kinematics=True, backend="threads")
            pool = thread_pool_rate(n, nth, args.steps)
            rows.append(
                {
                    "num_envs": n,
                    "threads": nth,
                    "sim_rollout_env_steps_per_s": round(roll, 1),
                    "sim_threads_env_steps_per_s": round(thr, 1),
                    "sim_threads_plus_kinematics_env_steps_per_s": round(full, 1),
                    "bare_threadpool_env_steps_per_s": round(pool, 1),
                    "sim_threads_physics_vs_raw": round(thr * hm.SUBSTEPS / raw, 3),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    result = {
        "meta": finish(meta),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_avg_1min": os.getloadavg()[0],
            "mujoco": mujoco.__version__,
        },
        "model": {"physics_hz": hm.PHYSICS_HZ, "control_hz": hm.CONTROL_HZ, "substeps": hm.SUBSTEPS},
        "raw_mj_step_per_s": round(raw, 1),
        "raw_env_steps_per_s_equivalent": round(raw / hm.SUBSTEPS, 1),
        "batched": rows,
        "pybullet_deepmimic": pybullet_rate(args.pybullet_steps),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from imitate.utils.io import atomic_write_json

    atomic_write_json(out, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
