"""How long our batched DeepMind Control env and dm_control's own env stay equal.

Our engine restarts MuJoCo's constraint-solver warm start at every env step; dm_control's MjData
carries it from step to step. Both solve to the solver's tolerance, so the two differ by ~1e-14 per
step, and on a system with contacts such differences grow. For each task and seed, from one start
state and under the same uniform random actions, this records the first env step at which the
largest observation difference exceeds 1e-6 (``null``: never within the episode), for:

- ``ours_vs_dm_control``: our env against dm_control as it is;
- ``ours_vs_dm_control_restarted``: against dm_control with its warm start zeroed before each env
  step, as ours is (the two should then never part);
- ``dm_control_vs_restarted``: dm_control against itself with that one change (so the drift is the
  warm start's, not ours).

Writes benchmarks/results/dmc_drift.json and prints it; rerun with `python benchmarks/dmc_drift.py`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from _meta import finish, record
from imitate.tasks.dmc import TASKS, DmcEnv
from imitate.utils.io import atomic_write_json

THRESHOLD = 1e-6


def _dm(name: str, qpos: np.ndarray, qvel: np.ndarray):
    from dm_control import suite

    domain = TASKS[name].domain
    env = suite.load(domain, "run" if domain == "cheetah" else name.split("-", 1)[1], task_kwargs={"random": 0})
    env.reset()
    with env.physics.reset_context():
        env.physics.data.qpos[:] = qpos
        env.physics.data.qvel[:] = qvel
    return env


def _step(env, action: np.ndarray, repeat: int, restart: bool) -> np.ndarray:
    if restart:
        env.physics.data.qacc_warmstart[:] = 0.0
    for _ in range(repeat):
        ts = env.step(action)
    return np.concatenate([np.ravel(v) for v in ts.observation.values()])


def drift(name: str, seed: int) -> dict:
    ours = DmcEnv(name, 1, seed=seed)
    ours.reset(seed=seed)
    qpos, qvel = ours.sim.qpos[0].copy(), ours.sim.qvel[0].copy()
    plain, restarted = _dm(name, qpos, qvel), _dm(name, qpos, qvel)
    repeat = ours.sim.action_repeat
    gen = torch.Generator().manual_seed(seed)
    first: dict[str, int | None] = dict.fromkeys(
        ("ours_vs_dm_control", "ours_vs_dm_control_restarted", "dm_control_vs_restarted")
    )
    for t in range(1, ours.max_episode_steps + 1):
        action = torch.rand(1, 6, generator=gen) * 2 - 1
        ob = ours.step(action).final_obs[0].double().numpy()
        a = _step(plain, action[0].double().numpy(), repeat, restart=False)
        b = _step(restarted, action[0].double().numpy(), repeat, restart=True)
        # relative to the observation's scale; ours is float32, whose rounding (6e-8) stays below 1e-6
        gaps = {
            "ours_vs_dm_control": np.abs(ob - a).max() / max(1.0, np.abs(a).max()),
            "ours_vs_dm_control_restarted": np.abs(ob - b).max() / max(1.0, np.abs(b).max()),
            "dm_control_vs_restarted": np.abs(a - b).max() / max(1.0, np.abs(b).max()),
        }
        for key, gap in gaps.items():
            if first[key] is None and gap > THRESHOLD:
                first[key] = t
    return {"task": name, "seed": seed, "episode_steps": ours.max_episode_steps, **first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="walker-walk,cheetah-run")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    meta = record()
    torch.set_num_threads(1)
    rows = []
    for name in args.tasks.split(","):
        for seed in range(args.seeds):
            rows.append(drift(name, seed))
            print(json.dumps(rows[-1]), flush=True)
    result = {"benchmark": "dmc_drift", "meta": finish(meta), "threshold": THRESHOLD, "results": rows}
    atomic_write_json(Path(__file__).parent / "results" / "dmc_drift.json", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
