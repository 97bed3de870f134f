"""Planar block pushing (after IBC's BlockPush, Florence et al. 2021; docs/tasks.md), batched over MuJoCo's C engine.

A small cylindrical pusher, driven in x and y by stiff position actuators on two slide joints,
pushes a 4 cm, 0.1 kg cube across a table onto a target point. The block has slide x, y, z and
hinge z joints (it cannot tip, so the task stays planar) and rests on the table under gravity:
the table's friction (μ = 0.4, elliptic cone, so isotropic) is a real contact, and a block that
is no longer pushed stops within about a centimetre. The pusher floats just above the table and
touches only the block. (Joint ``frictionloss`` on slide joints was tried first: it is
per-axis, so a diagonally pushed block moved along the axes in an L.)

Action: (N, 2) in [-1, 1], a *delta set-point*: the pusher's set-point moves by
``MAX_DELTA_M * action`` (±0.1 m) per control step of ``CONTROL_DT_S`` (0.1 s, as IBC's 10 Hz)
and is clipped to the workspace. The set-point accumulates (like IBC's effector target), so it
is part of the observation.

Observation (N, 10), metres and radians:
    pusher x, y | set-point x, y | block x, y | sin yaw, cos yaw | target x, y
``style_dim`` = 10; ``transition`` = (s_t, s_t+1).

Episode: block, target and pusher are drawn in separate regions (block in front of the pusher,
target beyond the block); success when the block centre is within the task option
``success_tolerance_m`` (``BlockPushOptions``, default ``SUCCESS_DIST_M`` = 0.02 m) of the target,
orientation ignored (as IBC's BlockPush). Success ends the episode with reward 1
(sparse; ``extras['block_target_dist']`` holds the distance for logging or shaping); episodes are
cut at ``MAX_EPISODE_STEPS`` (100 control steps = 10 s).

Warm-starting of the constraint solver is disabled, so the next state depends only on
(qpos, qvel, ctrl): ``get_state``/``set_state`` are exact and both ``MujocoSim`` backends
(``rollout``, the default, or ``threads``, a pool over a few ``MjData``) give bit-identical results.
The set-point and the target are float64 buffers (the set-point is the actuator control).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np
import torch

from imitate.sim.mujoco_c import MujocoSim
from imitate.tasks.block_push_options import BlockPushOptions
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv, np_ids
from imitate.tasks.core.terms import ActionTerm, Buffer, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination

BLOCK_HALF_M = 0.02  # half side of the cube
PUSHER_RADIUS_M = 0.0125
MAX_DELTA_M = 0.1  # set-point change per control step at |action| = 1
CONTROL_DT_S = 0.1
TIMESTEP_S = 0.005
SUBSTEPS = int(round(CONTROL_DT_S / TIMESTEP_S))
SUCCESS_DIST_M = BlockPushOptions().success_tolerance_m  # the default; the env reads its options'
# Evaluation also reports success at each of these (``eval/metrics.block_push_metrics``): IBC's
# EBM configs used 0.02 m and its MSE configs 0.01 m (google-research/ibc issue #5).
SUCCESS_TOLERANCES_M = (0.01, 0.02)
MAX_EPISODE_STEPS = 100
WORKSPACE = ((-0.3, 0.3), (-0.35, 0.35))  # (x range, y range) of the set-point, metres
# Reset regions (x range, y range), metres: block in front, target beyond it; the pusher starts
# behind or beside the block (at least PUSHER_START_GAP_M from its centre), so some episodes
# must go around it.
PUSHER_REGION = ((-0.25, 0.25), (-0.3, -0.05))
PUSHER_START_GAP_M = 0.07
BLOCK_REGION = ((-0.1, 0.1), (-0.15, -0.05))
TARGET_REGION = ((-0.1, 0.1), (0.1, 0.2))
OBS_NAMES = [
    "pusher_x",
    "pusher_y",
    "setpoint_x",
    "setpoint_y",
    "block_x",
    "block_y",
    "block_sin_yaw",
    "block_cos_yaw",
    "target_x",
    "target_y",
]

MJCF = f"""
<mujoco model="block_push">
  <option timestep="{TIMESTEP_S}" integrator="implicitfast" gravity="0 0 -9.81" cone="elliptic">
    <flag warmstart="disable"/>
  </option>
  <default>
    <geom contype="0" conaffinity="0" friction="0.3 0.005 0.0001"/>
  </default>
  <worldbody>
    <light pos="0 0 1.5" dir="0 0 -1"/>
    <geom name="table" type="plane" size="0.4 0.4 0.01" contype="2" conaffinity="2" rgba="0.85 0.85 0.8 1"/>
    <site name="target" pos="0 0 0.0005" size="{SUCCESS_DIST_M} 0.0005" type="cylinder" rgba="0.1 0.8 0.2 0.5"/>
    <body name="pusher" pos="0 0 {BLOCK_HALF_M}">
      <joint name="pusher_x" type="slide" axis="1 0 0" damping="0"/>
      <joint name="pusher_y" type="slide" axis="0 1 0" damping="0"/>
      <geom name="pusher" type="cylinder" size="{PUSHER_RADIUS_M} {BLOCK_HALF_M}" mass="1.0"
            contype="1" conaffinity="1" rgba="0.2 0.3 0.9 1"/>
    </body>
    <body name="block" pos="0 0 {BLOCK_HALF_M}">
      <joint name="block_x" type="slide" axis="1 0 0" damping="0.05"/>
      <joint name="block_y" type="slide" axis="0 1 0" damping="0.05"/>
      <joint name="block_z" type="slide" axis="0 0 1"/>
      <joint name="block_yaw" type="hinge" axis="0 0 1" damping="0.0001"/>
      <geom name="block" type="box" size="{BLOCK_HALF_M} {BLOCK_HALF_M} {BLOCK_HALF_M}" mass="0.1"
            contype="2" conaffinity="1" friction="0.4 0.005 0.0001" rgba="0.9 0.4 0.1 1"/>
    </body>
  </worldbody>
  <actuator>
    <position name="pusher_x" joint="pusher_x" kp="1000" dampratio="1" forcelimited="true" forcerange="-20 20"/>
    <position name="pusher_y" joint="pusher_y" kp="1000" dampratio="1" forcelimited="true" forcerange="-20 20"/>
  </actuator>
</mujoco>
"""

_MODEL: mujoco.MjModel | None = None
_REST_Z: float = 0.0


def load_model() -> mujoco.MjModel:
    """The (shared, read-only) MjModel; qpos = [pusher x, y, block x, y, z, yaw]."""
    global _MODEL, _REST_Z
    if _MODEL is None:
        model = mujoco.MjModel.from_xml_string(MJCF)
        # The block's resting height on the soft table contact, so a reset block starts settled.
        d = mujoco.MjData(model)
        d.qpos[:2] = (0.3, 0.3)
        mujoco.mj_step(model, d, 400)
        _REST_Z = float(d.qpos[4])
        _MODEL = model
    return _MODEL


WS_LO = np.array([WORKSPACE[0][0], WORKSPACE[1][0]])  # set-point bounds, metres
WS_HI = np.array([WORKSPACE[0][1], WORKSPACE[1][1]])


def _uniform(gen: torch.Generator, n: int, region) -> np.ndarray:
    """(n, 2) points uniform in region ((x0, x1), (y0, y1))."""
    u = torch.rand(n, 2, generator=gen, dtype=torch.float64).numpy()
    lo = np.array([region[0][0], region[1][0]])
    hi = np.array([region[0][1], region[1][1]])
    return lo + (hi - lo) * u


def block_target_dist(env: TaskEnv) -> np.ndarray:
    """(N,) distance (m) of each block centre to its target."""
    return np.linalg.norm(env.sim.qpos[:, 2:4] - env.buffers["target"], axis=1)


def place(env: TaskEnv, i: int, pusher=None, block=None, yaw=None, target=None) -> None:
    """Put env i's pusher (and its set-point), block or target at given positions (metres,
    radians), at rest; its observations are read again (tests and oracle checks)."""
    qpos, qvel = env.sim.qpos[i].copy(), env.sim.qvel[i].copy()
    if pusher is not None:
        qpos[0:2] = pusher
        env.buffers["setpoint"][i] = pusher
        qvel[0:2] = 0.0
    if block is not None:
        qpos[2:5] = (block[0], block[1], _REST_Z)
        qvel[2:6] = 0.0
    if yaw is not None:
        qpos[5] = yaw
    if target is not None:
        env.buffers["target"][i] = target
    env.sim.set_joints(qpos[None], qvel[None], env_ids=[i])
    env.refresh(torch.tensor([i], device=env.device))


# -- terms ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnvOptions:
    """What the terms read: the success tolerance (metres, the task option), and how the MuJoCo
    copies are stepped (see ``MujocoSim``): ``backend`` rollout or threads, ``nthread`` workers
    (None: up to 2)."""

    success_tolerance_m: float = SUCCESS_DIST_M
    backend: str = "rollout"
    nthread: int | None = None


def _sim(num_envs: int, device: torch.device, options: EnvOptions) -> MujocoSim:
    return MujocoSim(load_model(), num_envs, SUBSTEPS, nthread=options.nthread, backend=options.backend)


def _move_setpoint(env: TaskEnv, action: torch.Tensor) -> np.ndarray:
    """Delta set-point: set-point += MAX_DELTA_M · action, clipped to the workspace; it is the control."""
    a = action.detach().to("cpu", torch.float64).numpy()
    env.buffers["setpoint"] = np.clip(env.buffers["setpoint"] + MAX_DELTA_M * a, WS_LO, WS_HI)
    return env.buffers["setpoint"]


def observation(env: TaskEnv, ids) -> np.ndarray:
    """(M, 10): pusher x, y | set-point x, y | block x, y | sin yaw, cos yaw | target x, y."""
    i = np_ids(ids)
    q = env.sim.qpos[i]
    return np.concatenate(
        [
            q[:, 0:2],
            env.buffers["setpoint"][i],
            q[:, 2:4],
            np.sin(q[:, 5:6]),
            np.cos(q[:, 5:6]),
            env.buffers["target"][i],
        ],
        axis=1,
    )


def _start(env: TaskEnv, ids) -> None:
    """Block, pusher (redrawn while too near the block), yaw and target, in this draw order."""
    idx = np.arange(env.num_envs) if isinstance(ids, slice) else ids.cpu().numpy()
    n, gen = len(idx), env.generator
    block = _uniform(gen, n, BLOCK_REGION)
    pusher = _uniform(gen, n, PUSHER_REGION)
    for _ in range(100):  # rejection sampling: redraw pushers that start too near the block
        near = np.linalg.norm(pusher - block, axis=1) < PUSHER_START_GAP_M
        if not near.any():
            break
        pusher[near] = _uniform(gen, int(near.sum()), PUSHER_REGION)
    yaw = (torch.rand(n, generator=gen, dtype=torch.float64).numpy() - 0.5) * 2 * math.pi
    target = _uniform(gen, n, TARGET_REGION)
    env.sim.set_joints(np.concatenate([pusher, block, np.full((n, 1), _REST_Z), yaw[:, None]], axis=1), env_ids=idx)
    env.buffers["setpoint"][idx] = pusher
    env.buffers["target"][idx] = target


def on_target(env: TaskEnv) -> np.ndarray:
    """(N,) bool: the block centre is within the env's ``success_tolerance_m`` of the target."""
    return block_target_dist(env) < env.options.success_tolerance_m


def _success_reward(env: TaskEnv) -> torch.Tensor:
    return env.fired["success"].float()


BLOCK_PUSH = TaskSpec(
    name="block-push",
    make_sim=_sim,
    action=ActionTerm(_move_setpoint, dim=2),
    observations={
        "policy": ObsGroup({"state": ObsTerm(observation)}),
        "style": ObsGroup({"state": ObsTerm(observation)}),
    },
    rewards={"success": RewardTerm(_success_reward)},  # sparse: 1 on success
    terminations={
        "success": Termination(on_target, outcome="success"),
        "time_limit": Termination(time_limit, time_out=True),
    },
    events={"start": Event(_start)},
    buffers={
        "setpoint": Buffer((2,), "np.float64"),  # the pusher's actuator set-point, metres
        "target": Buffer((2,), "np.float64"),
    },  # where the block should go, metres
    extras={"block_target_dist": lambda env: block_target_dist(env).astype(np.float32)},
    max_episode_steps=MAX_EPISODE_STEPS,
)


def BlockPushEnv(
    num_envs: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
    options: BlockPushOptions | None = None,  # noqa: N802
    backend: str = "rollout",
    nthread: int | None = None,
) -> TaskEnv:
    """``num_envs`` block-pushing tables stepped together (see module docstring). ``options``:
    the task's (``BlockPushOptions``, from a run config; None: the defaults);
    ``backend``/``nthread`` pick the engine."""
    task = BlockPushOptions() if options is None else options
    env_options = EnvOptions(task.success_tolerance_m, backend, nthread)
    return TaskEnv(BLOCK_PUSH, num_envs, seed=seed, device=device, options=env_options)
