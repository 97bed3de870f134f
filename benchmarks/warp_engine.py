"""MuJoCo Warp (`engine=warp`) against MuJoCo's C engine on the humanoid, in one run.

For each number of envs N:
- raw: `MujocoSim.step` (C engine, mujoco.rollout) and `WarpSim.step` (MuJoCo Warp on `--device`)
  of the same walk frames under PD targets near them, in control steps/s (4 physics steps each);
- PPO: `imitate train humanoid-walk deepmimic engine=E num_envs=N` for `--iterations` PPO
  iterations of 32 steps, samples/s from the run's own train_seconds (env, PD, rewards, updates).

Warp's first step compiles its kernels (about 30 s on the humanoid, then cached); it is run once
before timing. On a CPU, Warp's CPU mode is a correctness tool, not a fast path: expect it far
below the C engine. The figure this script exists for is N = 4096 on a GPU
(`--device cuda --sizes 1024,4096`), where a GPU is lent.

python benchmarks/warp_engine.py [--sizes 16,64] [--device cpu] [--steps 10] [--iterations 2]
writes benchmarks/results/warp_engine_<device>.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _meta import finish, record
from imitate.data.motion import MotionLibrary, load_clip
from imitate.data.motion import humanoid_model as hm
from imitate.sim.mujoco_c import MujocoSim
from imitate.utils.io import atomic_write_json


def sim_rate(sim: MujocoSim, steps: int) -> float:
    """Control steps/s of ``sim`` holding PD targets near walk frames (after one untimed step)."""
    n = sim.num_envs
    frames = MotionLibrary([load_clip("humanoid3d_walk")]).state(
        np.zeros(n, dtype=int), np.linspace(0.0, 1.0, n), with_bodies=False
    )
    rng = np.random.default_rng(0)
    targets = frames.joint_pos + rng.uniform(-0.1, 0.1, (steps + 1, *frames.joint_pos.shape))
    sim.set_joints(frames.qpos(), frames.qvel(), normalise_root=True)
    sim.step(targets[0])  # Warp: compiles (or loads) its kernels
    start = time.perf_counter()
    for k in range(steps):
        sim.step(targets[k + 1])
    return n * steps / (time.perf_counter() - start)


def ppo_rate(engine: str, n: int, iterations: int, device: str) -> dict:
    """samples/s of a short DeepMimic run on ``engine`` (its train_seconds include the updates)."""
    with tempfile.TemporaryDirectory() as out:
        args = [
            "train",
            "humanoid-walk",
            "deepmimic",
            f"engine={engine}",
            f"num_envs={n}",
            "rollout_steps=32",
            f"total_steps={n * 32 * iterations}",
            f"device={device}",
            f"out_dir={out}",
            "progress=false",
            "eval_episodes=1",
        ]
        proc = subprocess.run([sys.executable, "-m", "imitate.cli", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-300:]}
        metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    samples, seconds = int(metrics["env_steps"]), float(metrics["train_seconds"])
    return {"samples": samples, "train_seconds": seconds, "samples_per_s": samples / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="16,64")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=2)
    args = parser.parse_args()
    from imitate.sim.mujoco_warp import WarpSim

    meta = record()
    rows = []
    for n in map(int, args.sizes.split(",")):
        model = hm.load_model()
        c_rate = sim_rate(MujocoSim(model, n, hm.SUBSTEPS), args.steps)
        warp_rate = sim_rate(WarpSim(model, n, hm.SUBSTEPS, device=args.device), args.steps)
        row = {
            "num_envs": n,
            "c_control_steps_per_s": c_rate,
            "warp_control_steps_per_s": warp_rate,
            "warp_over_c": warp_rate / c_rate,
            "ppo_c": ppo_rate("c", n, args.iterations, "cpu"),
            "ppo_warp": ppo_rate("warp", n, args.iterations, args.device),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {
        "benchmark": "warp_engine",
        "device": args.device,
        "steps": args.steps,
        "ppo_iterations": args.iterations,
        "meta": finish(meta),
        "rows": rows,
    }
    path = Path("benchmarks/results") / f"warp_engine_{args.device.replace(':', '')}.json"
    atomic_write_json(path, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
