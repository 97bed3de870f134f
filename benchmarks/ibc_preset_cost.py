"""What IBC's particle presets cost on this CPU: seconds per 1000 gradient steps and per
evaluation step, for the named presets (preset=paper, preset=released) beside the default ones.

Each preset is resolved as `imitate train particle ALGO [preset=NAME]` would resolve it (N = 2);
its policy is built and trained on 200 oracle episodes (observation history stacked as the preset
asks) with 1 torch thread. Training is timed over consecutive steps after one warm-up step, until
``--seconds`` have passed (at least 2 steps, at most 200), and scaled to 1000 steps. Acting is
timed on ``--act-batch`` observations (one `act` call, after a warm-up call) and scaled to one
step of a 100-episode evaluation (100 observations) and to the whole 50-step evaluation. The
numbers are extrapolations from short runs, on a CPU shared with other work: the JSON carries
the load average at the start and the end (``meta``). Prints one JSON object and writes
benchmarks/results/ibc_preset_cost.json.

    python benchmarks/ibc_preset_cost.py                 # about 10 min at a load average of 4
    python benchmarks/ibc_preset_cost.py --seconds 5 --only mse:paper
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from _meta import finish, record
from imitate.algos import bc, ibc, ibc_ardfo
from imitate.algos.bc_common import BCTrainer
from imitate.data.history import stack_history
from imitate.registry import get_task
from imitate.runner import resolve_config
from imitate.utils.io import atomic_write_json

PRESETS = [  # (algo, named preset or "" for configs/particle.yaml)
    ("ibc-langevin", "paper"),
    ("mse", "paper"),
    ("ibc-langevin", "released"),
    ("ibc-langevin", ""),
    ("ibc-dfo", ""),
    ("ibc-ardfo", ""),
    ("mse", ""),
]
BUILD = {"ibc-langevin": ibc.build, "ibc-dfo": ibc.build, "ibc-ardfo": ibc_ardfo.build, "mse": bc.build_mse}
EVAL_EPISODES, EPISODE_STEPS = 100, 50  # a 100-episode evaluation of the 50-step particle


def measure(algo: str, name: str, seconds: float, act_batch: int) -> dict:
    cfg = resolve_config("particle", algo, {"preset": name} if name else {}, check_inputs=False)
    demos = get_task("particle").run_oracle(200, seed=0, cfg=cfg)
    obs = stack_history(torch.from_numpy(demos.obs), demos.episode_ends.tolist(), cfg.history)
    act = torch.from_numpy(demos.actions)
    torch.manual_seed(0)
    policy = BUILD[algo](cfg, obs.shape[1], act.shape[1])
    policy.normalizer.fit(obs, act)
    obs_n, act_n = policy.normalizer.obs(obs), policy.normalizer.action(act)
    trainer, g = BCTrainer(policy, cfg), torch.Generator().manual_seed(0)

    def step() -> None:
        idx = torch.randint(0, len(obs_n), (cfg.batch_size,), generator=g)
        trainer.step(obs_n[idx], act_n[idx], g)

    step()  # warm-up
    steps, started, cpu = 0, time.perf_counter(), time.process_time()
    while steps < 2 or (time.process_time() - cpu < seconds and steps < 200):
        step()
        steps += 1
    per_step, per_step_wall = (time.process_time() - cpu) / steps, (time.perf_counter() - started) / steps
    policy.eval()
    with torch.no_grad():
        policy.act_normalized(obs_n[:act_batch], g)  # warm-up
        cpu = time.process_time()
        policy.act_normalized(obs_n[:act_batch], g)
        per_obs = (time.process_time() - cpu) / act_batch
    return {
        "algo": algo,
        "preset": name or "default",
        "command": f"imitate train particle {algo}" + (f" preset={name}" if name else ""),
        "iterations": cfg.iterations,
        "batch_size": cfg.batch_size,
        "timed_steps": steps,
        "cpu_seconds_per_1k_steps": round(per_step * 1000, 1),
        "wall_seconds_per_1k_steps": round(per_step_wall * 1000, 1),
        "cpu_hours_at_preset": round(per_step * cfg.iterations / 3600, 2),
        "act_batch": act_batch,
        "cpu_seconds_per_eval_step": round(per_obs * EVAL_EPISODES, 3),
        "cpu_minutes_eval_100_episodes": round(per_obs * EVAL_EPISODES * EPISODE_STEPS / 60, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU seconds of training to time per preset")
    parser.add_argument("--act-batch", type=int, default=10, help="observations in the timed act call")
    parser.add_argument("--only", default="", help="ALGO:PRESET,... (PRESET empty: the default)")
    parser.add_argument("--out", default="benchmarks/results/ibc_preset_cost.json")
    args = parser.parse_args()
    chosen = [tuple(x.split(":", 1)) for x in args.only.split(",")] if args.only else PRESETS
    meta = record()
    torch.set_num_threads(1)
    rows = []
    for algo, name in chosen:
        rows.append(measure(algo, name, args.seconds, args.act_batch))
        print(json.dumps(rows[-1]), flush=True)
    result = {"benchmark": "ibc_preset_cost", "meta": finish(meta), "threads": 1, "n_dim": 2, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
