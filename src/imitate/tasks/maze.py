"""NEAR's 2-D maze (Diwan et al. 2025; docs/tasks.md#maze), batched in torch.

A disc of radius 15 moves in a 512×512 arena with four inner walls. The action is an absolute
target position, tracked by a PD law integrated over 100 sub-steps of 3 ms. Reaching the goal
ends the episode with reward 1 (sparse); episodes are cut at 650 steps.

Walls are solid: after every sub-step the disc is pushed out of any wall it overlaps and loses
the velocity component into that wall. A sub-step moves the disc at most a few units (the PD
law's peak speed over the arena is ≈ 2300 units/s, i.e. ≈ 7 units per 3 ms), far less than a
wall's half thickness plus the radius (25), so the push-out direction is always the way it came
in and the disc cannot tunnel.
"""

from __future__ import annotations

import torch

from imitate.sim.pointmass import PointMassSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv
from imitate.tasks.core.terms import ActionTerm, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination

ARENA_SIZE = 512.0
AGENT_RADIUS = 15.0
# Inner walls as (x_min, y_min, x_max, y_max).
INNER_WALLS = (
    (20.0, 140.0, 40.0, 460.0),
    (100.0, 140.0, 120.0, 380.0),
    (20.0, 460.0, 350.0, 480.0),
    (100.0, 380.0, 350.0, 400.0),
)
# For collision only, the left wall reaches the arena border: the 20-unit gap between them is
# narrower than the disc, so nothing changes physically, but the push-out and the border clamp
# no longer fight over the disc at the wall's corner (which left a few thousandths of overlap).
COLLISION_WALLS = ((0.0, 140.0, 40.0, 460.0),) + INNER_WALLS[1:]
GOAL = (0.85 * ARENA_SIZE, 0.85 * ARENA_SIZE)
GOAL_RADIUS = 0.05 * (GOAL[0] ** 2 + GOAL[1] ** 2) ** 0.5  # "within 5% of the goal's norm"
START_LOW, START_HIGH = 60.0, 80.0
KP, KD, GAIN = 100.0, 20.0, 0.1  # acc = GAIN * (KP * (target - p) - KD * v)
SUBSTEPS, SUBSTEP_S = 100, 0.003
MAX_EPISODE_STEPS = 650


def push_out_of_walls(pos: torch.Tensor, vel: torch.Tensor, walls: torch.Tensor) -> None:
    """In place: move discs at pos (N, 2) out of walls (R, 4) and zero velocity into them."""
    lo, hi = walls[:, :2], walls[:, 2:]  # (R, 2)
    closest = torch.maximum(torch.minimum(pos[:, None, :], hi), lo)  # (N, R, 2)
    offset = pos[:, None, :] - closest
    dist = offset.norm(dim=-1, keepdim=True)  # (N, R, 1)
    overlap = dist < AGENT_RADIUS
    normal = offset / dist.clamp_min(1e-9)
    push = torch.where(overlap, normal * (AGENT_RADIUS - dist), torch.zeros_like(offset)).sum(1)
    pos += push
    into = (vel[:, None, :] * normal).sum(-1, keepdim=True).clamp_max(0.0)  # (N, R, 1)
    vel -= torch.where(overlap, into * normal, torch.zeros_like(offset)).sum(1)
    # Outer walls: the arena boundary.
    inside = pos.clamp(AGENT_RADIUS, ARENA_SIZE - AGENT_RADIUS)
    hit = inside != pos
    vel[hit] = 0.0
    pos.copy_(inside)


def touching_walls(pos: torch.Tensor, walls: torch.Tensor, tol: float = 1e-3) -> torch.Tensor:
    """(N,) bool: discs at pos (N, 2) within ``tol`` of a wall or the arena border."""
    closest = torch.maximum(torch.minimum(pos[:, None, :], walls[:, 2:]), walls[:, :2])  # (N, R, 2)
    near_wall = ((pos[:, None, :] - closest).norm(dim=-1) <= AGENT_RADIUS + tol).any(dim=1)
    near_border = ((pos <= AGENT_RADIUS + tol) | (pos >= ARENA_SIZE - AGENT_RADIUS - tol)).any(dim=-1)
    return near_wall | near_border


def action_to_target(action: torch.Tensor) -> torch.Tensor:
    """Action in [-1, 1]² → absolute target position in arena units."""
    return (action.clamp(-1.0, 1.0) + 1.0) * (ARENA_SIZE / 2)


def target_to_action(target: torch.Tensor) -> torch.Tensor:
    return target / (ARENA_SIZE / 2) - 1.0


# -- terms ---------------------------------------------------------------------------------------
def _sim(num_envs: int, device: torch.device, options: object) -> PointMassSim:
    walls = torch.tensor(COLLISION_WALLS, device=device)
    return PointMassSim(
        num_envs,
        2,
        kp=KP,
        kd=KD,
        gain=GAIN,
        substeps=SUBSTEPS,
        substep_s=SUBSTEP_S,
        integrator="semi_implicit",
        collide=lambda p, v: push_out_of_walls(p, v, walls),
        touching=lambda p: touching_walls(p, walls),
        device=device,
    )


def _target(env: TaskEnv, action: torch.Tensor) -> torch.Tensor:
    return (action + 1.0) * (ARENA_SIZE / 2)  # action_to_target; TaskEnv has clamped it already


def position(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 2) disc position in arena units: the observation and the style feature."""
    return env.sim.pos[ids].clone()


def _start(env: TaskEnv, ids) -> None:
    n = env.num_envs if isinstance(ids, slice) else len(ids)
    start = torch.rand(n, 2, generator=env.generator, device=env.device)
    env.sim.set_bodies(ids, START_LOW + (START_HIGH - START_LOW) * start)


def at_goal(env: TaskEnv) -> torch.Tensor:
    return (env.sim.pos - torch.tensor(GOAL, device=env.device)).norm(dim=-1) < GOAL_RADIUS


def _goal_reward(env: TaskEnv) -> torch.Tensor:
    return env.fired["goal"].float()


MAZE = TaskSpec(
    name="maze",
    make_sim=_sim,
    action=ActionTerm(_target, dim=2),
    observations={
        "policy": ObsGroup({"position": ObsTerm(position)}),
        "style": ObsGroup({"position": ObsTerm(position)}),
    },
    rewards={"goal": RewardTerm(_goal_reward)},  # sparse: 1 on reaching the goal
    terminations={
        "goal": Termination(at_goal, outcome="success"),
        "time_limit": Termination(time_limit, time_out=True),
    },
    events={"start": Event(_start)},  # uniform in the start square, at rest
    max_episode_steps=MAX_EPISODE_STEPS,
)


def MazeEnv(num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: object = None) -> TaskEnv:  # noqa: N802
    """``num_envs`` mazes stepped together; observation and style feature are (x, y)."""
    return TaskEnv(MAZE, num_envs, seed=seed, device=device, options=options)
