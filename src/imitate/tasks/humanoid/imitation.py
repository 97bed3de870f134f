"""Imitation from observation of motion clips (NEAR, AMP; docs/tasks.md#humanoid-imitation), declared as a term
table run by ``TaskEnv``: the task ``humanoid``.

There is no reference at run time. The policy sees the 105-d style observation of its own state
(``observations.style_obs``: no phase, no clip), its actions are absolute PD targets (default
pose, all hinges 0, + action_scale·a), and the ``style`` group NEAR and AMP score is that same
observation, so a step's style pair (s_t, s_t+1) is ``StepResult.transition`` and the expert
pairs come from clip frames through the same function (``common.clip_style_features``; the
oracle, ``oracles/humanoid.py``). The clips enter only at reset.

One control step (30 Hz): PD targets -> MuJoCo (4 physics steps at 120 Hz) -> the pelvis's
forward progress -> falls, time limit -> the task reward -> observations -> auto-reset.

Reset (reference state initialisation): a clip of the motion data set by weight and a time
uniform in it (``MotionLibrary.sample``), turned by a random yaw, the character placed exactly in
that state; the style history then starts from it. The episode frame's yaw says where the clip's
+x ("forward") points, which the ``dist`` reward measures along.

Termination: a fall (a failure): a body other than ``contact_bodies`` touches the ground (within
1 cm, geometric) with its origin below ``fall_height_m`` (0.3 m, NEAR's), the pelvis is below
``min_base_height_m``, or MuJoCo diverged. The time limit (``episode_seconds``) truncates and is
a success: surviving is what the looping motions ask for.

Task rewards (NEAR's), one term chosen by ``task_reward``: ``time`` 1 per step; ``dist``
clamp(v, 0, 0.5)/0.5 with v the pelvis's forward speed (m/s, over the last control step, along
the episode's +x); ``height`` clamp(z, 0, 2.5)/2.5 of the pelvis (m).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial

import numpy as np
import torch

from imitate.data.motion import MotionLibrary, resolve_motion
from imitate.data.motion import humanoid_model as hm
from imitate.tasks.core.common import time_limit
from imitate.tasks.core.env import TaskEnv, np_ids
from imitate.tasks.core.terms import ActionTerm, Buffer, Event, ObsGroup, ObsTerm, RewardTerm, TaskSpec, Termination
from imitate.tasks.humanoid.common import (
    count,
    ground_contact,
    make_sim,
    place_at_clip_state,
    random_frame,
    style,
)
from imitate.tasks.humanoid.options import HumanoidOptions, check_bodies

DIST_MAX_MPS = 0.5  # NEAR's clamp(Δx, 0, 0.5)/0.5, read as a forward speed (docs/humanoid_imitation.md)
HEIGHT_MAX_M = 2.5


def motion_library(env: TaskEnv) -> MotionLibrary:
    """The weighted clips an imitation env resets from."""
    return env.spec.events["start"].params["lib"]


# -- action ---------------------------------------------------------------------------------------
def absolute_pd_targets(env: TaskEnv, action: torch.Tensor, scale_rad: float) -> np.ndarray:
    """(N, 28) PD targets (rad): the default pose (all hinges 0) + ``scale_rad`` · action."""
    return scale_rad * action.cpu().double().numpy()


# -- resets (in this order: start, frame, state, progress origin) --------------------------------
def start(env: TaskEnv, ids, lib: MotionLibrary, rsi: bool) -> None:
    """Reference state initialisation: a clip by weight and a time uniform in it (0 without RSI)."""
    m, i = count(env, ids), np_ids(ids)
    clip_ids, times = lib.sample(m, env.rng)
    env.buffers["clip_ids"][i] = clip_ids
    env.buffers["time_s"][i] = times if rsi else np.zeros(m)


def clip_state(env: TaskEnv, ids, lib: MotionLibrary, props=None) -> None:
    """Put envs ``ids`` in the drawn clip state, in their episode frames (with a goal task's
    ``props``: ``common.place_at_clip_state``); the pelvis's forward progress is measured from there."""
    qpos = place_at_clip_state(env, ids, lib, props)[0]
    env.buffers["root_xy"][np_ids(ids)] = qpos[:, :2]


def forward_progress(env: TaskEnv, ids) -> None:
    """Step event: the pelvis's speed (m/s) along each episode's +x over the step just taken."""
    xy = env.sim.qpos[:, :2]
    d = xy - env.buffers["root_xy"]
    yaw = env.buffers["yaw"]
    env.buffers["forward_mps"][:] = (d[:, 0] * np.cos(yaw) + d[:, 1] * np.sin(yaw)) / env.sim.dt_s
    env.buffers["root_xy"][:] = xy


# -- termination ----------------------------------------------------------------------------------
def fell(env: TaskEnv, contact_bodies: tuple[str, ...], fall_height_m: float, min_base_height_m: float) -> np.ndarray:
    """(N,) bool: MuJoCo diverged, the pelvis is below ``min_base_height_m``, or a body other than
    ``contact_bodies`` touches the ground with its origin below ``fall_height_m``."""
    sim = env.sim
    low_root = sim.qpos[:, 2] < min_base_height_m
    return sim.unstable | low_root | ground_contact(sim, contact_bodies, below_m=fall_height_m)


# -- task rewards (NEAR's) ------------------------------------------------------------------------
def time_reward(env: TaskEnv) -> torch.Tensor:
    """1 per step survived."""
    return torch.ones(env.num_envs, device=env.device)


def dist_reward(env: TaskEnv) -> torch.Tensor:
    """clamp(forward pelvis speed, 0, 0.5 m/s) / 0.5."""
    v = torch.as_tensor(env.buffers["forward_mps"], dtype=torch.float32, device=env.device)
    return v.clamp(0.0, DIST_MAX_MPS) / DIST_MAX_MPS


def height_reward(env: TaskEnv) -> torch.Tensor:
    """clamp(pelvis height, 0, 2.5 m) / 2.5."""
    z = torch.as_tensor(env.sim.qpos[:, 2], dtype=torch.float32, device=env.device)
    return z.clamp(0.0, HEIGHT_MAX_M) / HEIGHT_MAX_M


TASK_REWARDS = {"time": time_reward, "dist": dist_reward, "height": height_reward}


def _fell(env: TaskEnv) -> torch.Tensor:
    return env.fired["fell"]


def _forward_mps(env: TaskEnv) -> torch.Tensor:
    return torch.as_tensor(env.buffers["forward_mps"], dtype=torch.float32, device=env.device)


# -- the task -------------------------------------------------------------------------------------
def imitation_spec(
    opts: HumanoidOptions, task_rewards: Mapping[str, Callable[..., torch.Tensor]] = TASK_REWARDS
) -> TaskSpec:
    """The term table of imitating the data set ``opts.motion`` from observation; a goal task
    (``goals.py``) adds its terms to it and its rewards to ``task_rewards``."""
    data = resolve_motion(opts.motion)
    lib = data.library()
    model = hm.load_model()
    dt_s = model.opt.timestep * hm.SUBSTEPS  # = MujocoSim.dt_s
    reward = opts.resolved_task_reward(data.task_reward)
    features = ObsGroup({"style": ObsTerm(style)})  # one feature function, read once per step
    return TaskSpec(
        name="humanoid",
        make_sim=partial(make_sim, model=model),
        action=ActionTerm(absolute_pd_targets, dim=hm.NUM_DOF, params={"scale_rad": opts.action_scale}),
        observations={"policy": features, "style": features},
        rewards={reward: RewardTerm(task_rewards[reward])},
        terminations={
            "fell": Termination(
                fell,
                outcome="failure",
                params={
                    "contact_bodies": check_bodies(opts.contact_bodies),
                    "fall_height_m": opts.fall_height_m,
                    "min_base_height_m": opts.min_base_height_m,
                },
            ),
            "time_limit": Termination(time_limit, time_out=True, outcome="success"),
        },
        events={
            "start": Event(start, params={"lib": lib, "rsi": opts.rsi}),
            "frame": Event(random_frame, params={"yaw_range_rad": opts.reset_yaw_range, "origin_range_m": 0.0}),
            "clip_state": Event(clip_state, params={"lib": lib}),
            "forward_progress": Event(forward_progress, mode="step"),
        },
        buffers={
            "clip_ids": Buffer(dtype="np.int64"),  # the clip and time the episode started from
            "time_s": Buffer(dtype="np.float64"),
            "yaw": Buffer(dtype="np.float64"),  # episode frame: yaw offset (rad) ...
            "pivot": Buffer((2,), "np.float64"),  # ... about the clip's root at reset (clip world, m) ...
            "origin": Buffer((2,), "np.float64"),  # ... which lands here (sim world, m)
            "root_xy": Buffer((2,), "np.float64"),  # pelvis position after the last step (m)
            "forward_mps": Buffer(dtype="np.float64"),  # its speed along the episode's +x in that step
        },
        extras={"fell": _fell, "forward_mps": _forward_mps},
        max_episode_steps=max(1, math.ceil(opts.episode_seconds / dt_s - 1e-9)),
    )


def HumanoidEnv(  # noqa: N802
    num_envs: int,
    seed: int = 0,
    device: str | torch.device = "cpu",
    options: HumanoidOptions | None = None,
) -> TaskEnv:
    """``num_envs`` humanoids imitating the motion data set of ``options`` (defaults when None)."""
    opts = options if options is not None else HumanoidOptions()
    opts.validate()
    return TaskEnv(imitation_spec(opts), num_envs, seed=seed, device=device, options=opts)
