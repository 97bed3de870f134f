"""Re-evaluate trained particle runs under other inference settings, and say how episodes fail.

A trained energy can be judged by many samplers: this script loads each RUN_DIR's checkpoint,
evaluates it on the same episodes (env seed = run seed + 10 000, as `imitate eval` does) once per
variant, and sorts the failures of the 2-D particle into kinds:

- never_g1: never came within 0.05 of goal 1 (switched early, or wandered);
- left_g2: reached goal 1, then goal 2, then left goal 2 again (set goal 1 again while at rest);
- stuck_at_g1: reached goal 1, never goal 2 after it, ends at goal 1 (never switched);
- moving_end: reached goal 1, never goal 2 after it, ends elsewhere.

Runs with goal_order=either (either goal may come first) relabel each episode so that "goal 1" is
the goal it reached first; never_g1 then means it reached no goal at all.

    python benchmarks/ibc_inference.py RUN_DIR [RUN_DIR...] \
        --variants '[{}, {"dfo_select": "sample"}, {"dfo_samples": 1024}]'

Each row also has start_choice: on the first observations of 500 episodes whose goals are more
than 0.3 apart, the share of set-points within 0.05 of a goal (a committed choice) and within 0.05
of the goals' midpoint (regression to the mean), the telling number for goal_order=either.

Prints one JSON line per run and variant; --out FILE also writes them as a JSON list.
With --demos FILE (2-D particle demonstrations), each IBC run also reports how often its energy
ranks the demonstrated goal above the other goal, E(o, demo goal) > E(o, other goal), on the
demonstration states, by region: start states, within 0.02 of goal 1, at rest at goal 2, mid-flight.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _meta import finish, record


def failure_kinds(
    trajectories: list[np.ndarray], successes: np.ndarray, radius: float = 0.05, either_order: bool = False
) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for traj, ok in zip(trajectories, successes):
        if ok:
            continue
        n = traj.shape[1] // 4
        pos, goal1, goal2 = traj[:, :n], traj[:, 2 * n : 3 * n], traj[:, 3 * n :]
        d1, d2 = np.linalg.norm(pos - goal1, axis=1), np.linalg.norm(pos - goal2, axis=1)
        reached1, reached2 = d1 < radius, d2 < radius
        if either_order and reached2.any() and (not reached1.any() or np.argmax(reached2) < np.argmax(reached1)):
            d1, d2 = d2, d1  # goal 2 was reached first: it is this episode's first goal
        if d1.min() >= radius:
            kind = "never_g1"
        elif (d2[int(np.argmax(d1 < radius)) :] < radius).any():
            kind = "left_g2"  # the env's test failed, so it is not at goal 2 at the end
        elif d1[-1] < radius:
            kind = "stuck_at_g1"
        else:
            kind = "moving_end"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def demo_ranking(policy, demos_path: str) -> dict[str, float]:
    """Share of demonstration states where the energy prefers the demonstrated goal (2-D particle)."""
    data = np.load(demos_path, allow_pickle=True)
    obs = torch.as_tensor(data["obs"], dtype=torch.float32)
    act = torch.as_tensor(data["actions"], dtype=torch.float32)
    pos, vel, goal1, goal2 = obs[:, :2], obs[:, 2:4], obs[:, 4:6], obs[:, 6:8]
    labelled_goal2 = ((act + 1) / 2 - goal2).norm(dim=1) < 1e-4  # oracle actions are goal set-points
    with torch.no_grad():
        candidates = torch.stack([policy.normalizer.action(goal1 * 2 - 1), policy.normalizer.action(goal2 * 2 - 1)], 1)
        energy = policy.energy(policy.normalizer.obs(obs), candidates)
    right = ((energy[:, 1] > energy[:, 0]) == labelled_goal2).float()
    speed, d1, d2 = vel.norm(dim=1), (pos - goal1).norm(dim=1), (pos - goal2).norm(dim=1)
    regions = {
        "all": torch.ones_like(speed, dtype=torch.bool),
        "start": speed == 0,
        "near_goal1": d1 < 0.02,
        "at_rest_at_goal2": (d2 < 0.02) & (speed < 0.05),
        "mid_flight": (d1 > 0.05) & (d2 > 0.05),
    }
    return {name: round(right[mask].mean().item(), 4) for name, mask in regions.items()}


def start_choice(policy, task, cfg, episodes: int = 500) -> dict[str, float]:
    """Where the policy aims at the start of an episode: at a goal, or between the two?"""
    from imitate.algos.bc_common import policy_env

    env = policy_env(task, episodes, cfg, seed=cfg.seed + 20_000)
    seen = env.reset()
    n = env.n_dim
    with torch.no_grad():
        target = env.action_to_target(policy.act(seen))
    obs = seen[:, -4 * n :]  # the newest frame (the whole observation without history)
    goal1, goal2 = obs[:, 2 * n : 3 * n], obs[:, 3 * n :]
    to_goal = torch.minimum((target - goal1).norm(dim=1), (target - goal2).norm(dim=1))
    to_middle = (target - (goal1 + goal2) / 2).norm(dim=1)
    apart = (goal1 - goal2).norm(dim=1) > 0.3
    return {
        "at_a_goal": round((to_goal[apart] < 0.05).float().mean().item(), 3),
        "at_the_midpoint": round((to_middle[apart] < 0.05).float().mean().item(), 3),
    }


def evaluate_variant(run_dir: str, variant: dict, episodes: int, demos: str | None = None) -> dict | None:
    from imitate.algos import bc, ibc
    from imitate.algos.bc_common import load_policy, policy_env, rollout
    from imitate.registry import get_task
    from imitate.runner import run_config
    from imitate.utils.run import Run

    run = Run.open(run_dir)
    task = get_task(run.task)
    base = run_config(run)
    unknown = set(variant) - {f.name for f in dataclasses.fields(base)}
    if unknown:  # e.g. a DFO setting on an MSE run: nothing to re-evaluate
        print(f"skipped {run_dir} {variant}: {run.algo} has no {', '.join(sorted(unknown))}", file=sys.stderr)
        return None
    cfg = dataclasses.replace(base, **variant)
    cfg.validate()
    build = bc.BUILDERS.get(run.algo, ibc.build)
    env = policy_env(task, episodes, cfg, seed=cfg.seed + 10_000)
    policy = load_policy(run, task, cfg, build, env)
    started = time.time()
    result = rollout(policy, env, seed=cfg.seed + 10_000)
    row = {
        "run": run_dir,
        "algo": run.algo,
        "variant": variant,
        "episodes": episodes,
        "success_rate": round(float(result.success_rate), 3),
        "eval_seconds": round(time.time() - started, 1),
        "failures": failure_kinds(
            [np.asarray(t) for t in result.trajectories],
            result.successes,
            either_order=getattr(cfg, "goal_order", "fixed") == "either",
        ),
    }
    row["start_choice"] = start_choice(policy, task, cfg)
    if demos and hasattr(policy, "energy"):
        row["demo_ranking"] = demo_ranking(policy, demos)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--variants", default="[{}]", help="JSON list of config overrides, one evaluation each")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--demos", help="2-D particle demonstrations for the energy-ranking check")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    meta = record()
    torch.set_num_threads(1)
    try:
        variants = json.loads(args.variants)
        assert isinstance(variants, list) and all(isinstance(v, dict) for v in variants)
    except (json.JSONDecodeError, AssertionError):
        sys.exit(f"--variants must be a JSON list of objects, got {args.variants!r}")
    rows = []
    for run_dir in args.runs:
        for variant in variants:
            row = evaluate_variant(run_dir, variant, args.episodes, args.demos)
            if row is not None:
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.out:
        from imitate.utils.io import atomic_write_json

        atomic_write_json(args.out, {"meta": finish(meta), "rows": rows})


if __name__ == "__main__":
    main()
