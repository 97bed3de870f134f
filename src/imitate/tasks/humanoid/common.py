"""What the humanoid tasks share: the state dict every term reads, episode frames, placing a
character in a clip state, ground contact, and the style features of simulated states and clips.

``humanoid_state(qpos, qvel, body_pos)`` is the one input of every observation and reward term,
simulated (``current_state``) or from clip frames (``clip_states``, with the simulator's own
kinematics), so NEAR's and AMP's expert features and the env's ``style`` group are one function
(``style_obs``, observations.py).

Episode frame: at reset a clip state (root at p0 in the clip's world) is turned by a yaw offset ψ
about p0 and moved to an origin o (per-env numpy buffers ``yaw``, ``pivot``, ``origin``); the
tracking task applies the same transform to its reference at every later time, the imitation
task uses ψ to know which way the clip's +x ("forward") points.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch

from imitate.data.motion import MotionLibrary
from imitate.data.motion import humanoid_model as hm
from imitate.sim.kinematics import TreeKinematics
from imitate.sim.mujoco_c import MujocoSim
from imitate.tasks.core.env import ALL, TaskEnv, np_ids
from imitate.tasks.humanoid import observations as ob
from imitate.utils import rotations as rot

EE_IDS = hm.body_ids(hm.END_EFFECTORS)  # hands and feet, body index order of the state dicts
CONTACT_TOL_M = 0.01  # a body this close to the floor touches it
_Z = np.array([0.0, 0.0, 1.0])
State = dict[str, torch.Tensor]


def count(env: TaskEnv, ids) -> int:
    """How many envs ``ids`` names."""
    return env.num_envs if isinstance(ids, slice) else len(ids)


def make_sim(num_envs: int, device: torch.device, options: object, model) -> MujocoSim:
    """The batched MuJoCo humanoid (``TaskSpec.make_sim`` with the model bound), on the engine
    ``options.engine`` names: MuJoCo's C engine, or MuJoCo Warp on the run's device."""
    if getattr(options, "engine", "c") == "warp":
        from imitate.sim.mujoco_warp import WarpSim

        return WarpSim(model, num_envs, hm.SUBSTEPS, device=device)
    return MujocoSim(model, num_envs, substeps=hm.SUBSTEPS)


def ground_contact(
    sim: MujocoSim, allowed: tuple[str, ...] = hm.FEET, tol_m: float = CONTACT_TOL_M, below_m: float = np.inf
) -> np.ndarray:
    """(N,) bool: a body not in ``allowed`` is within ``tol_m`` of the floor (geometric, exact for
    the current state) with its origin below ``below_m`` (any height by default)."""
    others = np.array([name not in allowed for name in hm.BODY_NAMES])
    touching = sim.contacts(tol_m)[:, others]
    if np.isfinite(below_m):
        touching = touching & (sim.body_pos()[:, others, 2] < below_m)
    return np.asarray(touching.any(axis=1))  # numpy's stubs type any(axis=...) as bool | ndarray


# -- state dicts --------------------------------------------------------------------------------
def humanoid_state(
    qpos: np.ndarray,
    qvel: np.ndarray,
    body_pos: np.ndarray,
    device: torch.device | str = "cpu",
    com_pos: np.ndarray | None = None,
) -> State:
    """The state dict of a humanoid from its joint coordinates and body positions (M, 15, 3)
    (and its centre of mass (M, 3), when given): the one input of every observation and reward
    term, simulated or from a clip."""
    quat = rot.quat_normalize(qpos[:, 3:7])
    t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)  # noqa: E731
    state = {
        "root_pos": t(qpos[:, :3]),
        "root_quat": t(quat),
        "lin_vel": t(qvel[:, :3]),
        "ang_vel": t(rot.quat_rotate(quat, qvel[:, 3:6])),
        "joint_pos": t(qpos[:, 7 : hm.NQ]),  # a scene's props (strike box) follow the character
        "joint_vel": t(qvel[:, 6 : hm.NV]),
        "ee_pos": t(body_pos[:, EE_IDS]),
        "body_pos": t(body_pos),
    }
    if com_pos is not None:
        state["com_pos"] = t(com_pos)
    return state


def state_dict(
    env: TaskEnv,
    qpos: np.ndarray,
    qvel: np.ndarray,
    body_pos: np.ndarray | None = None,
    com_pos: np.ndarray | None = None,
) -> State:
    """Torch float32 state dict of the reward terms and observations from qpos (M, 35) and qvel
    (M, 34) (``tasks/humanoid/rewards.py`` lists the keys); body positions and the centre of
    mass by FK unless given."""
    if body_pos is None or com_pos is None:
        pos, quat, _, _ = env.sim.kin.forward(qpos)
        body_pos = pos if body_pos is None else body_pos
        com_pos = env.sim.kin.center_of_mass(pos, quat)[0] if com_pos is None else com_pos
    return humanoid_state(qpos, qvel, body_pos, env.device, com_pos)


def current_state(env: TaskEnv, ids) -> State:
    """The simulated state of envs ``ids`` (once per step or reset: ``env.scratch``); at a reset
    only the reset envs are read."""
    cur = env.scratch.get("current")
    if cur is None:
        sim = env.sim
        if isinstance(ids, slice):
            cur = state_dict(env, sim.qpos, sim.qvel, sim.body_pos(), sim.center_of_mass())
        else:
            i = np_ids(ids)
            cur = state_dict(env, sim.qpos[i], sim.qvel[i])
        env.scratch["current"] = cur
    return cur


def style(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 105) style features of the current state (observations.style_obs), once per step or
    reset however many groups read them."""
    features = env.scratch.get("style")
    if features is None:
        features = env.scratch["style"] = ob.style_obs(current_state(env, ids))
    return features


# -- episode frames and clip states -------------------------------------------------------------
def to_episode_frame(env: TaskEnv, ms, ids=ALL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clip state ``ms`` (a MotionState of envs ``ids``) moved into each episode's frame:
    (qpos (M, 35), qvel (M, 34), phase (M,)). qvel's angular part is local (MuJoCo), so it is
    unchanged."""
    qpos, qvel = ms.qpos(), ms.qvel()
    move_to_frame(qpos, *episode_frame(env, ids), qvel=qvel)
    return qpos, qvel, ms.phase


def episode_frame(env: TaskEnv, ids=ALL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The episode frames (yaw (M,), pivot (M, 2), origin (M, 2)) of envs ``ids``."""
    i = np_ids(ids)
    return env.buffers["yaw"][i], env.buffers["pivot"][i], env.buffers["origin"][i]


def points_to_episode_frame(env: TaskEnv, points: np.ndarray, ids=ALL) -> None:
    """Clip-world points (M, ..., 3) of envs ``ids`` (bodies, centres of mass) moved into their
    episode frames, in place."""
    move_points(points, *episode_frame(env, ids))


def move_to_frame(
    qpos: np.ndarray, yaw: np.ndarray, pivot: np.ndarray, origin: np.ndarray, qvel: np.ndarray | None = None
) -> None:
    """Clip-world qpos (M, 35) (and qvel (M, 34)) turned by ``yaw`` (M,) about ``pivot`` (M, 2)
    and moved to ``origin`` (M, 2), in place: an episode frame (module docstring)."""
    move_points(qpos[:, :3], yaw, pivot, origin)
    qpos[:, 3:7] = rot.quat_mul(rot.quat_from_axis_angle(_Z, yaw), qpos[:, 3:7])
    if qvel is not None:
        turn_vectors(qvel[:, :3], yaw)


def move_points(p: np.ndarray, yaw: np.ndarray, pivot: np.ndarray, origin: np.ndarray) -> None:
    """Clip-world points (M, ..., 3) of M envs turned by ``yaw`` (M,) about ``pivot`` (M, 2) and
    moved to ``origin`` (M, 2), in place: ``move_to_frame`` for bodies and centres of mass."""
    extra = (slice(None),) + (None,) * (p.ndim - 2)  # each env's frame, broadcast over its points
    p[..., 0] -= pivot[:, 0][extra]
    p[..., 1] -= pivot[:, 1][extra]
    turn_vectors(p, yaw)
    p[..., 0] += origin[:, 0][extra]
    p[..., 1] += origin[:, 1][extra]


def turn_vectors(v: np.ndarray, yaw: np.ndarray) -> None:
    """World vectors (M, ..., 3) of M envs turned by ``yaw`` (M,) about z, in place."""
    extra = (slice(None),) + (None,) * (v.ndim - 2)
    c, s = np.cos(yaw)[extra], np.sin(yaw)[extra]
    x, y = v[..., 0].copy(), v[..., 1].copy()
    v[..., 0], v[..., 1] = c * x - s * y, s * x + c * y


def random_frame(env: TaskEnv, ids, yaw_range_rad: float, origin_range_m: float) -> None:
    """Reset event: a fresh episode frame, yaw offset U(-r, r) rad and origin U(-r, r)² m."""
    m, i = count(env, ids), np_ids(ids)
    env.buffers["yaw"][i] = env.rng.uniform(-1.0, 1.0, m) * yaw_range_rad
    env.buffers["origin"][i] = env.rng.uniform(-1.0, 1.0, (m, 2)) * origin_range_m


def place_at_clip_state(
    env: TaskEnv, ids, lib: MotionLibrary, props: Callable[..., np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put envs ``ids`` exactly in the state of clip ``clip_ids`` at ``time_s`` (their buffers), in
    the episode frame pivoting about that state's root; returns it as (qpos, qvel, phase). A scene
    with props (a strike box) gives their coordinates, ``props(env, ids, qpos)`` -> (M, nq − 35),
    placed beside the character's state (at rest)."""
    i = np_ids(ids)
    ms = lib.state(env.buffers["clip_ids"][i], env.buffers["time_s"][i], with_bodies=False)
    env.buffers["pivot"][i] = ms.root_pos[:, :2]
    placed = to_episode_frame(env, ms, ids)
    qpos, qvel = placed[0], placed[1]
    if props is not None:
        qpos = np.concatenate([qpos, props(env, ids, qpos)], axis=1)
        qvel = np.concatenate([qvel, np.zeros((len(qvel), env.sim.nv - hm.NV))], axis=1)
    put_in_state(env, ids, qpos, qvel)
    return placed


def put_in_state(env: TaskEnv, ids, qpos: np.ndarray, qvel: np.ndarray) -> None:
    """Set the simulated envs ``ids`` to qpos (M, nq) and qvel (M, nv) (a reset; the character's
    35/34 numbers first, a scene's props after them)."""
    i = np_ids(ids)
    env.sim.set_joints(qpos, qvel, env_ids=None if isinstance(i, slice) else i, normalise_root=True)


# -- the same features from motion clips (NEAR's and AMP's expert side) ---------------------------
@functools.cache
def clip_kinematics() -> TreeKinematics:
    """Forward kinematics of the simulated model, shared by every clip-side feature."""
    return TreeKinematics(hm.load_model())


def clip_states_qpos(lib: MotionLibrary, clip_ids: np.ndarray, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """qpos (M, 35) and body positions (M, 15, 3) m of clip frames, the bodies placed by the
    simulator's own kinematics (clip world frame)."""
    qpos = lib.state(clip_ids, times_s, with_bodies=False).qpos()
    return qpos, clip_kinematics().forward(qpos)[0]


def clip_states(lib: MotionLibrary, clip_ids: np.ndarray, times_s: np.ndarray) -> State:
    """The humanoid state of clip frames (clip ``clip_ids`` at ``times_s``), body positions from the
    simulator's own kinematics, so simulated and clip states go through one function."""
    frames = lib.state(clip_ids, times_s, with_bodies=False)
    qpos, qvel = frames.qpos(), frames.qvel()
    return humanoid_state(qpos, qvel, clip_kinematics().forward(qpos)[0])


def clip_style_features(lib: MotionLibrary, clip_ids: np.ndarray, times_s: np.ndarray) -> torch.Tensor:
    """(M, 105) the style features (the env's ``style`` group) of clip frames."""
    return ob.style_obs(clip_states(lib, clip_ids, times_s))


def clip_style_pairs(lib: MotionLibrary, clip_id: int = 0, dt_s: float = hm.CONTROL_DT_S) -> torch.Tensor:
    """(T, 210) expert transitions (s_t, s_t+dt) of one clip at the control period ``dt_s``:
    what the env's style pairs are for a policy that tracks the clip exactly."""
    duration = float(lib.durations[clip_id])
    times = np.arange(0.0, duration - dt_s + 1e-9, dt_s)
    ids = np.full(len(times), clip_id)
    return torch.cat([clip_style_features(lib, ids, times), clip_style_features(lib, ids, times + dt_s)], dim=-1)
