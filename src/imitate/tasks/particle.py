"""IBC's N-D particle (Florence et al. 2021), batched in torch: visit goal 1, then goal 2, and stay there.

A point mass in [0, 1]^N tracks a position set-point with a PD law, acc = kp (target - p) - kv v
(kp 10, kv 5), integrated by explicit Euler (position with the old velocity, then velocity) over
10 sub-steps of 5 ms per control step; episodes last 50 steps (2.5 s). Agent start and both goals
are uniform in [0, 1]^N.

Observation (4N): agent position, agent velocity, goal 1, goal 2 (IBC's order).
Action at the env boundary: (N,) in [-1, 1], the set-point (a + 1) / 2 in [0, 1]^N.
Success (judged at the last step, like IBC): the agent came within 0.05 of goal 1 and of goal 2
at some time, and is within 0.05 of goal 2 at the end. The reward is 1 then, else 0 (sparse).

``goal_order="either"`` is IBC's multimodal variant (its oracle's ``multimodal`` flag): the
demonstrator visits the two goals in a random order, so the demonstrated action at the start is
bimodal. Success then asks for both goals reached and the agent at either of them at the end
(IBC left this case unhandled in its success check).

Declared as a term table (``particle_spec``): the goals are commands; a step event keeps the
distance to each goal now and the closest approach this episode in buffers; the dimension is part
of the declaration.
"""

from __future__ import annotations

import functools

import torch

from imitate.sim.pointmass import PointMassSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv
from imitate.tasks.core.terms import (
    ActionTerm,
    Buffer,
    Command,
    Event,
    ObsGroup,
    ObsTerm,
    RewardTerm,
    TaskSpec,
    Termination,
)
from imitate.tasks.particle_options import ParticleOptions

KP, KV = 10.0, 5.0  # PD gains
SUBSTEPS, SUBSTEP_S = 10, 0.005  # 200 Hz physics, 20 Hz control
MAX_EPISODE_STEPS = 50
GOAL_DISTANCE = 0.05  # success threshold
GOAL_ORDERS = ("fixed", "either")
GOALS = ("goal1", "goal2")


def action_to_target(action: torch.Tensor) -> torch.Tensor:
    """Action in [-1, 1]^N → set-point in [0, 1]^N."""
    return (action.clamp(-1.0, 1.0) + 1.0) / 2.0


def target_to_action(target: torch.Tensor) -> torch.Tensor:
    return target * 2.0 - 1.0


# -- terms ---------------------------------------------------------------------------------------
def _sim(num_envs: int, device: torch.device, options: object, *, n_dim: int) -> PointMassSim:
    return PointMassSim(
        num_envs, n_dim, kp=KP, kd=KV, substeps=SUBSTEPS, substep_s=SUBSTEP_S, integrator="explicit", device=device
    )


def _target(env: TaskEnv, action: torch.Tensor) -> torch.Tensor:
    return (action + 1.0) / 2.0  # action_to_target; TaskEnv has clamped it already


def position(env: TaskEnv, ids) -> torch.Tensor:
    """(M, n_dim) agent position: the first observation block and the style feature."""
    return env.sim.pos[ids]


def velocity(env: TaskEnv, ids) -> torch.Tensor:
    return env.sim.vel[ids]


def goal(env: TaskEnv, ids, name: str) -> torch.Tensor:
    return env.commands[name][ids]


def _count(env: TaskEnv, ids) -> int:
    return env.num_envs if isinstance(ids, slice) else len(ids)


def _start(env: TaskEnv, ids) -> None:
    """Agent uniform in the unit cube, at rest; no goal approached yet."""
    env.sim.set_bodies(ids, torch.rand(_count(env, ids), env.sim.dim, generator=env.generator, device=env.device))
    for name in GOALS:
        env.buffers[f"min_dist_{name}"][ids] = float("inf")


def _uniform_goal(env: TaskEnv, ids) -> torch.Tensor:
    return torch.rand(_count(env, ids), env.sim.dim, generator=env.generator, device=env.device)


def _measure_distances(env: TaskEnv, ids) -> None:
    """After the physics: the distance to each goal now and the closest approach so far."""
    for name in GOALS:
        dist = torch.linalg.vector_norm(env.sim.pos - env.commands[name], dim=-1)
        env.buffers[f"dist_{name}"] = dist
        env.buffers[f"min_dist_{name}"] = torch.minimum(env.buffers[f"min_dist_{name}"], dist)


def visited_both_and_at_goal(env: TaskEnv, either: bool) -> torch.Tensor:
    """(N,) bool, at the time limit only: both goals came within GOAL_DISTANCE and the agent is at
    goal 2 (``either``: at either goal) now."""
    both = (env.buffers["min_dist_goal1"] < GOAL_DISTANCE) & (env.buffers["min_dist_goal2"] < GOAL_DISTANCE)
    at_end = env.buffers["dist_goal2"] < GOAL_DISTANCE
    if either:
        at_end |= env.buffers["dist_goal1"] < GOAL_DISTANCE
    return env.fired["time_limit"] & both & at_end  # declared before this term


def _success_reward(env: TaskEnv) -> torch.Tensor:
    return env.fired["success"].float()


@functools.cache
def particle_spec(n_dim: int = 2, goal_order: str = "fixed") -> TaskSpec:
    """The particle task in ``n_dim`` dimensions with the given goal order."""
    if n_dim < 1:
        raise ValueError(f"n_dim must be at least 1, got {n_dim}")
    if goal_order not in GOAL_ORDERS:
        raise ValueError(f"goal_order must be one of {', '.join(GOAL_ORDERS)}, got {goal_order!r}")
    return TaskSpec(
        name="particle",
        make_sim=functools.partial(_sim, n_dim=n_dim),
        action=ActionTerm(_target, dim=n_dim),
        observations={
            "policy": ObsGroup(
                {
                    "position": ObsTerm(position),
                    "velocity": ObsTerm(velocity),
                    **{g: ObsTerm(goal, params={"name": g}) for g in GOALS},
                }
            ),
            "style": ObsGroup({"position": ObsTerm(position)}),
        },
        rewards={"success": RewardTerm(_success_reward)},  # sparse: 1 on success at the last step
        terminations={
            "time_limit": Termination(time_limit, time_out=True),
            "success": Termination(
                visited_both_and_at_goal, time_out=True, outcome="success", params={"either": goal_order == "either"}
            ),
        },
        events={"start": Event(_start), "distances": Event(_measure_distances, mode="step")},
        commands={g: Command(_uniform_goal, dim=n_dim) for g in GOALS},  # drawn after the start, goal 1 first
        buffers={
            **{f"dist_{g}": Buffer() for g in GOALS},  # after the last step
            **{f"min_dist_{g}": Buffer(fill=float("inf")) for g in GOALS},
        },  # closest approach this episode
        extras={
            "dist_goal1": lambda env: env.buffers["dist_goal1"],
            "dist_goal2": lambda env: env.buffers["dist_goal2"],
            "reached_goal1": lambda env: env.buffers["min_dist_goal1"] < GOAL_DISTANCE,
        },
        max_episode_steps=MAX_EPISODE_STEPS,
    )


PARTICLE = particle_spec()


def ParticleEnv(
    num_envs: int,
    seed: int = 0,
    device: str | torch.device = "cpu",  # noqa: N802
    options: ParticleOptions | None = None,
    n_dim: int = 2,
    goal_order: str = "fixed",
) -> TaskEnv:
    """``num_envs`` particles stepped together (auto-reset after 50 steps); style feature = position.
    The task options (``ParticleOptions``, from a run config) take precedence over the keywords."""
    if options is not None:
        n_dim, goal_order = options.n_dim, options.goal_order
    return TaskEnv(particle_spec(n_dim, goal_order), num_envs, seed=seed, device=device, options=options)
