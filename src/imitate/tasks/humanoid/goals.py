"""Goal tasks on the imitation-from-observation humanoid (NEAR's target reaching and strike):
``humanoid-target`` and ``humanoid-strike``, each the term table of ``humanoid``
(``imitation.imitation_spec``) with a goal added (docs/humanoid_imitation.md#goal-tasks).

What they add to it:
- a reset event, after the clip state, that draws the goal at U(−goal_angle_deg, goal_angle_deg)
  from the character's heading and U(goal_min_m, goal_max_m) m from its pelvis (horizontal;
  ``env.rng``, batched): a target on the ground, or a box standing there (placed with the
  character: ``common.place_at_clip_state``'s props);
- goal features after the style observation in the ``policy`` group only, in the heading frame
  (the root's yaw), so they do not change when the world turns. The ``style`` group NEAR and AMP
  score stays the 105 style features: the energy and the discriminator score style pairs only;
- ``local_root_obs=false`` replaces the policy's heading-relative root rotation (features 1:7,
  what the style features hold: AMP's localRootObs=True) with the world one (AMP's default);
- the task reward ``target`` or ``strike`` (the others stay available);
- success: the goal is achieved at some step (``goal_s``, the time it was, −1 until then) and the
  episode then runs on; it is a success when it reaches the time limit without a fall. Ending
  at the goal would cut off the positive rewards the policy earns after it, so a policy would
  learn to stop short of it.

Target: d = horizontal pelvis–target distance (m), a = cos of the angle between the heading and
the direction to the target, v = horizontal pelvis speed (m/s, qvel):
r = 0.6·exp(−0.5·d²) + 0.3·tanh(2.5·a) + 0.1·(1 − (v − 2)²) + [d < 1.25]. Achieved at d ≤ success_m.
The policy sees the target minus the pelvis, (x, y) in the heading frame (2 numbers, m).

Strike: a 1 × 1 × 2 m box of 0.25 kg (a free body of this task's MuJoCo model only), at a random
yaw. Knocked over: its up axis tilts beyond knock_tilt_deg (45°). Hit: a hand (the ``right_wrist``
or ``left_wrist`` geom) touches it at any physics step of the episode (MuJoCo contact sensors,
read at every physics step). Achieved when the box is knocked over with a hit before or in the
same step; knocked over without one, the episode ends (a failure). Reward until achieved:
0.5·exp(−0.5·d_p²) + 0.3·exp(−5·d_h²) + 0.2·hit·min(tilt/knock_tilt, 1), d_p the pelvis's and
d_h the nearer hand's distance (m) to the box's surface; 1 per step once achieved. The policy
sees the box centre minus the pelvis (3, heading frame), the box's rotation relative to the
heading as tangent + normal (6) and its linear velocity in the heading frame (3): 12 numbers.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

import numpy as np
import torch

from imitate.data.motion import humanoid_model as hm
from imitate.sim.kinematics import TreeKinematics
from imitate.sim.mujoco_c import MujocoSim
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import ALL, TaskEnv, np_ids
from imitate.tasks.core.terms import Buffer, Event, ObsGroup, ObsTerm, TaskSpec, Termination
from imitate.tasks.humanoid import imitation
from imitate.tasks.humanoid import observations as ob
from imitate.tasks.humanoid.common import current_state, style
from imitate.tasks.humanoid.options import GoalOptions, StrikeOptions, TargetOptions
from imitate.utils import rotations as rot

BONUS_RADIUS_M = 1.25  # the target reward's bonus: 1 within this distance
TARGET_SPEED_MPS = 2.0  # the speed the target reward's velocity term prefers
BOX_HALF_M = np.array([0.5, 0.5, 1.0])  # the strike box: 1 x 1 x 2 m ...
BOX_MASS_KG = 0.25
HAND_GEOMS = ("right_wrist", "left_wrist")  # the hands (spheres of HAND_RADIUS_M)
HAND_RADIUS_M = 0.04
HIDDEN_Z_M = -10.0  # a prop drawn this far under the floor is out of sight (a video's clip panel)
_X = np.array([1.0, 0.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])

BOX_XML = (
    f'<body name="box" pos="0 0 {BOX_HALF_M[2]}"><freejoint name="box"/>'
    f'<geom name="box" type="box" size="{" ".join(map(str, BOX_HALF_M))}" mass="{BOX_MASS_KG}" '
    'rgba="0.35 0.55 0.85 1"/></body>'
)
HAND_SENSORS_XML = "".join(
    f'<contact name="{hand}_box" geom1="{hand}" geom2="box" data="found" num="1"/>' for hand in HAND_GEOMS
)
# the target in a video: a flat red disc on the ground and a pole on it, colliding with nothing
# (the video's model only)
TARGET_MARKER_XML = (
    '<body name="target"><freejoint name="target"/><geom name="target" type="cylinder" size="0.3 0.005" '
    'contype="0" conaffinity="0" rgba="0.9 0.15 0.15 0.9"/><geom name="target_pole" type="cylinder" '
    'size="0.03 0.75" pos="0 0 0.75" contype="0" conaffinity="0" rgba="0.9 0.15 0.15 0.9"/></body>'
)


# -- the goal frame ------------------------------------------------------------------------------
def heading_of(qpos: np.ndarray) -> np.ndarray:
    """(M,) heading yaw (rad) of the root in qpos rows (its +x axis on the ground)."""
    fwd = rot.quat_rotate(rot.quat_normalize(qpos[:, 3:7]), np.broadcast_to(_X, (len(qpos), 3)))
    return np.arctan2(fwd[:, 1], fwd[:, 0])


def draw_goal_xy(env: TaskEnv, qpos: np.ndarray, opts: GoalOptions) -> np.ndarray:
    """(M, 2) world xy of goals for characters in state ``qpos`` (M, ≥7): at U(−a, a) from each
    heading, U(min, max) m from the pelvis."""
    m = len(qpos)
    angle = heading_of(qpos) + math.radians(opts.goal_angle_deg) * env.rng.uniform(-1.0, 1.0, m)
    radius = env.rng.uniform(opts.goal_min_m, opts.goal_max_m, m)
    return qpos[:, :2] + radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def in_heading_frame(env: TaskEnv, ids, world: torch.Tensor) -> torch.Tensor:
    """World vectors (M, 3) of envs ``ids`` in each root's heading frame."""
    return ob.quat_rotate(ob.heading_inverse(current_state(env, ids)), world)


def goal_now(env: TaskEnv) -> np.ndarray:
    """(N,) bool: the goal has been achieved in this episode."""
    return env.buffers["goal_s"] >= 0.0


def mark_achieved(env: TaskEnv, achieved: np.ndarray) -> None:
    """Record the time (s) of the step at which each env first achieved its goal."""
    first = achieved & ~goal_now(env)
    env.buffers["goal_s"][first] = env.steps.cpu().numpy()[first] * env.sim.dt_s


def clear_goal(env: TaskEnv, ids) -> None:
    env.buffers["goal_s"][np_ids(ids)] = -1.0


def achieved_by_time_limit(env: TaskEnv) -> torch.Tensor:
    """(N,) bool: the time limit, in an episode whose goal was achieved (declared a success)."""
    return time_limit(env) & torch.as_tensor(goal_now(env), device=env.device)


def _goal_reached(env: TaskEnv) -> torch.Tensor:
    return torch.as_tensor(goal_now(env), dtype=torch.float32, device=env.device)


def _goal_s(env: TaskEnv) -> torch.Tensor:
    return torch.as_tensor(env.buffers["goal_s"], dtype=torch.float32, device=env.device)


def policy_style(env: TaskEnv, ids, local_root_obs: bool) -> torch.Tensor:
    """The style features, with the world root rotation (tangent + normal) in place of the
    heading-relative one when not ``local_root_obs``."""
    features = style(env, ids)
    if local_root_obs:
        return features
    world = ob.tangent_normal(current_state(env, ids)["root_quat"])
    return torch.cat([features[:, :1], world, features[:, 7:]], dim=-1)


def goal_spec(
    opts: GoalOptions,
    name: str,
    rewards: dict,
    goal_obs,
    reset: dict[str, Event],
    step: Event,
    buffers: dict[str, Buffer],
    distance,
    terminations: dict[str, Termination] | None = None,
    props=None,
    make_sim=None,
) -> TaskSpec:
    """``humanoid``'s term table with a goal: its features after the style ones in the policy
    group, its reset events after the clip state, its step event, buffers, rewards and
    terminations; the time limit is a success only once the goal was achieved. ``distance(env)``
    (N,) m is reported as the step extra ``goal_distance``, which a composed NEAR reward's
    proximity gate reads (``energy_gate=``, rewards/energy_sum.py)."""
    base = imitation.imitation_spec(opts, {**imitation.TASK_REWARDS, **rewards})
    policy = ObsGroup(
        {"style": ObsTerm(policy_style, {"local_root_obs": opts.local_root_obs}), "goal": ObsTerm(goal_obs)}
    )
    events = dict(base.events)
    if props is not None:
        events["clip_state"] = replace(events["clip_state"], params={**events["clip_state"].params, "props": props})
    events = {"clear_goal": Event(clear_goal), **events, **reset, "goal_progress": step}
    return replace(
        base,
        name=name,
        make_sim=make_sim or base.make_sim,
        observations={"policy": policy, "style": base.observations["style"]},
        terminations={
            "fell": base.terminations["fell"],
            **(terminations or {}),
            "time_limit": Termination(time_limit, time_out=True),
            "goal": Termination(achieved_by_time_limit, time_out=True, outcome="success"),
        },
        events=events,
        buffers={**base.buffers, "goal_s": Buffer(dtype="np.float64", fill=-1.0), **buffers},
        extras={**base.extras, "goal_reached": _goal_reached, "goal_s": _goal_s, "goal_distance": distance},
    )


# -- target reaching ------------------------------------------------------------------------------
def place_target(env: TaskEnv, ids, opts: TargetOptions) -> None:
    """Reset event (after the clip state): a target on the ground around the placed character."""
    i = np_ids(ids)
    env.buffers["target_xy"][i] = draw_goal_xy(env, env.sim.qpos[i], opts)


def target_offset(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 3) target minus pelvis, world frame, on the ground plane (z = 0)."""
    s = current_state(env, ids)
    xy = torch.as_tensor(env.buffers["target_xy"][np_ids(ids)], dtype=torch.float32, device=env.device)
    d = xy - s["root_pos"][:, :2]
    return torch.cat([d, torch.zeros_like(d[:, :1])], dim=-1)


def target_obs(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 2) target minus pelvis (x, y, m) in the heading frame."""
    return in_heading_frame(env, ids, target_offset(env, ids))[:, :2]


def target_reward(env: TaskEnv) -> torch.Tensor:
    """0.6·exp(−0.5·d²) + 0.3·tanh(2.5·a) + 0.1·(1 − (v − 2)²) + [d < 1.25 m] (module docstring)."""
    s = current_state(env, ALL)
    offset = target_offset(env, ALL)[:, :2]
    d = offset.norm(dim=-1)
    yaw = ob.heading_yaw_of(s)
    facing = torch.stack([torch.cos(yaw), torch.sin(yaw)], dim=-1)
    a = (facing * offset).sum(-1) / d.clamp_min(1e-6)
    v = s["lin_vel"][:, :2].norm(dim=-1)
    bonus = (d < BONUS_RADIUS_M).float()
    return 0.6 * torch.exp(-0.5 * d * d) + 0.3 * torch.tanh(2.5 * a) + 0.1 * (1 - (v - TARGET_SPEED_MPS) ** 2) + bonus


def target_distance(env: TaskEnv) -> torch.Tensor:
    """(N,) horizontal pelvis–target distance (m)."""
    d = np.linalg.norm(env.buffers["target_xy"] - env.sim.qpos[:, :2], axis=1)
    return torch.as_tensor(d, dtype=torch.float32, device=env.device)


def target_progress(env: TaskEnv, ids, success_m: float) -> None:
    """Step event: the target is reached when the pelvis is within ``success_m`` of it."""
    d = np.linalg.norm(env.buffers["target_xy"] - env.sim.qpos[:, :2], axis=1)
    mark_achieved(env, d <= success_m)


def target_marker_qpos(env: TaskEnv) -> np.ndarray:
    """(N, 7) the video marker's coordinates: on the target, flat on the ground."""
    xy = env.buffers["target_xy"]
    return np.concatenate([xy, np.full((len(xy), 1), 0.005), np.tile([1.0, 0.0, 0.0, 0.0], (len(xy), 1))], axis=1)


def target_spec(opts: TargetOptions) -> TaskSpec:
    return goal_spec(
        opts,
        "humanoid-target",
        {"target": target_reward},
        target_obs,
        reset={"target": Event(place_target, params={"opts": opts})},
        step=Event(target_progress, mode="step", params={"success_m": opts.success_m}),
        buffers={"target_xy": Buffer((2,), "np.float64")},
        distance=target_distance,
    )


# -- strike ---------------------------------------------------------------------------------------
def strike_model():
    """The humanoid with the box and the hands' contact sensors."""
    return hm.load_model(props=BOX_XML, sensors=HAND_SENSORS_XML)


def make_strike_sim(num_envs: int, device: torch.device, options: object, model) -> MujocoSim:
    """Box and character in one MuJoCo model; sensors at every physics step (the hands' contacts);
    body positions and ground contacts of the character's own tree."""
    return MujocoSim(model, num_envs, hm.SUBSTEPS, sense_final=True, kinematics=TreeKinematics(hm.load_model()))


def box_props(env: TaskEnv, ids, qpos: np.ndarray, opts: StrikeOptions) -> np.ndarray:
    """(M, 7) the box's coordinates for characters placed at ``qpos``: standing upright at a
    goal position, turned by a uniform yaw."""
    xy = draw_goal_xy(env, qpos, opts)
    yaw = env.rng.uniform(-math.pi, math.pi, len(qpos))
    z = np.full((len(qpos), 1), BOX_HALF_M[2])
    return np.concatenate([xy, z, rot.quat_from_axis_angle(_Z, yaw)], axis=1)


def box_pose(env: TaskEnv) -> tuple[np.ndarray, np.ndarray]:
    """The box's centre (N, 3) and orientation (N, 4) (its free joint's coordinates)."""
    q = env.sim.qpos[:, hm.NQ : hm.NQ + 7]
    return q[:, :3], rot.quat_normalize(q[:, 3:7])


def box_tilt(env: TaskEnv) -> np.ndarray:
    """(N,) angle (rad) between the box's up axis and the world's."""
    quat = box_pose(env)[1]
    up = rot.quat_rotate(quat, np.broadcast_to(_Z, (len(quat), 3)))
    return np.arccos(np.clip(up[:, 2], -1.0, 1.0))


def distance_to_box(env: TaskEnv, points: np.ndarray) -> np.ndarray:
    """(N, K) distance (m) from points (N, K, 3) to the box's surface (0 inside)."""
    centre, quat = box_pose(env)
    inv = np.broadcast_to(rot.quat_conj(quat)[:, None], points.shape[:-1] + (4,))
    local = rot.quat_rotate(inv, points - centre[:, None])
    return np.linalg.norm(np.maximum(np.abs(local) - BOX_HALF_M, 0.0), axis=-1)


def hand_touches_box(env: TaskEnv) -> np.ndarray:
    """(N,) bool: a hand touched the box at a physics step of the last control step."""
    return np.asarray((env.sim.substep_sensors() > 0).any(axis=(1, 2)))


def strike_progress(env: TaskEnv, ids, knock_tilt_rad: float) -> None:
    """Step event: a hand's touch is remembered; a knock-over after one achieves the goal."""
    env.buffers["hit"] |= hand_touches_box(env)
    mark_achieved(env, env.buffers["hit"] & (box_tilt(env) > knock_tilt_rad))


def knocked_without_hand(env: TaskEnv, knock_tilt_rad: float) -> torch.Tensor:
    """(N,) bool: the box fell over and no hand had touched it (a failure)."""
    return torch.as_tensor((box_tilt(env) > knock_tilt_rad) & ~env.buffers["hit"], device=env.device)


def clear_hit(env: TaskEnv, ids) -> None:
    env.buffers["hit"][np_ids(ids)] = False


def box_obs(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 12) box centre minus pelvis (3), box rotation relative to the heading (tangent +
    normal, 6), box linear velocity (3), all in the heading frame."""
    i = np_ids(ids)
    s = current_state(env, ids)
    t = lambda a: torch.as_tensor(np.ascontiguousarray(a[i]), dtype=torch.float32, device=env.device)  # noqa: E731
    centre, quat = box_pose(env)
    vel = env.sim.qvel[:, hm.NV : hm.NV + 3]
    rel_rot = ob.quat_mul(ob.heading_inverse(s), t(quat))
    return torch.cat(
        [
            in_heading_frame(env, ids, t(centre) - s["root_pos"]),
            ob.tangent_normal(rel_rot),
            in_heading_frame(env, ids, t(vel)),
        ],
        dim=-1,
    )


def strike_reward(env: TaskEnv, knock_tilt_rad: float) -> torch.Tensor:
    """Until the goal: 0.5·exp(−0.5·d_p²) + 0.3·exp(−5·d_h²) + 0.2·hit·min(tilt/knock, 1); then 1."""
    body = env.sim.body_pos()
    d_p = distance_to_box(env, body[:, :1])[:, 0]
    d_h = (distance_to_box(env, body[:, hm.body_ids(HAND_GEOMS)]) - HAND_RADIUS_M).clip(0.0).min(axis=1)
    tilt = np.minimum(box_tilt(env) / knock_tilt_rad, 1.0) * env.buffers["hit"]
    shaped = 0.5 * np.exp(-0.5 * d_p**2) + 0.3 * np.exp(-5.0 * d_h**2) + 0.2 * tilt
    return torch.as_tensor(np.where(goal_now(env), 1.0, shaped), dtype=torch.float32, device=env.device)


def box_distance(env: TaskEnv) -> torch.Tensor:
    """(N,) distance (m) from the pelvis to the box's surface."""
    d = distance_to_box(env, env.sim.body_pos()[:, :1])[:, 0]
    return torch.as_tensor(d, dtype=torch.float32, device=env.device)


def box_video_qpos(env: TaskEnv) -> np.ndarray:
    """(N, 7) the box's coordinates (it is in the model: the video shows it where it is)."""
    return env.sim.qpos[:, hm.NQ : hm.NQ + 7].copy()


def strike_spec(opts: StrikeOptions) -> TaskSpec:
    knock = math.radians(opts.knock_tilt_deg)
    return goal_spec(
        opts,
        "humanoid-strike",
        {"strike": partial(strike_reward, knock_tilt_rad=knock)},
        box_obs,
        reset={"clear_hit": Event(clear_hit)},
        step=Event(strike_progress, mode="step", params={"knock_tilt_rad": knock}),
        buffers={"hit": Buffer(dtype="np.bool_")},
        terminations={
            "knocked_without_hand": Termination(
                knocked_without_hand, outcome="failure", params={"knock_tilt_rad": knock}
            )
        },
        props=partial(box_props, opts=opts),
        make_sim=partial(make_strike_sim, model=strike_model()),
        distance=box_distance,
    )


# -- what a video draws beside the character: (MJCF of the props, their coordinates now) -----------
VIDEO_PROPS = {
    "humanoid-target": (TARGET_MARKER_XML, target_marker_qpos),
    "humanoid-strike": (BOX_XML, box_video_qpos),
}


def _goal_env(spec, opts: GoalOptions, num_envs: int, seed: int, device: str | torch.device) -> TaskEnv:
    opts.validate()
    return TaskEnv(spec(opts), num_envs, seed=seed, device=device, options=opts)


def HumanoidTargetEnv(  # noqa: N802
    num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: TargetOptions | None = None
) -> TaskEnv:
    """``num_envs`` humanoids imitating ``options.motion`` while reaching targets."""
    return _goal_env(target_spec, options or TargetOptions(), num_envs, seed, device)


def HumanoidStrikeEnv(  # noqa: N802
    num_envs: int, seed: int = 0, device: str | torch.device = "cpu", options: StrikeOptions | None = None
) -> TaskEnv:
    """``num_envs`` humanoids imitating ``options.motion`` while knocking boxes over."""
    return _goal_env(strike_spec, options or StrikeOptions(), num_envs, seed, device)
