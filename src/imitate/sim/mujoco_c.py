"""MuJoCo's C engine, batched: N copies of one MjModel stepped in one call.

The per-env physics state is one row of an (N, nstate) float64 array in MuJoCo's
mjSTATE_FULLPHYSICS layout ([time, qpos, qvel, act, ...]); there are no per-env MjData objects
to keep in sync. A step holds a control row for ``substeps`` physics steps, either through
``mujoco.rollout`` (``backend="rollout"``, the default: C++ threads over the rows) or through a
thread pool over a few MjData (``backend="threads"``: each worker loads a row, runs mj_step, which
releases the GIL, and stores it back). Within a call the substeps carry MuJoCo's solver warm start
(qacc_warmstart) from one physics step to the next. Between calls it is dropped by default, so
the next state is a pure function of (row, control): ``get_state``/``set_state`` are exact and both
backends agree (to ~1e-14; bit for bit on the contact-free tasks). ``warmstart=True`` (threads
backend only: ``mujoco.rollout`` takes a warm start in but does not hand the final one back)
keeps each env's warm start across calls too, in the saved state; it changes trajectories only
within the constraint solver's tolerance (tests/sim/test_mujoco_c.py), and on the humanoid it
saves about 0.1 of the 1.2-1.6 Newton iterations of the first substep (docs/humanoid.md).

The rollout backend also keeps the state after every physics step of the last step
(``substep_states``) and, with ``sense_final``, the model's sensors at each of them
(``substep_sensors``; rollout records a step's sensors before it integrates, so one more physics
step, discarded, supplies the last state's); ``advance`` steps only some rows (settling resets).

Body positions come from batched numpy forward kinematics (``TreeKinematics``) where the model's
joints allow it (a free root and hinges); other models read their joint coordinates directly. A
scene of a character and free props (a strike box) passes the character's own ``kinematics``:
body positions and ground contacts are then the character's, and the props are read from qpos.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mujoco
import numpy as np
from mujoco import rollout

from imitate.sim.kinematics import TreeKinematics

BACKENDS = ("rollout", "threads")
MIN_ENVS_FOR_THREADS = 32  # below this, threads cost more than they save


class MujocoSim:
    """``num_envs`` copies of ``model``; see the module docstring."""

    def __init__(
        self,
        model: mujoco.MjModel,
        num_envs: int,
        substeps: int,
        nthread: int | None = None,
        backend: str = "rollout",
        sense_final: bool = False,
        kinematics: TreeKinematics | None = None,
        warmstart: bool = False,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if sense_final and backend != "rollout":
            raise ValueError("sense_final needs the rollout backend")
        if warmstart and backend != "threads":
            raise ValueError("warmstart=True needs backend='threads' (mujoco.rollout does not return the warm start)")
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.model, self.num_envs, self.substeps, self.backend = model, num_envs, substeps, backend
        # rollout records the sensors of the state *before* each physics step: one more step, whose
        # state is discarded, gives the sensors of the last state too
        self.sense_final = sense_final
        self.dt_s = model.opt.timestep * substeps  # control period
        self.nq, self.nv, self.nu = model.nq, model.nv, model.nu
        self._spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self.nstate = mujoco.mj_stateSize(model, self._spec)
        t0 = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_TIME)
        self._qpos = slice(t0, t0 + self.nq)
        self._qvel = slice(t0 + self.nq, t0 + self.nq + self.nv)
        nthread = min(2, os.cpu_count() or 1) if nthread is None else nthread
        self.nthread = nthread if num_envs >= MIN_ENVS_FOR_THREADS else 0
        self._rollout = rollout.Rollout(nthread=self.nthread) if backend == "rollout" else None
        self._pool = (
            ThreadPoolExecutor(self.nthread, thread_name_prefix="mujoco-sim")
            if backend == "threads" and self.nthread > 0
            else None
        )
        nworkers = max(self.nthread, 1)
        self._chunks = [slice(i * num_envs // nworkers, (i + 1) * num_envs // nworkers) for i in range(nworkers)]
        self._datas = [mujoco.MjData(model) for _ in range(nworkers)]
        self._models = [model] * num_envs
        data = self._datas[0]
        mujoco.mj_resetData(model, data)
        mujoco.mj_forward(model, data)
        row = np.empty(self.nstate)
        mujoco.mj_getState(model, data, row, self._spec)
        self.initial_row = row  # the model's rest state (time 0, qpos0, zero velocity)
        self.state = np.tile(row, (num_envs, 1))  # (N, nstate)
        self.unstable = np.zeros(num_envs, dtype=bool)  # rows MuJoCo reset because physics diverged
        # each env's solver warm start (qacc_warmstart) carried across calls; None: dropped
        self.warmstart = np.zeros((num_envs, self.nv)) if warmstart else None
        # rollout's buffers, reused by every call: it writes the state after every substep and
        # reads a control row per substep, however few of them we need (one more with sense_final)
        extra = int(sense_final)
        self._out = np.empty((num_envs, substeps + extra, self.nstate))
        self._sensors = np.empty((num_envs, substeps + extra, model.nsensordata))
        self._control = np.empty((num_envs, substeps + extra, self.nu))
        self._trajectory: np.ndarray | None = None  # the last step's states after each physics step
        self._sensed: np.ndarray | None = None  # ... and the sensors at each of them (sense_final)
        # FK of the model's own tree, or of the character alone (``kinematics``: a scene whose props
        # are free bodies, which TreeKinematics does not place; it reads qpos/qvel by address)
        self._kin: TreeKinematics | None = kinematics
        self._cache: dict[str, Any] = {}  # "pose": FK of qpos, "full": with velocities, "com"; per state

    def close(self) -> None:
        if self._rollout is not None:
            self._rollout.close()
        if self._pool is not None:
            self._pool.shutdown()

    # -- state ---------------------------------------------------------------------------------
    @property
    def qpos(self) -> np.ndarray:
        """(N, nq) view of the joint positions."""
        return self.state[:, self._qpos]

    @property
    def qvel(self) -> np.ndarray:
        """(N, nv) view of the joint velocities."""
        return self.state[:, self._qvel]

    def set_joints(
        self,
        qpos: np.ndarray,
        qvel: np.ndarray | None = None,
        env_ids: np.ndarray | None = None,
        normalise_root: bool = False,
    ) -> None:
        """Write qpos (M, nq) and qvel (M, nv; zero if None) into envs ``env_ids`` (all if None);
        their time, actuator and warm-start state restart at 0. ``normalise_root`` rescales a free
        root quaternion that is off unit norm (unit ones stay bit-exact)."""
        idx = np.arange(self.num_envs) if env_ids is None else np.asarray(env_ids)
        qpos = np.asarray(qpos, dtype=np.float64).reshape(len(idx), self.nq)
        if normalise_root:
            qpos = qpos.copy()
            norm = np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
            qpos[:, 3:7] = np.where(np.abs(norm - 1.0) > 1e-9, qpos[:, 3:7] / norm, qpos[:, 3:7])
        self.state[idx] = 0.0
        self.state[idx, self._qpos] = qpos
        if qvel is not None:
            self.state[idx, self._qvel] = np.asarray(qvel, dtype=np.float64).reshape(len(idx), self.nv)
        self.unstable[idx] = False
        if self.warmstart is not None:
            self.warmstart[idx] = 0.0
        self._cache = {}

    def get_state(self) -> dict[str, np.ndarray]:
        saved = {"state": self.state.copy(), "unstable": self.unstable.copy()}
        if self.warmstart is not None:
            saved["warmstart"] = self.warmstart.copy()
        return saved

    def set_state(self, saved: dict[str, np.ndarray]) -> None:
        if np.shape(saved["state"]) != self.state.shape:
            raise ValueError(f"simulator state is {np.shape(saved['state'])}, this simulator has {self.state.shape}")
        self.state = np.array(saved["state"], dtype=np.float64, copy=True)
        unstable = saved.get("unstable")
        self.unstable = np.zeros(self.num_envs, bool) if unstable is None else np.array(unstable, bool, copy=True)
        if self.warmstart is not None:  # a state saved without one starts its next step cold
            warm = saved.get("warmstart")
            self.warmstart = np.zeros_like(self.warmstart) if warm is None else np.array(warm, np.float64, copy=True)
        self._cache = {}

    # -- stepping ------------------------------------------------------------------------------
    def step(self, ctrl: np.ndarray, substeps: int | None = None) -> np.ndarray:
        """Hold controls ``ctrl`` (N, nu) for ``substeps`` physics steps in every env. Returns (N,)
        bool: the envs whose physics diverged (MuJoCo reset them; also in ``self.unstable``)."""
        nstep = self.substeps if substeps is None else substeps
        ctrl = np.ascontiguousarray(np.broadcast_to(ctrl, (self.num_envs, self.nu)), dtype=np.float64)
        t_expected = self.state[:, 0] + nstep * self.model.opt.timestep
        if self._rollout is not None:
            nrun = nstep + int(self.sense_final)
            same = nstep == self.substeps
            out = self._out if same else np.empty((self.num_envs, nrun, self.nstate))
            sensors = self._sensors if same else np.empty((self.num_envs, nrun, self.model.nsensordata))
            control = self._control if same else np.empty((self.num_envs, nrun, self.nu))
            control[:] = ctrl[:, None, :]  # the control held for every substep
            self._rollout.rollout(
                self._models,
                self._datas,
                np.ascontiguousarray(self.state),
                control,
                nstep=nrun,
                skip_checks=True,
                state=out,
                sensordata=sensors,
            )
            self.state = np.ascontiguousarray(out[:, nstep - 1])
            self._trajectory = out[:, :nstep]
            self._sensed = sensors[:, 1:] if self.sense_final else None
        else:
            self._trajectory = self._sensed = None
            jobs = [(self._datas[w], self._chunks[w], ctrl, nstep) for w in range(len(self._chunks))]
            if self._pool is None:
                for job in jobs:
                    self._step_chunk(*job)
            else:
                list(self._pool.map(lambda job: self._step_chunk(*job), jobs))
        bad = ~np.isclose(self.state[:, 0], t_expected) | ~np.isfinite(self.state).all(axis=1)
        self.unstable |= bad
        self._cache = {}
        return bad

    def substep_states(self) -> np.ndarray:
        """(N, nstep, nstate): the state after each physics step of the last ``step`` (the
        rollout backend records them; valid until the next step or ``advance``)."""
        if self._trajectory is None:
            raise RuntimeError("substep states are recorded by the rollout backend only, after a step")
        return self._trajectory

    def substep_sensors(self) -> np.ndarray:
        """(N, nstep, nsensordata): the model's sensors at the state after each physics step of the
        last ``step``, as MuJoCo computes them (``sense_final`` sims; valid until the next step)."""
        if self._sensed is None:
            raise RuntimeError("substep sensors are recorded by sense_final sims only, after a step")
        return self._sensed

    def advance(self, env_ids: np.ndarray, nstep: int, warmstart: np.ndarray | None = None) -> None:
        """Step only envs ``env_ids`` ``nstep`` physics steps with zero controls (settling a reset
        pose), the solver warm-started from ``warmstart`` ((M, nv) or (nv,); zero if None) and then
        carried between those steps. Rollout backend only."""
        if self._rollout is None:
            raise RuntimeError("advance needs the rollout backend")
        idx = np.asarray(env_ids)
        out = np.empty((len(idx), nstep, self.nstate))
        self._rollout.rollout(
            [self.model] * len(idx),
            self._datas,
            np.ascontiguousarray(self.state[idx]),
            np.zeros((len(idx), nstep, self.nu)),
            nstep=nstep,
            initial_warmstart=None
            if warmstart is None
            else np.ascontiguousarray(np.broadcast_to(warmstart, (len(idx), self.nv))),
            state=out,
        )
        self.state[idx] = out[:, -1]
        self._trajectory = self._sensed = None
        self._cache = {}

    def _step_chunk(self, data: mujoco.MjData, chunk: slice, ctrl: np.ndarray, nstep: int) -> None:
        m, spec, state, warm = self.model, self._spec, self.state, self.warmstart
        for i in range(chunk.start, chunk.stop):
            mujoco.mj_setState(m, data, state[i], spec)
            # this env's own warm start, or none: never the previous env's left in this MjData
            data.qacc_warmstart[:] = 0.0 if warm is None else warm[i]
            data.ctrl[:] = ctrl[i]
            for _ in range(nstep):
                mujoco.mj_step(m, data)
            mujoco.mj_getState(m, data, state[i], spec)
            if warm is not None:
                warm[i] = data.qacc_warmstart

    # -- kinematics ----------------------------------------------------------------------------
    @property
    def kin(self) -> TreeKinematics:
        if self._kin is None:
            self._kin = TreeKinematics(self.model)  # raises for joints it does not support
        return self._kin

    def _kinematics(self) -> tuple:
        if "full" not in self._cache:
            self._cache["full"] = self.kin.forward(self.qpos, self.qvel)
        return self._cache["full"]

    def _pose(self) -> tuple:
        """Body positions and orientations; velocities are only computed when asked for."""
        if "full" in self._cache:
            return self._cache["full"][:2]
        if "pose" not in self._cache:
            self._cache["pose"] = self.kin.forward(self.qpos)[:2]
        return self._cache["pose"]

    def body_pos(self) -> np.ndarray:
        """(N, B, 3) world position of each body origin (world body excluded)."""
        return self._pose()[0]

    def body_quat(self) -> np.ndarray:
        """(N, B, 4) world orientation (w, x, y, z) of each body."""
        return self._pose()[1]

    def body_lin_vel(self) -> np.ndarray:
        """(N, B, 3) world linear velocity of each body origin."""
        return self._kinematics()[2]

    def body_ang_vel(self) -> np.ndarray:
        """(N, B, 3) world angular velocity of each body."""
        return self._kinematics()[3]

    def center_of_mass(self) -> np.ndarray:
        """(N, 3) world position of the whole-body centre of mass."""
        if "com" not in self._cache:
            self._cache["com"] = self.kin.center_of_mass(*self._pose())[0]
        return self._cache["com"]

    def lowest_points(self) -> np.ndarray:
        """(N, B) height (m) of each body's lowest collision point above the plane z = 0."""
        pos, quat = self._pose()
        return self.kin.lowest_points(pos, quat)

    def contacts(self, tol_m: float = 0.01) -> np.ndarray:
        """(N, B) bool: the bodies within ``tol_m`` of the floor (geometric, exact for the current
        state, no one-step lag)."""
        return self.lowest_points() <= tol_m
