"""AIME's DeepMind Control tasks (Zhang et al. 2023; docs/dmc.md), batched on ``DmcSim``.

Walker stand, walk and run and cheetah run are dm_control's suite tasks; cheetah run-backward,
flip and flip-backward are AIME's rewards on dm_control's cheetah. One env step holds the action
for ``action_repeat`` dm_control steps (AIME: 2), so an episode, dm_control's 1000 steps, is 500
env steps. No task terminates early: every episode ends at its time limit (a truncation).

Resets are dm_control's: the walker draws every limited joint uniformly in its range and its
unlimited hinge (the torso's pitch) in [-π, π], at rest; the cheetah draws its limited joints
uniformly and lets the body settle for 200 physics steps (``DmcSim.settle``).

Observations are named sensors (dm_control's observation keys, ``dmc_options.SENSORS``),
concatenated in a fixed order into the ``policy`` group; ``env.obs_layout`` records names and sizes
and ``env.observation_terms()`` splits a frame back into them. ``setup=lpomdp`` shows the first-order
sensors only and moves the velocities into a ``probe`` group.

Rewards, computed in numpy from the batched state with dm_control's own ``tolerance``:

- walker: stand = (3·tol(torso height, [1.2, ∞), margin 0.6) + (1 + torso zz)/2) / 4; walk and run
  multiply it by (5·move + 1)/6 with move = tol(centre-of-mass speed, [v, ∞), margin v/2, linear,
  0.5 at the margin), v = 1 (walk) or 8 (run) m/s;
- cheetah run: tol(centre-of-mass speed, [10, ∞), margin 10, linear, 0 at the margin);
- these are summed over the repeated dm_control steps, as AIME's wrapper sums them;
- AIME's cheetah rewards replace that sum with one value read from the last step's joint
  velocities: run-backward clip(−ẋ/10, 0, 1) (ẋ the root's horizontal velocity), flip
  clip(θ̇/5, 0, 1) and flip-backward clip(−θ̇/5, 0, 1) (θ̇ the root's pitch rate).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
import torch

from imitate.sim.dmc import DmcSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv, np_ids
from imitate.tasks.core.terms import ActionTerm, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination
from imitate.tasks.dmc_options import DmcOptions, Sensor, hidden_sensors, visible_sensors
from imitate.utils import rotations as rot

STAND_HEIGHT = 1.2  # dm_control walker: torso height above which standing scores 1
WALKER_SPEEDS = {"stand": 0.0, "walk": 1.0, "run": 8.0}  # m/s above which moving scores 1
CHEETAH_RUN_SPEED = 10.0
# AIME's cheetah rewards: (qvel index, sign, scale) of clip(sign · qvel[index] / scale, 0, 1)
AIME_CHEETAH = {"run-backward": (0, -1.0, 10.0), "flip": (2, 1.0, 5.0), "flip-backward": (2, -1.0, 5.0)}
SETTLE_STEPS = 200  # dm_control cheetah: physics steps that settle a reset pose
TORSO = 0  # the torso is the first body (index 0 of the kinematics, world excluded) in both models


@dataclass(frozen=True)
class DmcTask:
    domain: str
    reward_name: str
    reward: Callable[..., Any]  # (env, **params) -> (N,)
    params: dict


def _tolerance(x: np.ndarray, **kwargs: Any) -> np.ndarray:
    from dm_control.utils.rewards import tolerance  # the DmcSim of this env has checked dm_control is there

    return np.asarray(tolerance(x, **kwargs))


# -- physics read-outs ---------------------------------------------------------------------------
def _boundary_poses(env: TaskEnv) -> tuple[np.ndarray, np.ndarray]:
    """Body positions (N, R, B, 3) and orientations (N, R, B, 4) after each of the R repeated
    dm_control steps, in one batched kinematics call; the last (the current state) is kept in
    ``env.scratch`` for this step's sensors."""
    sim: DmcSim = env.sim
    qpos = sim.split(sim.boundary_states())[0]  # (N, R, nq)
    pos, quat = sim.kin.forward(qpos.reshape(-1, sim.nq))[:2]
    shape = (env.num_envs, sim.action_repeat, sim.kin.nbody)
    pos, quat = pos.reshape(*shape, 3), quat.reshape(*shape, 4)
    env.scratch["pose"] = pos[:, -1], quat[:, -1]
    return pos, quat


def _pose(env: TaskEnv, ids) -> tuple[np.ndarray, np.ndarray]:
    """Body positions (M, B, 3) and orientations (M, B, 4) of envs ``ids`` now."""
    pos, quat = env.scratch["pose"] if "pose" in env.scratch else (env.sim.body_pos(), env.sim.body_quat())
    return pos[np_ids(ids)], quat[np_ids(ids)]


def _com_speed(env: TaskEnv) -> np.ndarray:
    """(N, R) horizontal centre-of-mass velocity after each repeated step: dm_control's
    ``torso_subtreelinvel`` sensor (the torso's subtree is the whole body), read from MuJoCo."""
    return env.sim.boundary_sensor("torso_subtreelinvel")[..., 0]


def walker_reward(env: TaskEnv, move_speed: float) -> torch.Tensor:
    """dm_control's PlanarWalker reward, summed over the repeated steps."""
    pos, quat = _boundary_poses(env)
    standing = _tolerance(pos[..., TORSO, 2], bounds=(STAND_HEIGHT, float("inf")), margin=STAND_HEIGHT / 2)
    upright = (1.0 + rot.quat_to_matrix(quat[..., TORSO, :])[..., 2, 2]) / 2.0
    reward = (3.0 * standing + upright) / 4.0
    if move_speed > 0:
        move = _tolerance(
            _com_speed(env),
            bounds=(move_speed, float("inf")),
            margin=move_speed / 2,
            value_at_margin=0.5,
            sigmoid="linear",
        )
        reward = reward * (5.0 * move + 1.0) / 6.0
    return torch.from_numpy(reward.sum(axis=1))


def cheetah_run_reward(env: TaskEnv) -> torch.Tensor:
    """dm_control's cheetah run reward, summed over the repeated steps."""
    reward = _tolerance(
        _com_speed(env),
        bounds=(CHEETAH_RUN_SPEED, float("inf")),
        margin=CHEETAH_RUN_SPEED,
        value_at_margin=0.0,
        sigmoid="linear",
    )
    return torch.from_numpy(reward.sum(axis=1))


def aime_cheetah_reward(env: TaskEnv, index: int, sign: float, scale: float) -> torch.Tensor:
    """AIME's clip(sign · qvel[index] / scale, 0, 1) of the last step's velocities (not summed)."""
    return torch.from_numpy(np.clip(sign * env.sim.qvel[:, index] / scale, 0.0, 1.0))


TASKS: dict[str, DmcTask] = {
    **{
        f"walker-{name}": DmcTask("walker", name, walker_reward, {"move_speed": speed})
        for name, speed in WALKER_SPEEDS.items()
    },
    "cheetah-run": DmcTask("cheetah", "run", cheetah_run_reward, {}),
    **{
        f"cheetah-{name}": DmcTask(
            "cheetah", name.replace("-", "_"), aime_cheetah_reward, dict(zip(("index", "sign", "scale"), rule))
        )
        for name, rule in AIME_CHEETAH.items()
    },
}


# -- sensors (dm_control's observation keys) -----------------------------------------------------
def orientations(env: TaskEnv, ids) -> np.ndarray:
    """(M, 14) the xx and xz entries of every body's rotation matrix, body by body."""
    matrix = rot.quat_to_matrix(_pose(env, ids)[1])  # (M, 7, 3, 3)
    return matrix[..., 0, [0, 2]].reshape(len(matrix), -1)


def height(env: TaskEnv, ids) -> np.ndarray:
    """(M, 1) torso height."""
    return _pose(env, ids)[0][:, TORSO, 2:3]


def position(env: TaskEnv, ids) -> np.ndarray:
    """(M, nq - 1) joint positions without the horizontal root position (translation invariance)."""
    return env.sim.qpos[np_ids(ids), 1:]


def velocity(env: TaskEnv, ids) -> np.ndarray:
    """(M, nv) every joint velocity."""
    return env.sim.qvel[np_ids(ids)]


SENSOR_TERMS = {"orientations": orientations, "height": height, "position": position, "velocity": velocity}


def _group(sensors: tuple[Sensor, ...]) -> ObsGroup:
    return ObsGroup({s.name: ObsTerm(SENSOR_TERMS[s.name]) for s in sensors})


# -- resets --------------------------------------------------------------------------------------
def _random_joints(env: TaskEnv, ids, rotational: bool) -> np.ndarray:
    """dm_control's start poses: limited joints uniform in their range; with ``rotational``, the
    unlimited hinges uniform in [-π, π] (its randomize_limited_and_rotational_joints); the rest
    at the reference pose."""
    model = env.sim.model
    idx = np.arange(env.num_envs) if isinstance(ids, slice) else ids.cpu().numpy()
    low, high = np.zeros(model.nq), np.zeros(model.nq)
    for j in range(model.njnt):  # hinges and slides only (the models have no others): one coordinate each
        adr = model.jnt_qposadr[j]
        if model.jnt_limited[j]:
            low[adr], high[adr] = model.jnt_range[j]
        elif rotational and model.jnt_type[j] == int(mujoco.mjtJoint.mjJNT_HINGE):
            low[adr], high[adr] = -np.pi, np.pi
    qpos = np.where(low < high, env.rng.uniform(low, high, size=(len(idx), model.nq)), model.qpos0)
    env.sim.set_joints(qpos, env_ids=idx)
    return idx


def _walker_start(env: TaskEnv, ids) -> None:
    _random_joints(env, ids, rotational=True)


def _cheetah_start(env: TaskEnv, ids) -> None:
    env.sim.settle(_random_joints(env, ids, rotational=False), SETTLE_STEPS)


def _control(env: TaskEnv, action: torch.Tensor) -> np.ndarray:
    return action.detach().to("cpu", torch.float64).numpy()  # motors take [-1, 1] as they are


def _sim(num_envs: int, device: torch.device, options: DmcOptions | None, *, domain: str) -> DmcSim:
    """``options`` may also set the engine's ``nthread`` (see ``MujocoSim``; benchmarks do)."""
    return DmcSim(domain, num_envs, (options or DmcOptions()).action_repeat, nthread=getattr(options, "nthread", None))


def _episode_steps(options: DmcOptions | None) -> int:
    return (options or DmcOptions()).episode_steps


@functools.cache
def dmc_spec(name: str, setup: str = "mdp") -> TaskSpec:
    """The task ``name`` (a key of ``TASKS``) in AIME's ``setup``."""
    if name not in TASKS:
        raise ValueError(f"unknown DeepMind Control task {name!r}; tasks: {', '.join(TASKS)}")
    task = TASKS[name]
    observations = {"policy": _group(visible_sensors(task.domain, setup))}
    hidden = hidden_sensors(task.domain, setup)
    if hidden:
        observations["probe"] = _group(hidden)
    return TaskSpec(
        name=name,
        make_sim=functools.partial(_sim, domain=task.domain),
        action=ActionTerm(_control, dim=6),  # both models have six motors
        observations=observations,
        rewards={task.reward_name: RewardTerm(task.reward, params=task.params)},
        terminations={"time_limit": Termination(time_limit, time_out=True)},
        events={"start": Event(_walker_start if task.domain == "walker" else _cheetah_start)},
        max_episode_steps=_episode_steps,
    )


def DmcEnv(  # noqa: N802
    name: str, num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: DmcOptions | None = None
) -> TaskEnv:
    """``num_envs`` copies of the DeepMind Control task ``name`` with ``options`` (defaults: mdp, repeat 2)."""
    options = DmcOptions() if options is None else options
    return TaskEnv(dmc_spec(name, options.setup), num_envs, seed=seed, device=device, options=options)


def _factory(name: str) -> Callable[..., TaskEnv]:
    def make(num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: Any = None) -> TaskEnv:
        return DmcEnv(name, num_envs, seed=seed, device=device, options=options)

    make.__doc__ = f"``num_envs`` copies of {name} (``DmcEnv``)."
    return make


# the registry's entry points, one per task
WalkerStandEnv = _factory("walker-stand")
WalkerWalkEnv = _factory("walker-walk")
WalkerRunEnv = _factory("walker-run")
CheetahRunEnv = _factory("cheetah-run")
CheetahRunBackwardEnv = _factory("cheetah-run-backward")
CheetahFlipEnv = _factory("cheetah-flip")
CheetahFlipBackwardEnv = _factory("cheetah-flip-backward")
