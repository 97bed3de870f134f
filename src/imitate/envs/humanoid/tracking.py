"""DeepMimic-style motion tracking: N humanoids follow one reference clip (SPEC §2).

One control step (30 Hz): PD targets from the action -> `HumanoidSim.step` (4 physics steps at
120 Hz) -> forward kinematics -> reward terms against the reference at the new time -> falls, clip
end, time limit -> auto-reset of finished envs (reference state initialisation).

Frames. Every episode has its own frame: at reset the reference (clip time t0, root at p0, in the
clip's world) is turned by a yaw offset ψ about p0 and moved to an origin o. The same transform is
applied to the reference at every later time of the episode, so the character is compared with
the reference *as if the clip had started where and how the episode started*; rewards then compare
like with like and do not depend on ψ or o (tests/test_tracking.py checks this).

Actions (28, in [-1, 1]): `action_mode=reference` (default): PD target = reference joint angles at
the next control time + action_scale·a, i.e. the policy learns corrections around the clip (this
is what makes CPU-sized training budgets work); `action_mode=default`: PD target = default pose
(all hinges 0) + action_scale·a, DeepMimic's absolute targets (our hinges have no limits in the
MJCF, so a scale replaces "joint ranges").

Termination: a fall (a body not in `contact_bodies` touches the ground, the root is below
`min_base_height_m`, or MuJoCo diverged) or, for one-shot clips, the end of the clip (both
`terminated`, the latter counted as success); looping clips are cut by the time limit
(`truncated`, bootstrapped by PPO).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from imitate.data.motion import MotionLibrary, load_clip
from imitate.utils import rotations as rot
from imitate.tasks.core.vecenv import StepResult
from imitate.data.motion import humanoid_model as hm
from imitate.envs.humanoid.observations import (STYLE_OBS_DIM, TARGET_OBS_DIM, TRACKING_OBS_DIM, style_obs,
                                                target_features, tracking_obs)
from imitate.envs.humanoid.options import TrackingOptions, options_from
from imitate.envs.humanoid.sim import HumanoidSim
from imitate.rewards.tracking import tracking_errors, tracking_reward, tracking_terms

_EE = hm.body_ids(hm.END_EFFECTORS)
_Z = np.array([0.0, 0.0, 1.0])


class HumanoidTrackingEnv:
    """Batched tracking VecEnv; see the module docstring. Observations: `observations.py`."""

    def __init__(self, num_envs: int, seed: int = 0, device: str | torch.device = "cpu", cfg=None,
                 nthread: int | None = None):
        self.opts: TrackingOptions = options_from(cfg if cfg is not None else TrackingOptions())
        self.opts.validate()
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.lib = MotionLibrary([load_clip(self.opts.clip)])
        self.loop = bool(self.lib.loop[0]) if self.opts.loop == "auto" else self.opts.loop == "wrap"
        self.duration_s = float(self.lib.durations[0])
        self.sim = HumanoidSim(num_envs, nthread=nthread)
        self.dt_s = self.sim.dt_s
        steps = self.opts.episode_seconds if self.loop else min(self.opts.episode_seconds, self.duration_s)
        self.max_episode_steps = max(1, int(math.ceil(steps / self.dt_s - 1e-9)))
        self.act_dim = hm.NUM_DOF
        self.obs_dim = TRACKING_OBS_DIM + (TARGET_OBS_DIM if self.opts.obs_target else 0)
        self.style_dim = STYLE_OBS_DIM
        self.params = self.opts.reward_params()
        names = [b.strip() for b in self.opts.contact_bodies.split(",") if b.strip()]
        self.contact_ok = tuple(names)
        self.rng = np.random.default_rng(seed)
        n = num_envs
        self.clip_ids = np.zeros(n, dtype=np.int64)
        self.time_s = np.zeros(n)  # reference time (s) of the current state
        self.steps = np.zeros(n, dtype=np.int64)
        self.yaw = np.zeros(n)  # episode frame: yaw offset (rad) ...
        self.pivot = np.zeros((n, 2))  # ... about the reference root at reset (clip world, m) ...
        self.origin = np.zeros((n, 2))  # ... which lands here (sim world, m)
        self.prev_action = torch.zeros(n, self.act_dim, device=self.device)
        self.default_pose = torch.zeros(self.act_dim, device=self.device)
        self._style = torch.zeros(n, STYLE_OBS_DIM, device=self.device)
        self._obs = torch.zeros(n, self.obs_dim, device=self.device)

    # -- reference in the episode frame ------------------------------------------------------
    def reference(self, times: np.ndarray, idx: np.ndarray | None = None):
        """Reference (qpos (M,35), qvel (M,34), phase (M,)) at `times` for envs `idx`, moved into
        each episode's frame. qvel's angular part is local (MuJoCo), so it is unchanged."""
        idx = np.arange(self.num_envs) if idx is None else idx
        ms = self.lib.state(self.clip_ids[idx], times, with_bodies=False)
        yaw = self.yaw[idx]
        c, s = np.cos(yaw), np.sin(yaw)
        qpos, qvel = ms.qpos(), ms.qvel()
        x, y = qpos[:, 0] - self.pivot[idx, 0], qpos[:, 1] - self.pivot[idx, 1]
        qpos[:, 0] = c * x - s * y + self.origin[idx, 0]
        qpos[:, 1] = s * x + c * y + self.origin[idx, 1]
        qpos[:, 3:7] = rot.quat_mul(rot.quat_from_axis_angle(_Z, yaw), qpos[:, 3:7])
        vx, vy = qvel[:, 0].copy(), qvel[:, 1].copy()
        qvel[:, 0], qvel[:, 1] = c * vx - s * vy, s * vx + c * vy
        return qpos, qvel, ms.phase

    def _state(self, qpos: np.ndarray, qvel: np.ndarray, body_pos: np.ndarray | None = None):
        """Torch state dict of the reward terms from qpos/qvel (FK for the end effectors)."""
        if body_pos is None:
            body_pos = self.sim.kin.forward(qpos)[0]
        quat = rot.quat_normalize(qpos[:, 3:7])
        t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=self.device)  # noqa: E731
        return {"root_pos": t(qpos[:, :3]), "root_quat": t(quat), "lin_vel": t(qvel[:, :3]),
                "ang_vel": t(rot.quat_rotate(quat, qvel[:, 3:6])), "joint_pos": t(qpos[:, 7:]),
                "joint_vel": t(qvel[:, 6:]), "ee_pos": t(body_pos[:, _EE]), "body_pos": t(body_pos)}

    # -- reset -------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._reset_envs(np.arange(self.num_envs))
        return self._obs.clone()

    def _reset_envs(self, idx: np.ndarray) -> None:
        """Reference state initialisation of envs `idx`: exact reference qpos/qvel at a random
        phase (phase 0 without RSI), in a fresh episode frame."""
        m = len(idx)
        span = self.duration_s if self.loop else max(self.duration_s - self.dt_s, 0.0)
        t0 = self.rng.random(m) * span if self.opts.rsi else np.zeros(m)
        start = self.lib.state(self.clip_ids[idx], t0, with_bodies=False)
        self.pivot[idx] = start.root_pos[:, :2]
        self.yaw[idx] = self.rng.uniform(-1.0, 1.0, m) * self.opts.reset_yaw_range
        self.origin[idx] = self.rng.uniform(-1.0, 1.0, (m, 2)) * self.opts.reset_origin_range_m
        self.time_s[idx] = t0
        self.steps[idx] = 0
        qpos, qvel, _ = self.reference(t0, idx)
        self.sim.set_state(qpos, qvel, idx)
        self.prev_action[torch.as_tensor(idx, device=self.device)] = 0.0
        self._refresh(idx)

    def _refresh(self, idx: np.ndarray) -> None:
        """Recompute observation and style features of envs `idx` from the simulator."""
        qpos, qvel = self.sim.get_state()
        qpos, qvel = qpos[idx], qvel[idx]
        obs, style = self._observe(qpos, qvel, self.sim.kin.forward(qpos)[0], idx)
        tidx = torch.as_tensor(idx, device=self.device)
        self._obs[tidx], self._style[tidx] = obs, style

    def _observe(self, qpos, qvel, body_pos, idx, cur=None):
        cur = cur if cur is not None else self._state(qpos, qvel, body_pos)
        tidx = torch.as_tensor(idx, device=self.device)
        phase = torch.as_tensor(self.lib.phase(self.clip_ids[idx], self.time_s[idx]),
                                dtype=torch.float32, device=self.device)
        if not self.loop:
            phase = (torch.as_tensor(self.time_s[idx], dtype=torch.float32, device=self.device)
                     / self.duration_s).clamp(0.0, 1.0)
        obs = tracking_obs(cur["root_pos"], cur["root_quat"], cur["lin_vel"], cur["ang_vel"],
                           cur["joint_pos"], cur["joint_vel"], self.default_pose, self.prev_action[tidx],
                           phase, self.loop)
        if self.opts.obs_target:
            rq, _, _ = self.reference(self.time_s[idx], idx)
            ref = torch.as_tensor(rq, dtype=torch.float32, device=self.device)
            obs = torch.cat([obs, target_features(cur["root_pos"], cur["root_quat"], ref[:, :3],
                                                  ref[:, 3:7])], dim=-1)
        style = style_obs(cur["root_pos"], cur["root_quat"], cur["lin_vel"], cur["ang_vel"],
                          cur["joint_pos"], cur["joint_vel"], cur["body_pos"])
        return obs, style

    # -- step --------------------------------------------------------------------------------
    def step(self, action: torch.Tensor) -> StepResult:
        n, all_idx = self.num_envs, np.arange(self.num_envs)
        action = action.to(self.device, torch.float32).clamp(-1.0, 1.0)
        t_next = self.time_s + self.dt_s
        ref_qpos, ref_qvel, _ = self.reference(t_next)
        a = action.cpu().double().numpy()
        base = ref_qpos[:, 7:] if self.opts.action_mode == "reference" else np.zeros((n, self.act_dim))
        unstable = self.sim.step(base + self.opts.action_scale * a)
        self.time_s, self.steps = t_next, self.steps + 1
        qpos, qvel = self.sim.get_state()
        body = self.sim.body_pos()
        cur = self._state(qpos, qvel, body)
        ref = self._state(ref_qpos, ref_qvel)
        terms = tracking_terms(cur, ref, action, self.prev_action, self.params)
        reward = tracking_reward(terms)
        if reward is None:
            reward = torch.ones(n, device=self.device)
        self.prev_action = action.clone()

        fell = unstable | (qpos[:, 2] < self.opts.min_base_height_m)
        fell |= self.sim.ground_contact(exclude=self.contact_ok)
        if self.opts.max_root_error_m > 0:
            fell |= np.linalg.norm(qpos[:, :3] - ref_qpos[:, :3], axis=1) > self.opts.max_root_error_m
        clip_end = np.zeros(n, dtype=bool) if self.loop else self.time_s >= self.duration_s - 1e-6
        terminated = fell | clip_end
        truncated = (self.steps >= self.max_episode_steps) & ~terminated
        obs, style = self._observe(qpos, qvel, body, all_idx, cur)
        transition = torch.cat([self._style, style], dim=-1)
        errors = tracking_errors(cur, ref)
        extras = {f"reward/{k}": v for k, v in terms.items()}
        extras.update({f"error/{k}": v for k, v in errors.items()})
        extras["phase"] = torch.as_tensor(self.lib.phase(self.clip_ids, np.minimum(self.time_s, self.duration_s))
                                          if self.loop else np.minimum(self.time_s / self.duration_s, 1.0),
                                          dtype=torch.float32, device=self.device)
        extras["fell"] = torch.as_tensor(fell, device=self.device)
        self._obs, self._style = obs.clone(), style.clone()
        done = terminated | truncated
        if done.any():
            self._reset_envs(np.nonzero(done)[0])
        tb = lambda x: torch.as_tensor(x, device=self.device)  # noqa: E731
        return StepResult(obs=self._obs.clone(), reward=reward, terminated=tb(terminated),
                          truncated=tb(truncated), final_obs=obs, success=tb((clip_end & ~fell) | truncated),
                          transition=transition, extras=extras)

    # -- exact save/restore (resume) ------------------------------------------------------------
    _ARRAYS = ("clip_ids", "time_s", "steps", "yaw", "pivot", "origin")
    _TENSORS = ("prev_action", "_style", "_obs")

    def get_state(self) -> dict:
        """Everything a step depends on: MuJoCo's full physics state, the episode frames and
        clocks, the previous action, the cached observations and the reset RNG."""
        state = {k: getattr(self, k).copy() for k in self._ARRAYS}
        state.update({k: getattr(self, k).clone() for k in self._TENSORS})
        state.update(sim=self.sim.get_physics_state(), rng=self.rng.bit_generator.state)
        return state

    def set_state(self, state: dict) -> None:
        self.sim.set_physics_state(state["sim"])  # checks the shape first
        for k in self._ARRAYS:
            setattr(self, k, np.array(state[k], dtype=getattr(self, k).dtype, copy=True))
        for k in self._TENSORS:
            getattr(self, k).copy_(torch.as_tensor(state[k]))
        self.rng.bit_generator.state = state["rng"]

    # -- state access (tests, eval) -------------------------------------------------------------
    def qpos(self) -> np.ndarray:
        """(N, 35) current MuJoCo qpos."""
        return self.sim.get_state()[0]

    def close(self) -> None:
        self.sim.close()


def make_tracking_env(num_envs: int, seed: int = 0, device: str = "cpu", cfg=None) -> HumanoidTrackingEnv:
    """Task factory (tasks.py)."""
    return HumanoidTrackingEnv(num_envs, seed=seed, device=device, cfg=cfg)
