"""Push-T (Diffusion Policy's task, Chi et al. 2023; docs/tasks.md#push-t), batched on MuJoCo's C engine.

A disc pusher (radius 15) pushes a T-shaped block on a 512×512 plane. The action in [-1, 1]² is
an absolute target for the pusher, ``(a + 1) * 256``, tracked by a PD law (kp 100, kv 20 per unit
mass); physics runs at 100 Hz, control at 10 Hz (10 physics steps per env step). The goal is the
T at (256, 256, π/4); an episode succeeds (and terminates) when the block covers more than 95% of
the goal T, and is cut at 150 steps.

Physics: one small MJCF model (pusher with two slide joints and position actuators, block with
slide x / slide y / hinge z, four walls, no gravity), run by ``MujocoSim``: the state of every
copy is one row of an (N, nstate) array of MuJoCo's full physics state, advanced 10 physics steps
per control step in one batched C call. The solver warm start is never carried between calls, so
the next state is a pure function of (state row, action): ``get_state``/``set_state`` are exact
and runs are deterministic.
Floor friction is modelled as isotropic viscous drag on the block's three joints (translation
c, rotation c·ρ²: the ellipsoidal limit surface of quasi-static pushing), strong enough that the
block stops within ~0.2 s of the pusher letting go. (Per-joint dry friction, ``frictionloss``,
was tried first: it is anisotropic — a diagonal push moved the block along an axis.) The pusher
is 10× heavier than the block with gains scaled to match, so it
tracks its target almost kinematically (the original's pusher is a kinematic body).

Block pose: (x, y) is the T's centre of mass, angle θ rotates the T counter-clockwise; at θ = 0
the bar is at the bottom and the stem points up (+y). (Diffusion Policy's pymunk frame differs:
y down, pose of the bar's edge.) Observation (6-d): pusher x, y, block x, y, sin θ, cos θ —
sin/cos rather than θ, because θ wraps at ±π, a jump that observation normalisation, PPO's value
net and NEAR's energy would all see as a huge state change. ``obs_angle`` turns it back.

Reward: the coverage-shaped reward of Diffusion Policy, clip(coverage / 0.95, 0, 1), each step.
Coverage = area of (block T ∩ goal T) / T area, computed batched on a fixed set of 2048
quasi-random (Halton) points filling the goal T: the fraction of them inside the block.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import torch

from imitate.sim.mujoco_c import MujocoSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv, np_ids
from imitate.tasks.core.terms import ActionTerm, Buffer, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination

WORKSPACE = 512.0
PUSHER_RADIUS = 15.0
# The T in its body frame before moving the origin to the centre of mass: bar 120×30 at the
# bottom, stem 30×90 on top of it. Rectangles as (x_min, y_min, x_max, y_max).
_BAR, _STEM = (-60.0, 0.0, 60.0, 30.0), (-15.0, 30.0, 15.0, 120.0)
_AREAS = ((_BAR[2] - _BAR[0]) * (_BAR[3] - _BAR[1]), (_STEM[2] - _STEM[0]) * (_STEM[3] - _STEM[1]))
T_AREA = sum(_AREAS)  # 6300
_COM_Y = (_AREAS[0] * 0.5 * (_BAR[1] + _BAR[3]) + _AREAS[1] * 0.5 * (_STEM[1] + _STEM[3])) / T_AREA
# Rectangles relative to the centre of mass (the block's pose origin).
T_RECTS = tuple((r[0], r[1] - _COM_Y, r[2], r[3] - _COM_Y) for r in (_BAR, _STEM))
GOAL_POSE = (256.0, 256.0, math.pi / 4)
SUCCESS_COVERAGE = 0.95
KP, KV = 100.0, 20.0  # PD gains per unit mass (1/s², 1/s)
PHYSICS_DT_S = 0.01  # 100 Hz
SUBSTEPS = 10  # control at 10 Hz
MAX_EPISODE_STEPS = 150
RASTER_POINTS = 2048  # quasi-random points of the coverage raster

PUSHER_MASS = 10.0  # vs block mass 1: the pusher barely feels the block
BLOCK_MASS = 1.0
# Floor friction as isotropic viscous drag on the block: F = -c v, τ = -c ρ² ω. This is the
# ellipsoidal limit-surface model of quasi-static pushing with radius of gyration ρ (√(Izz/m) of
# the uniform T ≈ 44). Time constant m / c = 0.05 s: the block stops within ~0.2 s of release.
BLOCK_RHO = 44.0
BLOCK_DAMPING_LIN = 20.0
BLOCK_DAMPING_ROT = BLOCK_DAMPING_LIN * BLOCK_RHO**2
# Start distribution (as in Diffusion Policy: pusher anywhere, block in the middle, any angle).
PUSHER_START = (50.0, 462.0)
BLOCK_START = (100.0, 412.0)
START_CLEARANCE = 10.0  # pusher starts at least this far from the block
START_MAX_COVERAGE = 0.5  # the block may not start (nearly) solved

OBS_NAMES = ["agent_x", "agent_y", "block_x", "block_y", "block_sin", "block_cos"]


def pusht_xml() -> str:
    """The MJCF of the Push-T scene; `imitate export` users load it with MuJoCo alone (README)."""
    bar, stem = T_RECTS
    wall = 20.0
    walls = "\n".join(
        f'<geom type="box" pos="{x} {y} 0" size="{sx} {sy} 20" rgba=".4 .4 .4 1"/>'
        for x, y, sx, sy in (
            (-wall / 2, WORKSPACE / 2, wall / 2, WORKSPACE / 2 + wall),
            (WORKSPACE + wall / 2, WORKSPACE / 2, wall / 2, WORKSPACE / 2 + wall),
            (WORKSPACE / 2, -wall / 2, WORKSPACE / 2 + wall, wall / 2),
            (WORKSPACE / 2, WORKSPACE + wall / 2, WORKSPACE / 2 + wall, wall / 2),
        )
    )

    def box(r, mass):
        cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
        return (
            f'<geom type="box" pos="{cx} {cy} 0" size="{(r[2] - r[0]) / 2} {(r[3] - r[1]) / 2} 10" '
            f'mass="{mass}" rgba=".5 .6 .8 1"/>'
        )

    return f"""
<mujoco model="pusht">
  <option timestep="{PHYSICS_DT_S}" gravity="0 0 0" integrator="implicitfast" cone="elliptic"/>
  <default><geom friction="0.3 0.005 0.0001" condim="3"/></default>
  <worldbody>
    {walls}
    <body name="pusher">
      <joint name="px" type="slide" axis="1 0 0"/>
      <joint name="py" type="slide" axis="0 1 0"/>
      <geom type="cylinder" size="{PUSHER_RADIUS} 10" mass="{PUSHER_MASS}" rgba=".9 .3 .3 1"/>
    </body>
    <body name="block">
      <joint name="bx" type="slide" axis="1 0 0" damping="{BLOCK_DAMPING_LIN}"/>
      <joint name="by" type="slide" axis="0 1 0" damping="{BLOCK_DAMPING_LIN}"/>
      <joint name="bt" type="hinge" axis="0 0 1" damping="{BLOCK_DAMPING_ROT}"/>
      {box(bar, BLOCK_MASS * _AREAS[0] / T_AREA)}
      {box(stem, BLOCK_MASS * _AREAS[1] / T_AREA)}
    </body>
  </worldbody>
  <actuator>
    <position joint="px" kp="{KP * PUSHER_MASS}" kv="{KV * PUSHER_MASS}"/>
    <position joint="py" kp="{KP * PUSHER_MASS}" kv="{KV * PUSHER_MASS}"/>
  </actuator>
</mujoco>"""


_MODEL: mujoco.MjModel | None = None


def pusht_model() -> mujoco.MjModel:
    """The shared MjModel (built once per process)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = mujoco.MjModel.from_xml_string(pusht_xml())
    return _MODEL


def _halton(n: int, base: int) -> torch.Tensor:
    """The first n points (from index 1) of the van der Corput sequence in ``base``."""
    out = torch.zeros(n, dtype=torch.float64)
    for i in range(n):
        f, k, x = 1.0, i + 1, 0.0
        while k:
            f /= base
            x += f * (k % base)
            k //= base
        out[i] = x
    return out


_RASTER: torch.Tensor | None = None


def _raster() -> torch.Tensor:
    """(P, 2) quasi-random (Halton 2, 3) points filling the T evenly (body frame, origin at COM).

    A regular grid aligned with the T's edges counts a small shift in whole grid columns (±half a
    cell of error, ≈ ±2% coverage at 2.5 spacing); a low-discrepancy point set has no such
    aliasing: its area estimate of the strips a shift uncovers is good to a few tenths of a percent.
    """
    global _RASTER
    if _RASTER is None:
        pts = []
        for (x0, y0, x1, y1), area in zip(T_RECTS, _AREAS):
            n = round(RASTER_POINTS * area / T_AREA)
            u, v = _halton(n, 2), _halton(n, 3)
            pts.append(torch.stack([x0 + u * (x1 - x0), y0 + v * (y1 - y0)], dim=-1))
        _RASTER = torch.cat(pts)
    return _RASTER


def inside_t(local: torch.Tensor, pad: float = 0.0) -> torch.Tensor:
    """Which body-frame points (..., 2) lie inside the T (grown by ``pad`` on every side)."""
    return _inside_t_xy(local[..., 0], local[..., 1], pad)


def _inside_t_xy(x: torch.Tensor, y: torch.Tensor, pad: float = 0.0) -> torch.Tensor:
    """``inside_t`` of body-frame coordinates given apart (no stacked (..., 2) copy)."""
    inside = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    for x0, y0, x1, y1 in T_RECTS:
        inside |= (x >= x0 - pad) & (x <= x1 + pad) & (y >= y0 - pad) & (y <= y1 + pad)
    return inside


def to_local(points: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """World points (N, P, 2) into the frames of block poses (N, 3)."""
    c, s = torch.cos(pose[:, 2:3]), torch.sin(pose[:, 2:3])  # (N, 1)
    d = points - pose[:, None, :2]
    return torch.stack([c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]], dim=-1)


def to_world(local: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
    """Body-frame points (N, P, 2) or (P, 2) of block poses (N, 3) into world coordinates."""
    c, s = torch.cos(pose[:, 2:3]), torch.sin(pose[:, 2:3])
    x, y = local[..., 0], local[..., 1]
    return torch.stack([c * x - s * y, s * x + c * y], dim=-1) + pose[:, None, :2]


def coverage(pose: torch.Tensor, goal: torch.Tensor | None = None) -> torch.Tensor:
    """Area fraction of the goal T covered by the block T, for block poses (N, 3) → (N,).

    The goal T's points are moved into each block's frame and tested against the T's two
    rectangles; the estimate is 1 exactly at the goal and within about ±0.5% of the area elsewhere.
    """
    pose = pose.to(torch.float64)
    if goal is None:
        goal = torch.tensor(GOAL_POSE, dtype=torch.float64, device=pose.device)
    goal = goal.to(pose).expand(len(pose), 3)
    # One rigid map from the goal frame to each block frame (float64 here, per env only), then
    # float32 over the points: local = R(θg − θb) p + R(−θb)(g − b).
    rel = goal[:, 2] - pose[:, 2]
    c, s = torch.cos(rel)[:, None].float(), torch.sin(rel)[:, None].float()  # (N, 1)
    d = goal[:, :2] - pose[:, :2]
    cb, sb = torch.cos(pose[:, 2]), torch.sin(pose[:, 2])
    tx = (cb * d[:, 0] + sb * d[:, 1])[:, None].float()
    ty = (-sb * d[:, 0] + cb * d[:, 1])[:, None].float()
    p = _raster().to(pose.device, torch.float32)
    x = c * p[:, 0] - s * p[:, 1] + tx  # (N, P)
    y = s * p[:, 0] + c * p[:, 1] + ty
    inside = _inside_t_xy(x, y)
    return inside.sum(-1).to(torch.float64) / p.shape[0]


def obs_angle(obs: torch.Tensor) -> torch.Tensor:
    """The block angle in (-π, π] from observations (..., 6)."""
    return torch.atan2(obs[..., 4], obs[..., 5])


def action_to_target(action: torch.Tensor) -> torch.Tensor:
    """Action in [-1, 1]² → absolute pusher target in workspace units."""
    return (action.clamp(-1.0, 1.0) + 1.0) * (WORKSPACE / 2)


def target_to_action(target: torch.Tensor) -> torch.Tensor:
    return target / (WORKSPACE / 2) - 1.0


def block_pose(env: TaskEnv) -> torch.Tensor:
    """(N, 3) block x, y, θ (θ unwrapped) as float64 torch."""
    return torch.from_numpy(env.sim.qpos[:, 2:5].copy())


def sample_starts(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 5) start qpos: pusher clear of the block, block not already near the goal (rejection
    sampling, batched over the envs still to draw)."""
    out = np.empty((n, 5))
    todo = np.arange(n)
    while len(todo):
        k = len(todo)
        q = np.concatenate(
            [
                rng.uniform(*PUSHER_START, size=(k, 2)),
                rng.uniform(*BLOCK_START, size=(k, 2)),
                rng.uniform(-math.pi, math.pi, size=(k, 1)),
            ],
            axis=1,
        )
        pose = torch.from_numpy(q[:, 2:5])
        local = to_local(torch.from_numpy(q[None, :, :2]).transpose(0, 1), pose)
        clear = ~inside_t(local, pad=PUSHER_RADIUS + START_CLEARANCE)[:, 0]
        ok = (clear & (coverage(pose) < START_MAX_COVERAGE)).numpy()
        out[todo[ok]] = q[ok]
        todo = todo[~ok]
    return out


def place(env: TaskEnv, i: int, pusher, block) -> None:
    """Put env i's pusher at (x, y) and its block at (x, y, θ), both at rest (tests, gym checks);
    its observations are read again."""
    env.sim.set_joints(np.array([[*pusher, *block]]), env_ids=[i])
    env.refresh(torch.tensor([i], device=env.device))


# -- terms ---------------------------------------------------------------------------------------
def _sim(num_envs: int, device: torch.device, options: object) -> MujocoSim:
    """``options`` may set the engine's ``backend`` and ``nthread`` (see ``MujocoSim``)."""
    return MujocoSim(
        pusht_model(),
        num_envs,
        SUBSTEPS,
        nthread=getattr(options, "nthread", None),
        backend=getattr(options, "backend", "rollout"),
    )


def _target(env: TaskEnv, action: torch.Tensor) -> np.ndarray:
    return action_to_target(action.detach().to("cpu", torch.float64)).numpy()


def pusher_and_block(env: TaskEnv, ids) -> np.ndarray:
    """(M, 6) pusher x, y, block x, y, sin θ, cos θ: the observation and the style feature."""
    q = env.sim.qpos[np_ids(ids)]
    return np.concatenate([q[:, :4], np.sin(q[:, 4:5]), np.cos(q[:, 4:5])], axis=1)


def _start(env: TaskEnv, ids) -> None:
    idx = np.arange(env.num_envs) if isinstance(ids, slice) else ids.cpu().numpy()
    env.sim.set_joints(sample_starts(env.rng, len(idx)), env_ids=idx)


def _measure_coverage(env: TaskEnv, ids) -> None:
    """After the physics: this step's coverage of the goal T, read by reward, success and extras."""
    env.buffers["coverage"] = coverage(block_pose(env)).to(env.device)


def _shaped_reward(env: TaskEnv) -> torch.Tensor:
    return (env.buffers["coverage"] / SUCCESS_COVERAGE).clamp(0.0, 1.0)


def solved(env: TaskEnv) -> torch.Tensor:
    """(N,) bool: the block covers more than SUCCESS_COVERAGE of the goal T."""
    return env.buffers["coverage"] > SUCCESS_COVERAGE


PUSHT = TaskSpec(
    name="pusht",
    make_sim=_sim,
    action=ActionTerm(_target, dim=2),
    observations={
        "policy": ObsGroup({"state": ObsTerm(pusher_and_block)}),
        "style": ObsGroup({"state": ObsTerm(pusher_and_block)}),
    },
    rewards={"coverage": RewardTerm(_shaped_reward)},  # clip(coverage / 0.95, 0, 1), every step
    terminations={
        "solved": Termination(solved, outcome="success"),
        "time_limit": Termination(time_limit, time_out=True),
    },
    events={"start": Event(_start), "coverage": Event(_measure_coverage, mode="step")},
    buffers={"coverage": Buffer(dtype="float64")},  # of the goal T by the block, after the last step
    extras={"coverage": lambda env: env.buffers["coverage"].float()},
    max_episode_steps=MAX_EPISODE_STEPS,
)


def PushTEnv(num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: object = None) -> TaskEnv:  # noqa: N802
    """``num_envs`` Push-T copies stepped together; observation and style feature are the 6-d state."""
    return TaskEnv(PUSHT, num_envs, seed=seed, device=device, options=options)
