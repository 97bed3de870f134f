"""DeepMind Control tasks: env steps/s of our batched env against raw ``mj_step`` and dm_control.

For each task and batch size N, in the same run and interleaved round by round (the machine is
shared, so read the ratios, not the absolute rates):

- ``raw_mj_step``: the physics floor. N MjData of the same MjModel, each advanced by one
  ``mujoco.mj_step(model, data, nstep)`` call per env step (nstep = the repeat's physics steps),
  controls written in place, nothing read back: no observation, no reward.
- ``sim_step``: our engine alone (``DmcSim.step``: all N copies in one ``mujoco.rollout`` call).
- ``env_step``: our whole env step (``TaskEnv.step``: action, physics, dm_control's reward on each
  repeated step, sensors, torch tensors, auto-reset).
- ``dm_control``: dm_control's own ``Environment``, N copies stepped one after another in Python,
  ``action_repeat`` ``env.step`` calls each (AIME's wrapper, without its dict building).

Env steps are ours: one env step = ``action_repeat`` dm_control control steps. The median of
``--rounds`` rounds is kept. Writes benchmarks/results/dmc_throughput.json and prints it; rerun with
`python benchmarks/dmc_throughput.py` (options: --tasks, --sizes, --steps, --rounds, --nthread).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import mujoco
import numpy as np
import torch

from _meta import finish, record
from _timing import rate
from imitate.tasks.dmc import TASKS, DmcEnv
from imitate.tasks.dmc_options import DmcOptions
from imitate.utils.io import atomic_write_json


def _raw(model: mujoco.MjModel, n: int, nstep: int, ctrl: np.ndarray):
    datas = [mujoco.MjData(model) for _ in range(n)]
    for d in datas:
        mujoco.mj_forward(model, d)

    def step() -> None:
        for i, d in enumerate(datas):
            d.ctrl[:] = ctrl[i]
            mujoco.mj_step(model, d, nstep)

    return step


def _dm_control(task: str, n: int, repeat: int, ctrl: np.ndarray):
    from dm_control import suite

    domain, name = TASKS[task].domain, "run" if TASKS[task].domain == "cheetah" else task.split("-", 1)[1]
    envs = [suite.load(domain, name, task_kwargs={"random": i}) for i in range(n)]
    for e in envs:
        e.reset()

    def step() -> None:
        for i, e in enumerate(envs):
            for _ in range(repeat):
                if e.step(ctrl[i]).last():
                    e.reset()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", default="walker-walk,cheetah-run")
    parser.add_argument("--sizes", default="1,16,64")
    parser.add_argument("--steps", type=int, default=50, help="env steps per timing")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nthread", type=int, default=0, help="mujoco.rollout threads (0: the calling thread)")
    args = parser.parse_args()
    meta = record()
    torch.set_num_threads(1)
    rows = []
    for task in args.tasks.split(","):
        for n in map(int, args.sizes.split(",")):
            options = DmcOptions()
            options.nthread = args.nthread  # type: ignore[attr-defined]  # read by the task's engine factory
            env = DmcEnv(task, n, seed=0, options=options)
            env.reset()
            actions = torch.rand(n, env.act_dim, generator=torch.Generator().manual_seed(0)) * 2 - 1
            ctrl = actions.double().numpy()
            nstep = env.sim.substeps
            timers = {
                "raw_mj_step": _raw(env.sim.model, n, nstep, ctrl),
                "sim_step": lambda: env.sim.step(ctrl),
                "env_step": lambda: env.step(actions),
                "dm_control": _dm_control(task, n, options.action_repeat, ctrl),
            }
            samples: dict[str, list[float]] = {k: [] for k in timers}
            for _ in range(args.rounds):
                for key, fn in timers.items():
                    samples[key].append(rate(fn, args.steps, n))
            med = {k: statistics.median(v) for k, v in samples.items()}
            rows.append(
                {
                    "task": task,
                    "num_envs": n,
                    "physics_steps_per_env_step": nstep,
                    **{f"{k}_env_steps_per_s": round(v) for k, v in med.items()},
                    "env_step_over_raw": round(med["env_step"] / med["raw_mj_step"], 3),
                    "sim_step_over_raw": round(med["sim_step"] / med["raw_mj_step"], 3),
                    "env_step_over_dm_control": round(med["env_step"] / med["dm_control"], 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            env.close()
    result = {
        "benchmark": "dmc_throughput",
        "meta": finish(meta),
        "mujoco": mujoco.__version__,
        "nthread": args.nthread,
        "steps": args.steps,
        "rounds": args.rounds,
        "action_repeat": DmcOptions().action_repeat,
        "results": rows,
    }
    atomic_write_json(Path(__file__).parent / "results" / "dmc_throughput.json", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
