"""Planar block pushing (SPEC §5, after IBC's BlockPush), batched over MuJoCo's C engine.

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
target beyond the block); success when the block centre is within ``SUCCESS_DIST_M`` (0.02 m)
of the target, orientation ignored (as IBC's BlockPush). Success ends the episode with reward 1
(sparse; ``extras['block_target_dist']`` holds the distance for logging or shaping); episodes are
cut at ``MAX_EPISODE_STEPS`` (100 control steps = 10 s).

Warm-starting of the constraint solver is disabled, so the next state depends only on
(qpos, qvel, ctrl): ``get_state``/``set_state`` are exact and both stepping backends (a loop
of ``mj_step`` over per-env ``MjData``, or ``mujoco.rollout``, the default) give bit-identical
results.
"""
from __future__ import annotations

import math

import mujoco
import numpy as np
import torch

from imitate.tasks.core.vecenv import StepResult

BLOCK_HALF_M = 0.02  # half side of the cube
PUSHER_RADIUS_M = 0.0125
MAX_DELTA_M = 0.1  # set-point change per control step at |action| = 1
CONTROL_DT_S = 0.1
TIMESTEP_S = 0.005
SUBSTEPS = int(round(CONTROL_DT_S / TIMESTEP_S))
SUCCESS_DIST_M = 0.02
MAX_EPISODE_STEPS = 100
WORKSPACE = ((-0.3, 0.3), (-0.35, 0.35))  # (x range, y range) of the set-point, metres
# Reset regions (x range, y range), metres: block in front, target beyond it; the pusher starts
# behind or beside the block (at least PUSHER_START_GAP_M from its centre), so some episodes
# must go around it.
PUSHER_REGION = ((-0.25, 0.25), (-0.3, -0.05))
PUSHER_START_GAP_M = 0.07
BLOCK_REGION = ((-0.1, 0.1), (-0.15, -0.05))
TARGET_REGION = ((-0.1, 0.1), (0.1, 0.2))
OBS_NAMES = ["pusher_x", "pusher_y", "setpoint_x", "setpoint_y", "block_x", "block_y",
             "block_sin_yaw", "block_cos_yaw", "target_x", "target_y"]

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


def _uniform(gen: torch.Generator, n: int, region) -> np.ndarray:
    """(n, 2) points uniform in region ((x0, x1), (y0, y1))."""
    u = torch.rand(n, 2, generator=gen, dtype=torch.float64).numpy()
    lo = np.array([region[0][0], region[1][0]])
    hi = np.array([region[0][1], region[1][1]])
    return lo + (hi - lo) * u


class BlockPushEnv:
    """``num_envs`` block-pushing tables stepped together (see module docstring)."""

    obs_dim = 10
    act_dim = 2
    style_dim = 10
    max_episode_steps = MAX_EPISODE_STEPS

    def __init__(self, num_envs: int, seed: int = 0, device: str | torch.device = "cpu",
                 backend: str = "rollout", nthread: int = 0):
        """backend "rollout" (default, measured ≥ "loop" at 64-256 envs; see
        benchmarks/block_push_throughput.py) steps all envs in one ``mujoco.rollout`` call with
        ``nthread`` worker threads (0: in the calling thread); "loop" calls ``mj_step`` per env."""
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        if backend not in ("loop", "rollout"):
            raise ValueError(f"backend must be 'loop' or 'rollout', got {backend!r}")
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.backend = backend
        self.generator = torch.Generator().manual_seed(seed)
        self.model = load_model()
        m = self.model
        self.nq, self.nv = m.nq, m.nv
        self.qpos = np.zeros((num_envs, m.nq))  # (N, 6) pusher x, y, block x, y, z, yaw
        self.qvel = np.zeros((num_envs, m.nv))  # (N, 6)
        self.setpoint = np.zeros((num_envs, 2))  # (N, 2) actuator ctrl, metres
        self.target = np.zeros((num_envs, 2))  # (N, 2)
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.ws_lo = np.array([WORKSPACE[0][0], WORKSPACE[1][0]])
        self.ws_hi = np.array([WORKSPACE[0][1], WORKSPACE[1][1]])
        if backend == "loop":
            self.datas = [mujoco.MjData(m) for _ in range(num_envs)]
        else:
            from mujoco import rollout
            self._rollout = rollout.Rollout(nthread=nthread)
            self.datas = [mujoco.MjData(m) for _ in range(max(1, nthread))]
            self._spec = int(mujoco.mjtState.mjSTATE_FULLPHYSICS)
            self._nstate = mujoco.mj_stateSize(m, self._spec)
            self._state_out = np.zeros((num_envs, SUBSTEPS, self._nstate))

    # -- physics -------------------------------------------------------------------------
    def _physics_step(self) -> None:
        """Advance every env one control step with ctrl = set-point."""
        if self.backend == "loop":
            for i, d in enumerate(self.datas):
                d.qpos[:] = self.qpos[i]
                d.qvel[:] = self.qvel[i]
                d.ctrl[:] = self.setpoint[i]
                mujoco.mj_step(self.model, d, SUBSTEPS)
                self.qpos[i] = d.qpos
                self.qvel[i] = d.qvel
        else:
            n, nq, nv = self.num_envs, self.nq, self.nv
            state0 = np.zeros((n, self._nstate))
            state0[:, 1:1 + nq] = self.qpos
            state0[:, 1 + nq:1 + nq + nv] = self.qvel
            ctrl = self.setpoint[:, None, :]  # (N, 1, nu), tiled over substeps
            self._rollout.rollout(self.model, self.datas, state0, ctrl, nstep=SUBSTEPS,
                                  state=self._state_out, skip_checks=False)
            last = self._state_out[:, -1]
            self.qpos[:] = last[:, 1:1 + nq]
            self.qvel[:] = last[:, 1 + nq:1 + nq + nv]

    def close(self) -> None:
        if self.backend == "rollout":
            self._rollout.close()

    # -- episode logic ---------------------------------------------------------------------
    def _reset_where(self, mask: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        n = len(idx)
        if n == 0:
            return
        block = _uniform(self.generator, n, BLOCK_REGION)
        pusher = _uniform(self.generator, n, PUSHER_REGION)
        for _ in range(100):  # rejection sampling: redraw pushers that start too near the block
            near = np.linalg.norm(pusher - block, axis=1) < PUSHER_START_GAP_M
            if not near.any():
                break
            pusher[near] = _uniform(self.generator, int(near.sum()), PUSHER_REGION)
        yaw = (torch.rand(n, generator=self.generator, dtype=torch.float64).numpy() - 0.5) * 2 * math.pi
        target = _uniform(self.generator, n, TARGET_REGION)
        self.qpos[idx] = np.concatenate([pusher, block, np.full((n, 1), _REST_Z), yaw[:, None]], axis=1)
        self.qvel[idx] = 0.0
        self.setpoint[idx] = pusher
        self.target[idx] = target
        self.steps[idx] = 0

    def _obs(self) -> np.ndarray:
        q = self.qpos
        return np.concatenate([q[:, 0:2], self.setpoint, q[:, 2:4], np.sin(q[:, 5:6]),
                               np.cos(q[:, 5:6]), self.target], axis=1)  # (N, 10)

    def _tensor(self, x: np.ndarray, dtype=torch.float32) -> torch.Tensor:
        return torch.as_tensor(x, dtype=dtype).to(self.device)

    def block_target_dist(self) -> np.ndarray:
        return np.linalg.norm(self.qpos[:, 2:4] - self.target, axis=1)

    def reset(self, seed: int | None = None) -> torch.Tensor:
        if seed is not None:
            self.generator.manual_seed(seed)
        self._reset_where(np.ones(self.num_envs, dtype=bool))
        return self._tensor(self._obs())

    def step(self, action: torch.Tensor) -> StepResult:
        if tuple(action.shape) != (self.num_envs, self.act_dim):
            raise ValueError(f"action must be ({self.num_envs}, {self.act_dim}), got {tuple(action.shape)}")
        a = action.detach().to("cpu", torch.float64).clamp(-1.0, 1.0).numpy()
        prev = self._obs()
        self.setpoint = np.clip(self.setpoint + MAX_DELTA_M * a, self.ws_lo, self.ws_hi)
        self._physics_step()
        self.steps += 1
        final = self._obs()
        dist = self.block_target_dist()
        success = dist < SUCCESS_DIST_M
        truncated = (self.steps >= MAX_EPISODE_STEPS) & ~success
        done = success | truncated
        final_t = self._tensor(final)
        result = StepResult(
            obs=final_t, reward=self._tensor(success), terminated=self._tensor(success, torch.bool),
            truncated=self._tensor(truncated, torch.bool), final_obs=final_t,
            success=self._tensor(success, torch.bool),
            transition=self._tensor(np.concatenate([prev, final], axis=1)),
            extras={"block_target_dist": self._tensor(dist)})
        if done.any():
            self._reset_where(done)
            result.obs = self._tensor(self._obs())
        return result

    # -- exact save/restore (planners, tests) ----------------------------------------------
    def get_state(self) -> dict:
        return {"qpos": self.qpos.copy(), "qvel": self.qvel.copy(), "setpoint": self.setpoint.copy(),
                "target": self.target.copy(), "steps": self.steps.copy(),
                "rng": self.generator.get_state()}

    def set_state(self, state: dict) -> None:
        self.qpos[:] = state["qpos"]
        self.qvel[:] = state["qvel"]
        self.setpoint[:] = state["setpoint"]
        self.target[:] = state["target"]
        self.steps[:] = state["steps"]
        self.generator.set_state(state["rng"])

    # Helpers for tests and oracles: place things directly (metres, radians).
    def place(self, i: int, pusher=None, block=None, yaw=None, target=None) -> None:
        """Put env i's pusher (and its set-point), block or target at given positions, at rest."""
        if pusher is not None:
            self.qpos[i, 0:2] = pusher
            self.setpoint[i] = pusher
            self.qvel[i, 0:2] = 0.0
        if block is not None:
            self.qpos[i, 2:5] = (block[0], block[1], _REST_Z)
            self.qvel[i, 2:6] = 0.0
        if yaw is not None:
            self.qpos[i, 5] = yaw
        if target is not None:
            self.target[i] = target

    def observe(self) -> torch.Tensor:
        return self._tensor(self._obs())
