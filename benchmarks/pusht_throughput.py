"""Push-T env throughput: env-steps/s at several batch sizes, split into physics and the rest.

"physics" is the simulator step alone (10 MuJoCo steps of every copy, one batched C call);
"env step" adds the action mapping, coverage on 2048 points per copy, reward, auto-reset and
the torch observation/transition tensors; "expert step" adds the scripted expert's controller.
Prints one JSON object and writes benchmarks/results/pusht_throughput.json;
rerun with `python benchmarks/pusht_throughput.py`.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import mujoco
import numpy as np
import torch

from _meta import finish, record
from _timing import rate
from imitate.oracles.pusht import PushTExpert
from imitate.tasks.pusht import PushTEnv, action_to_target, target_to_action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="64,256,1024")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    meta = record()
    torch.set_num_threads(args.threads)
    rows = []
    for n in map(int, args.sizes.split(",")):
        env = PushTEnv(n, seed=0)
        env.reset()
        g = torch.Generator().manual_seed(0)
        actions = torch.rand(n, 2, generator=g) * 2 - 1
        targets = action_to_target(actions.double()).numpy()
        expert = PushTExpert(n, np.random.default_rng(0))

        def physics():
            env.sim.step(targets)

        def expert_step():
            target = expert(env.sim.qpos.copy())
            env.step(target_to_action(torch.from_numpy(target)).float())

        rows.append(
            {
                "num_envs": n,
                "physics_steps_per_s": round(rate(physics, args.steps, n)),
                "env_steps_per_s": round(rate(lambda: env.step(actions), args.steps, n)),
                "expert_env_steps_per_s": round(rate(expert_step, args.steps, n)),
            }
        )
    result = {
        "benchmark": "pusht_throughput",
        "meta": finish(meta),
        "threads": args.threads,
        "mujoco": mujoco.__version__,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "physics_hz": 100,
        "control_hz": 10,
        "results": rows,
    }
    out = Path(__file__).parent / "results" / "pusht_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
