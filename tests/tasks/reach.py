"""A point-reaching task declared in terms: the worked example of docs/architecture.md.

A point mass in the unit square is driven to a goal drawn at every reset. The policy sees its
position, velocity and the goal; the reward is the negative distance, plus 1 on arrival.
"""

from __future__ import annotations

import torch

from imitate.sim.pointmass import PointMassSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv
from imitate.tasks.core.terms import ActionTerm, Command, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination

REACHED = 0.05  # success radius


def _count(env: TaskEnv, ids) -> int:
    return env.num_envs if isinstance(ids, slice) else len(ids)


def place_at_random(env: TaskEnv, ids) -> None:
    env.sim.set_bodies(ids, torch.rand(_count(env, ids), 2, generator=env.generator))


def random_goal(env: TaskEnv, ids) -> torch.Tensor:
    return torch.rand(_count(env, ids), 2, generator=env.generator)


def distance(env: TaskEnv) -> torch.Tensor:
    return (env.sim.pos - env.commands["goal"]).norm(dim=-1)


REACH = TaskSpec(
    name="reach",
    make_sim=lambda n, device, options: PointMassSim(
        n, 2, kp=10.0, kd=5.0, substeps=10, substep_s=0.005, device=device
    ),
    action=ActionTerm(lambda env, a: (a + 1) / 2, dim=2),  # set-point anywhere in the square
    observations={
        "policy": ObsGroup(
            {
                "position": ObsTerm(lambda env, ids: env.sim.pos[ids]),
                "velocity": ObsTerm(lambda env, ids: env.sim.vel[ids]),
                "goal": ObsTerm(lambda env, ids: env.commands["goal"][ids]),
            }
        )
    },
    rewards={
        "distance": RewardTerm(distance, weight=-1.0),
        "arrival": RewardTerm(lambda env: env.fired["reached"].float()),
    },
    terminations={
        "reached": Termination(lambda env: distance(env) < REACHED, outcome="success"),
        "time_limit": Termination(time_limit, time_out=True),
    },
    events={"place": Event(place_at_random)},
    commands={"goal": Command(random_goal, dim=2)},
    max_episode_steps=50,
)


def ReachEnv(num_envs: int, seed: int = 0, device: str = "cpu", options: object = None) -> TaskEnv:  # noqa: N802
    return TaskEnv(REACH, num_envs, seed=seed, device=device, options=options)
