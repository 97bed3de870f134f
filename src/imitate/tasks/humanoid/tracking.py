"""DeepMimic-style motion tracking, declared as a term table: N humanoids follow one reference clip
(DeepMimic; docs/methods.md#deepmimic), run by ``TaskEnv``.

One control step (30 Hz), in TaskEnv's order: the action term reads the reference at the end of
the step and turns the action into PD targets -> MuJoCo (4 physics steps at 120 Hz) -> the
reference clock advances -> falls, clip end, time limit -> the tracking reward (the assignment's
product of terms, or DeepMimic's weighted sum) against the reference at the new time ->
observations -> auto-reset of finished envs (reference state initialisation).

The reference is read once per step (and once per reset, for the envs reset): the action term
computes it, every other term reads it from ``env.scratch``. With ``reference_on_frames`` (the
default) RSI starts on a clip frame; when the control period is a whole number of clip frames
(walk: 1, cartwheel: 2) the reference is then a clip frame at every step, and its body positions
and centre of mass come from tables computed once per clip frame (the clip's own FK) instead of
FK every step. Otherwise (any start time, or a clip whose frames do not fit) the reference pose
is interpolated and its FK runs every step.

Frames. Every episode has its own frame: at reset the reference (clip time t0, root at p0, in the
clip's world) is turned by a yaw offset ψ about p0 and moved to an origin o. The same transform is
applied to the reference at every later time of the episode, so the character is compared with
the reference *as if the clip had started where and how the episode started*; rewards then compare
like with like and do not depend on ψ or o (tests/tasks/test_tracking.py checks this). ψ, p0, o, the
clip id and the reference time are per-env numpy buffers (``env.buffers``).

Actions (28, in [-1, 1]): `action_mode=default` (the default, DeepMimic's and the assignment's):
PD target = default pose (all hinges 0) + action_scale·a, absolute targets (our hinges have no
limits in the MJCF, so a scale replaces "joint ranges"); `action_mode=reference` (residual
actions): PD target = reference joint angles at the next control time + action_scale·a, i.e. the
policy learns corrections around the clip (our option for CPU-sized training budgets).

Termination: a fall (a body not in `contact_bodies` touches the ground, the root is below
`min_base_height_m`, or MuJoCo diverged; a failure) or, for one-shot clips, the end of the clip
(a success); looping clips are cut by the time limit (truncated, bootstrapped by PPO, a success).

Terms of one step share the simulated and the reference state through ``env.scratch`` (computed
once per step, or once per reset for the envs being reset). The state dict, episode frames, ground
contact and the clip-side style features are shared with the imitation task (``common.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from imitate.data.motion import MotionLibrary, load_clip
from imitate.data.motion import humanoid_model as hm
from imitate.tasks.core.common import last_action, time_limit
from imitate.tasks.core.env import ALL, TaskEnv, np_ids
from imitate.tasks.core.terms import ActionTerm, Buffer, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination
from imitate.tasks.humanoid import observations as ob
from imitate.tasks.humanoid.common import (
    State,
    clip_kinematics,
    count,
    current_state,
    ground_contact,
    make_sim,
    points_to_episode_frame,
    put_in_state,
    random_frame,
    state_dict,
    style,
    to_episode_frame,
)
from imitate.tasks.humanoid.options import ADDITIVE_TERMS, TrackingOptions
from imitate.tasks.humanoid.rewards import (
    additive_reward,
    additive_terms,
    tracking_errors,
    tracking_reward,
    tracking_terms,
)

FRAME_TOLERANCE = 1e-3  # relative: a control period this close to whole clip frames steps frame to frame
ERROR_NAMES = ("root_pos_m", "joint_rad", "end_effector_m", "root_rot_rad")  # tasks/humanoid/rewards.py tracking_errors


@dataclass(frozen=True)
class Motion:
    """The reference clip of a tracking task, how it plays (looped or once) and its per-frame
    kinematics."""

    lib: MotionLibrary
    loop: bool
    duration_s: float
    com: np.ndarray  # (F, 3) m: the centre of mass of every clip frame (clip world), from the clip's FK
    step_s: float  # reference (clip) time per control step
    frame_s: float | None  # the clip's frame period when the reference steps from frame to frame, else None

    @classmethod
    def from_options(cls, opts: TrackingOptions, dt_s: float) -> Motion:
        clip = load_clip(opts.clip)
        lib = MotionLibrary([clip])
        loop = bool(lib.loop[0]) if opts.loop == "auto" else opts.loop == "wrap"
        com = np.concatenate([clip_kinematics().center_of_mass(c.body_pos, c.body_quat)[0] for c in lib.clips])
        frames = frames_per_step(clip.dt, dt_s) if opts.reference_on_frames else None
        if frames is None:
            return cls(lib, loop, float(lib.durations[0]), com, dt_s, None)
        frame_s = float(clip.dt[0])
        return cls(lib, loop, float(lib.durations[0]), com, frames * frame_s, frame_s)

    def episode_steps(self, opts: TrackingOptions, dt_s: float) -> int:
        """Time limit in control steps: `episode_seconds`, and no longer than a one-shot clip."""
        steps = math.ceil(opts.episode_seconds / dt_s - 1e-9)
        return max(1, steps if self.loop else min(steps, math.ceil(self.duration_s / self.step_s - 1e-9)))


def frames_per_step(frame_dt: np.ndarray, dt_s: float) -> int | None:
    """How many frames of a clip with frame durations ``frame_dt`` (T-1,) one control period
    ``dt_s`` spans, when the durations are all equal and it is a whole number of them up to
    ``FRAME_TOLERANCE`` (the clip files round 1/30 s to 0.033332 s), else None."""
    ratio = dt_s / float(frame_dt[0])
    k = round(ratio)
    if np.ptp(frame_dt) > 1e-9 or k < 1 or abs(ratio - k) > FRAME_TOLERANCE * k:
        return None
    return k


def motion(env: TaskEnv) -> Motion:
    """The reference motion a tracking env was built with (its action term's)."""
    return env.spec.action.params["motion"]


@dataclass
class Reference:
    """The reference of M envs at one time, in their episode frames."""

    qpos: np.ndarray  # (M, 35)
    qvel: np.ndarray  # (M, 34)
    phase: np.ndarray  # (M,) in [0, 1]
    body_pos: np.ndarray  # (M, 15, 3) m
    com_pos: np.ndarray  # (M, 3) m


def reference(env: TaskEnv, motion: Motion, times_s: np.ndarray, ids=ALL, new_pivot: bool = False) -> Reference:
    """The reference of envs ``ids`` at clip times ``times_s``, in their episode frames (with
    ``new_pivot``, frames that pivot about the reference root at these times: a reset). Body
    positions and centre of mass: the per-frame tables when the reference is on clip frames (the
    module docstring), else FK of the reference pose."""
    i = np_ids(ids)
    f = motion.lib.locate(env.buffers["clip_ids"][i], times_s)
    ms = motion.lib.state_at(f, with_bodies=motion.frame_s is not None)
    if new_pivot:
        env.buffers["pivot"][i] = ms.root_pos[:, :2]
    qpos, qvel, phase = to_episode_frame(env, ms, ids)
    if ms.body_pos is not None:
        body, com = ms.body_pos, motion.lib.points(f, motion.com)
        points_to_episode_frame(env, body, ids)
        points_to_episode_frame(env, com, ids)
    else:
        pos, quat, _, _ = env.sim.kin.forward(qpos)
        body, com = pos, env.sim.kin.center_of_mass(pos, quat)[0]
    return Reference(qpos, qvel, phase, body, com)


def _reference_now(env: TaskEnv, ids) -> Reference:
    """The reference of envs ``ids`` at their current time: read once per step by the action
    term, once per reset by the ``reference_state`` event (else here)."""
    ref = env.scratch.get("reference")
    if ref is None:
        ref = env.scratch["reference"] = reference(env, motion(env), env.buffers["time_s"][np_ids(ids)], ids)
    return ref


def _reference_state(env: TaskEnv) -> State:
    """State dict of the reference now, all envs."""
    state = env.scratch.get("reference_state")
    if state is None:
        ref = _reference_now(env, ALL)
        state = env.scratch["reference_state"] = state_dict(env, ref.qpos, ref.qvel, ref.body_pos, ref.com_pos)
    return state


# -- engine and action -----------------------------------------------------------------------
def pd_targets(env: TaskEnv, action: torch.Tensor, motion: Motion, mode: str, scale_rad: float) -> np.ndarray:
    """(N, 28) PD targets (rad): the reference pose at the end of this step (``mode="reference"``)
    or the default pose (all hinges 0), plus ``scale_rad`` · action. The reference read here is
    the one the rest of the step compares with (``env.scratch``)."""
    ref = env.scratch["reference"] = reference(env, motion, env.buffers["time_s"] + motion.step_s)
    base = ref.qpos[:, 7:] if mode == "reference" else np.zeros((env.num_envs, hm.NUM_DOF))
    return base + scale_rad * action.cpu().double().numpy()


def advance_time(env: TaskEnv, ids, motion: Motion) -> None:
    """Step event: the reference clock moves on by one control step (``Motion.step_s``)."""
    env.buffers["time_s"] += motion.step_s


# -- resets (in this order: start time, frame, state) ----------------------------------------
def start_time(env: TaskEnv, ids, motion: Motion, rsi: bool) -> None:
    """Reference state initialisation: each episode starts at a uniform random clip time (so that
    at least one step remains in a one-shot clip), or at 0 without RSI. When the reference steps
    from frame to frame (``Motion.frame_s``) the start is a uniform random clip frame."""
    m = count(env, ids)
    span = motion.duration_s if motion.loop else max(motion.duration_s - motion.step_s, 0.0)
    times: np.ndarray
    if not rsi:
        times = np.zeros(m)
    elif motion.frame_s is None:
        times = env.rng.random(m) * span
    else:  # frames 0 .. the last start (a looping clip's last frame is the next cycle's first)
        last = round(span / motion.frame_s) - (1 if motion.loop else 0)
        times = env.rng.integers(0, max(last, 0) + 1, m) * motion.frame_s
    env.buffers["time_s"][np_ids(ids)] = times


def reference_state(env: TaskEnv, ids, motion: Motion) -> None:
    """Put envs ``ids`` exactly in the reference state at their start time, in the episode frame
    pivoting about the reference root there (the reset's observations read it: ``env.scratch``)."""
    ref = reference(env, motion, env.buffers["time_s"][np_ids(ids)], ids, new_pivot=True)
    put_in_state(env, ids, ref.qpos, ref.qvel)
    env.scratch["reference"] = ref


# -- terminations ----------------------------------------------------------------------------
def fell(
    env: TaskEnv, min_base_height_m: float, contact_bodies: tuple[str, ...], max_root_error_m: float
) -> np.ndarray:
    """(N,) bool: MuJoCo diverged, the root is below ``min_base_height_m``, a body other than
    ``contact_bodies`` touches the ground or (``max_root_error_m`` > 0) the root is that far from
    the reference."""
    sim = env.sim
    qpos = sim.qpos
    out = sim.unstable | (qpos[:, 2] < min_base_height_m) | ground_contact(sim, contact_bodies)
    if max_root_error_m > 0:
        ref_qpos = _reference_now(env, ALL).qpos
        out |= np.linalg.norm(qpos[:, :3] - ref_qpos[:, :3], axis=1) > max_root_error_m
    return out


def clip_end(env: TaskEnv, motion: Motion) -> np.ndarray:
    """(N,) bool: a one-shot clip has been played to its end (never for looping clips)."""
    if motion.loop:
        return np.zeros(env.num_envs, dtype=bool)
    return env.buffers["time_s"] >= motion.duration_s - 1e-6


# -- reward and its logged parts -------------------------------------------------------------
def tracking(
    env: TaskEnv, form: str, params: dict[str, tuple[float, float]], weights: dict[str, float]
) -> torch.Tensor:
    """(N,) the tracking reward: DeepMimic's weighted sum of its five kernels (``form="additive"``,
    ``weights``) or the assignment's product of the terms with σ > 0 in ``params`` {term: (σ, tol)}
    (1 when there are none); the terms are kept for ``extras``."""
    cur, ref = current_state(env, ALL), _reference_state(env)
    if form == "additive":
        terms = additive_terms(cur, ref, params)
        reward: torch.Tensor | None = additive_reward(terms, weights)
    else:
        terms = tracking_terms(cur, ref, env.action, env.prev_action, params)
        reward = tracking_reward(terms)
    env.scratch["terms"] = terms
    return torch.ones(env.num_envs, device=env.device) if reward is None else reward


def _term(env: TaskEnv, name: str) -> torch.Tensor:
    return env.scratch["terms"][name]


def _error(env: TaskEnv, name: str) -> torch.Tensor:
    errors = env.scratch.get("errors")
    if errors is None:
        errors = env.scratch["errors"] = tracking_errors(current_state(env, ALL), _reference_state(env))
    return errors[name]


def _phase(env: TaskEnv) -> torch.Tensor:
    """(N,) clip phase in [0, 1] of the state just reached (held at 1 after a one-shot clip ends)."""
    return torch.as_tensor(_reference_now(env, ALL).phase, dtype=torch.float32, device=env.device)


def _fell(env: TaskEnv) -> torch.Tensor:
    return env.fired["fell"]


# -- observations (layout: observations.py) --------------------------------------------------
def root_vel_heading(env: TaskEnv, ids) -> torch.Tensor:
    return ob.root_vel_heading(current_state(env, ids))


def joint_pos(env: TaskEnv, ids) -> torch.Tensor:
    """Joint angles (rad), i.e. relative to the default pose (all hinges 0)."""
    return current_state(env, ids)["joint_pos"]


def joint_vel(env: TaskEnv, ids) -> torch.Tensor:
    return current_state(env, ids)["joint_vel"]


def root_rot_heading(env: TaskEnv, ids) -> torch.Tensor:
    return ob.root_rot_heading(current_state(env, ids))


def root_height_m(env: TaskEnv, ids) -> torch.Tensor:
    return current_state(env, ids)["root_pos"][:, 2:3]


def phase(env: TaskEnv, ids, motion: Motion) -> torch.Tensor:
    """(M, 2) phase of the clip as a point on a circle (looping) or half circle (one-shot)."""
    phi = torch.as_tensor(_reference_now(env, ids).phase, dtype=torch.float32, device=env.device)
    return ob.phase_features(phi, motion.loop)


def target(env: TaskEnv, ids) -> torch.Tensor:
    """(M, 5) where the reference root is now, relative to ours (observations.target_features)."""
    ref = torch.as_tensor(_reference_now(env, ids).qpos, dtype=torch.float32, device=env.device)
    return ob.target_features(current_state(env, ids), ref[:, :3], ref[:, 3:7])


# -- the task --------------------------------------------------------------------------------
def tracking_spec(opts: TrackingOptions) -> TaskSpec:
    """The term table of tracking ``opts.clip`` (the options decide which terms exist: the target
    block, the reward terms with σ > 0)."""
    model = hm.load_model()
    dt_s = model.opt.timestep * hm.SUBSTEPS  # = MujocoSim.dt_s
    clip = Motion.from_options(opts, dt_s)
    contact_ok = tuple(b.strip() for b in opts.contact_bodies.split(",") if b.strip())
    params = opts.reward_params()
    policy = {
        "root_vel": ObsTerm(root_vel_heading),
        "joint_pos": ObsTerm(joint_pos),
        "joint_vel": ObsTerm(joint_vel),
        "root_rot": ObsTerm(root_rot_heading),
        "last_action": ObsTerm(last_action),
        "root_height": ObsTerm(root_height_m),
        "phase": ObsTerm(phase, {"motion": clip}),
    }
    if opts.obs_target:
        policy["target"] = ObsTerm(target)
    if opts.reward_form == "additive":
        term_names: tuple[str, ...] = ADDITIVE_TERMS
    else:
        term_names = tuple(name for name, (sigma, _) in params.items() if sigma > 0)
    extras: dict[str, Callable[..., torch.Tensor]] = {
        f"reward/{name}": partial(_term, name=name) for name in term_names
    }
    extras.update({f"error/{name}": partial(_error, name=name) for name in ERROR_NAMES})
    extras.update(phase=_phase, fell=_fell)
    groups = {"policy": ObsGroup(policy)}
    if opts.style_obs:  # tracking itself never reads it
        groups["style"] = ObsGroup({"style": ObsTerm(style)})
    return TaskSpec(
        name="humanoid-tracking",
        make_sim=partial(make_sim, model=model),
        action=ActionTerm(
            pd_targets,
            dim=hm.NUM_DOF,
            params={"motion": clip, "mode": opts.action_mode, "scale_rad": opts.action_scale},
        ),
        observations=groups,
        rewards={
            "tracking": RewardTerm(
                tracking,
                params={"form": opts.reward_form, "params": params, "weights": opts.additive_weights()},
            )
        },
        terminations={
            "fell": Termination(
                fell,
                outcome="failure",
                params={
                    "min_base_height_m": opts.min_base_height_m,
                    "contact_bodies": contact_ok,
                    "max_root_error_m": opts.max_root_error_m,
                },
            ),
            "clip_end": Termination(clip_end, outcome="success", params={"motion": clip}),
            "time_limit": Termination(time_limit, time_out=True, outcome="success"),
        },
        events={
            "start_time": Event(start_time, params={"motion": clip, "rsi": opts.rsi}),
            "frame": Event(
                random_frame,
                params={"yaw_range_rad": opts.reset_yaw_range, "origin_range_m": opts.reset_origin_range_m},
            ),
            "reference_state": Event(reference_state, params={"motion": clip}),
            "advance_time": Event(advance_time, mode="step", params={"motion": clip}),
        },
        buffers={
            "clip_ids": Buffer(dtype="np.int64"),
            "time_s": Buffer(dtype="np.float64"),  # reference (clip) time of the current state
            "yaw": Buffer(dtype="np.float64"),  # episode frame: yaw offset (rad) ...
            "pivot": Buffer((2,), "np.float64"),  # ... about the reference root at reset (clip world, m) ...
            "origin": Buffer((2,), "np.float64"),
        },  # ... which lands here (sim world, m)
        extras=extras,
        max_episode_steps=clip.episode_steps(opts, dt_s),
    )


def HumanoidTrackingEnv(
    num_envs: int,
    seed: int = 0,
    device: str | torch.device = "cpu",  # noqa: N802
    options: TrackingOptions | None = None,
) -> TaskEnv:
    """``num_envs`` humanoids tracking the clip of ``options`` (defaults when None)."""
    opts = options if options is not None else TrackingOptions()
    opts.validate()
    return TaskEnv(tracking_spec(opts), num_envs, seed=seed, device=device, options=opts)
