"""Batched MuJoCo simulation of N humanoids: one call steps all N with a (N, 28) control array.

Stepping goes through `mujoco.rollout` (default, `backend="rollout"`: C++ threads over per-env
states and controls, no per-env Python loop) or a thread pool over MjData (`backend="threads"`:
each worker loads an env's state into its MjData, runs mj_step, which releases the GIL, and stores
the state back). Both keep the per-env physics state in one (N, nstate) array and agree to ~1e-14;
they measured within noise of each other here (benchmarks/humanoid_sim_throughput.py). The
world-frame body kinematics that observations and rewards need come from a batched numpy
forward-kinematics pass over (qpos, qvel) (`Kinematics`, exact to float rounding against
mj_kinematics / mj_objectVelocity), so reading them costs no per-env MuJoCo call and is never
stale. All arrays are numpy float64; quaternions are (w, x, y, z).

Why FK and not MjData.xpos: after mj_step, xpos is from *before* the last integration (mj_step =
forward, then integrate), and rollout returns states only; FK from the stored qpos gives the
current values for all N envs at once.
"""
from __future__ import annotations

import os

import mujoco
import numpy as np
from mujoco import rollout

from imitate.utils import rotations as rot
from imitate.data.motion import humanoid_model as hm


class Kinematics:
    """Batched forward kinematics of the humanoid tree, read from a compiled MjModel.

    Supports what our model uses: one free joint on the root, hinges anchored at body origins.
    """

    def __init__(self, model: mujoco.MjModel):
        self.nbody = model.nbody - 1  # world excluded; index b here = MuJoCo body b + 1
        self.parent = model.body_parentid[1:] - 1  # (B,), -1 = world
        self.body_pos = model.body_pos[1:].copy()  # (B, 3) in parent frame
        self.body_quat = model.body_quat[1:].copy()  # (B, 4)
        self.hinges: list[list[tuple[int, np.ndarray, int]]] = [[] for _ in range(self.nbody)]
        for j in range(model.njnt):
            b = model.jnt_bodyid[j] - 1
            if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
                if b != 0:
                    raise ValueError("Kinematics expects the free joint on the first body")
                continue
            if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE or np.any(model.jnt_pos[j] != 0):
                raise ValueError("Kinematics supports hinges anchored at the body origin only")
            self.hinges[b].append((model.jnt_qposadr[j], model.jnt_axis[j].copy(), model.jnt_dofadr[j]))
        # geoms for ground-distance queries
        self.geom_body = model.geom_bodyid - 1
        keep = self.geom_body >= 0
        self.geoms = np.nonzero(keep)[0]
        self.geom_type = model.geom_type[self.geoms]
        self.geom_size = model.geom_size[self.geoms]
        self.geom_pos = model.geom_pos[self.geoms]
        self.geom_quat = model.geom_quat[self.geoms]
        self.geom_of_body = self.geom_body[self.geoms]

    def forward(self, qpos: np.ndarray, qvel: np.ndarray | None = None):
        """qpos (N, nq), qvel (N, nv) -> body pos (N,B,3), quat (N,B,4) and, with qvel,
        linear velocity of each body origin (N,B,3) and angular velocity (N,B,3), world frame."""
        n = qpos.shape[0]
        pos = np.empty((n, self.nbody, 3))
        quat = np.empty((n, self.nbody, 4))
        lin = np.empty((n, self.nbody, 3)) if qvel is not None else None
        ang = np.empty((n, self.nbody, 3)) if qvel is not None else None
        for b in range(self.nbody):  # fixed loop over 15 bodies, each op batched over N
            p = self.parent[b]
            if p < 0:
                pos[:, b] = qpos[:, 0:3]
                q = rot.quat_normalize(qpos[:, 3:7])
                if qvel is not None:
                    lin[:, b] = qvel[:, 0:3]
                    ang[:, b] = rot.quat_rotate(q, qvel[:, 3:6])
            else:
                pos[:, b] = pos[:, p] + rot.quat_rotate(quat[:, p], np.broadcast_to(self.body_pos[b], (n, 3)))
                q = rot.quat_mul(quat[:, p], np.broadcast_to(self.body_quat[b], (n, 4)))
                if qvel is not None:
                    lin[:, b] = lin[:, p] + np.cross(ang[:, p], pos[:, b] - pos[:, p])
                    w = ang[:, p].copy()
            for adr, axis, dof in self.hinges[b]:
                if qvel is not None:
                    w += rot.quat_rotate(q, np.broadcast_to(axis, (n, 3))) * qvel[:, dof:dof + 1]
                q = rot.quat_mul(q, rot.quat_from_axis_angle(axis, qpos[:, adr]))
            if qvel is not None and p >= 0:
                ang[:, b] = w
            quat[:, b] = q
        return pos, quat, lin, ang

    def lowest_points(self, body_pos: np.ndarray, body_quat: np.ndarray) -> np.ndarray:
        """(N, B) height of the lowest point of each body's collision geoms (inf if none)."""
        b = self.geom_of_body
        gq = rot.quat_mul(body_quat[:, b], np.broadcast_to(self.geom_quat, body_quat[:, b].shape))
        gz = body_pos[:, b, 2] + rot.quat_rotate(body_quat[:, b], np.broadcast_to(self.geom_pos, gq.shape[:-1] + (3,)))[..., 2]
        r = rot.quat_to_matrix(gq)[..., 2, :]  # (N, G, 3): world-z row of the geom frame
        size = self.geom_size
        sphere = size[:, 0]
        capsule = np.abs(r[..., 2]) * size[:, 1] + size[:, 0]
        box = np.sum(np.abs(r) * size, axis=-1)
        t = self.geom_type
        extent = np.where(t == mujoco.mjtGeom.mjGEOM_SPHERE, sphere,
                          np.where(t == mujoco.mjtGeom.mjGEOM_CAPSULE, capsule, box))
        low = gz - extent  # (N, G)
        out = np.full(body_pos.shape[:2], np.inf)
        for g in range(len(b)):  # 15 geoms
            out[:, b[g]] = np.minimum(out[:, b[g]], low[:, g])
        return out


class HumanoidSim:
    """N humanoids in one batch. Control: PD targets (N, 28) rad, held for `substeps` physics
    steps per `step` (30 Hz control, 120 Hz physics by default).

    The per-env physics state lives in `self.state` (N, nstate) (mjSTATE_FULLPHYSICS layout);
    qpos / qvel views are read with `get_state`, written with `set_state`."""

    BACKENDS = ("threads", "rollout")

    def __init__(self, num_envs: int, nthread: int | None = None, self_collision: bool = True,
                 substeps: int = hm.SUBSTEPS, model: mujoco.MjModel | None = None,
                 backend: str = "rollout"):
        if backend not in self.BACKENDS:
            raise ValueError(f"backend must be one of {self.BACKENDS}, got {backend!r}")
        self.backend = backend
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.model = model if model is not None else hm.load_model(self_collision=self_collision)
        self.num_envs = num_envs
        self.substeps = substeps
        self.dt_s = self.model.opt.timestep * substeps  # control period
        self.nq, self.nv, self.nu = self.model.nq, self.model.nv, self.model.nu
        self.kin = Kinematics(self.model)
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        self._spec = spec
        self.nstate = mujoco.mj_stateSize(self.model, spec)
        size = lambda s: mujoco.mj_stateSize(self.model, s)  # noqa: E731
        t0 = size(mujoco.mjtState.mjSTATE_TIME)
        self._qpos = slice(t0, t0 + self.nq)
        self._qvel = slice(t0 + self.nq, t0 + self.nq + self.nv)
        nthread = min(2, os.cpu_count() or 1) if nthread is None else nthread
        self.nthread = nthread if num_envs >= 32 else 0  # threads do not pay off for few envs
        self._rollout = rollout.Rollout(nthread=self.nthread) if backend == "rollout" else None
        self._pool = None
        if backend == "threads" and self.nthread > 0:
            from concurrent.futures import ThreadPoolExecutor
            self._pool = ThreadPoolExecutor(self.nthread, thread_name_prefix="humanoid-sim")
        nworkers = max(self.nthread, 1)
        self._chunks = [slice(i * num_envs // nworkers, (i + 1) * num_envs // nworkers) for i in range(nworkers)]
        self._datas = [mujoco.MjData(self.model) for _ in range(nworkers)]
        self._models = [self.model] * num_envs
        data = self._datas[0]
        mujoco.mj_resetData(self.model, data)
        mujoco.mj_forward(self.model, data)
        s0 = np.empty(self.nstate)
        mujoco.mj_getState(self.model, data, s0, spec)
        self.state = np.tile(s0, (num_envs, 1))  # (N, nstate)
        self.unstable = np.zeros(num_envs, dtype=bool)  # set by step() when MuJoCo reset an env
        self._cache: tuple | None = None

    def close(self) -> None:
        if self._rollout is not None:
            self._rollout.close()
        if self._pool is not None:
            self._pool.shutdown()

    # -- state --------------------------------------------------------------------------
    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of qpos (N, 35) and qvel (N, 34)."""
        return self.state[:, self._qpos].copy(), self.state[:, self._qvel].copy()

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray, env_ids: np.ndarray | None = None) -> None:
        """Write qpos (M, 35) and qvel (M, 34) into envs `env_ids` (M,) (all envs if None);
        time restarts at 0. A root quaternion off unit norm is normalised (unit ones are kept bit-exact)."""
        idx = np.arange(self.num_envs) if env_ids is None else np.asarray(env_ids)
        qpos = np.asarray(qpos, dtype=np.float64).reshape(len(idx), self.nq).copy()
        qvel = np.asarray(qvel, dtype=np.float64).reshape(len(idx), self.nv)
        norm = np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
        qpos[:, 3:7] = np.where(np.abs(norm - 1.0) > 1e-9, qpos[:, 3:7] / norm, qpos[:, 3:7])
        self.state[idx] = 0.0
        self.state[idx, self._qpos] = qpos
        self.state[idx, self._qvel] = qvel
        self.unstable[idx] = False
        self._cache = None

    def get_physics_state(self) -> dict[str, np.ndarray]:
        """The full MuJoCo physics state (N, nstate) and the unstable flags, for exact restore."""
        return {"state": self.state.copy(), "unstable": self.unstable.copy()}

    def set_physics_state(self, saved: dict[str, np.ndarray]) -> None:
        if np.shape(saved["state"]) != self.state.shape:
            raise ValueError(f"simulator state is {np.shape(saved['state'])}, this simulator has {self.state.shape}")
        self.state = np.array(saved["state"], dtype=np.float64, copy=True)
        self.unstable = np.array(saved["unstable"], dtype=bool, copy=True)
        self._cache = None

    # -- stepping -----------------------------------------------------------------------
    def step(self, ctrl: np.ndarray, substeps: int | None = None) -> np.ndarray:
        """Hold PD targets ctrl (N, 28) rad for `substeps` physics steps in every env.
        Returns (N,) bool: envs that MuJoCo had to reset because the physics diverged (also in
        `self.unstable`); callers should terminate those."""
        nstep = self.substeps if substeps is None else substeps
        ctrl = np.ascontiguousarray(np.broadcast_to(ctrl, (self.num_envs, self.nu)), dtype=np.float64)
        t_expected = self.state[:, 0] + nstep * self.model.opt.timestep
        if self.backend == "rollout":
            control = np.ascontiguousarray(np.repeat(ctrl[:, None, :], nstep, axis=1))  # (N, nstep, nu)
            out = np.empty((self.num_envs, nstep, self.nstate))
            sensors = np.empty((self.num_envs, nstep, self.model.nsensordata))
            self._rollout.rollout(self._models, self._datas, np.ascontiguousarray(self.state), control,
                                  nstep=nstep, skip_checks=True, state=out, sensordata=sensors)
            self.state = np.ascontiguousarray(out[:, -1])
        else:
            jobs = [(self._datas[w], self._chunks[w], ctrl, nstep) for w in range(len(self._chunks))]
            if self._pool is None:
                for job in jobs:
                    self._step_chunk(*job)
            else:
                list(self._pool.map(lambda job: self._step_chunk(*job), jobs))
        bad = ~np.isclose(self.state[:, 0], t_expected) | ~np.isfinite(self.state).all(axis=1)
        self.unstable |= bad
        self._cache = None
        return bad

    def _step_chunk(self, data: mujoco.MjData, chunk: slice, ctrl: np.ndarray, nstep: int) -> None:
        """One worker: load each env's state into this worker's MjData, step, store it back.
        mj_step releases the GIL, so the workers' physics runs in parallel."""
        m, spec, state = self.model, self._spec, self.state
        for i in range(chunk.start, chunk.stop):
            mujoco.mj_setState(m, data, state[i], spec)
            data.qacc_warmstart[:] = 0.0  # no carry-over from the previous env in this MjData
            data.ctrl[:] = ctrl[i]
            for _ in range(nstep):
                mujoco.mj_step(m, data)
            mujoco.mj_getState(m, data, state[i], spec)

    # -- kinematics ---------------------------------------------------------------------
    def _kinematics(self):
        if self._cache is None:
            qpos, qvel = self.state[:, self._qpos], self.state[:, self._qvel]
            self._cache = self.kin.forward(qpos, qvel)
        return self._cache

    def body_pos(self) -> np.ndarray:
        """(N, 15, 3) world position of each body origin, `model.BODY_NAMES` order."""
        return self._kinematics()[0]

    def body_quat(self) -> np.ndarray:
        """(N, 15, 4) world orientation (w,x,y,z) of each body."""
        return self._kinematics()[1]

    def body_lin_vel(self) -> np.ndarray:
        """(N, 15, 3) world linear velocity of each body origin."""
        return self._kinematics()[2]

    def body_ang_vel(self) -> np.ndarray:
        """(N, 15, 3) world angular velocity of each body."""
        return self._kinematics()[3]

    def lowest_points(self) -> np.ndarray:
        """(N, 15) height of each body's lowest collision point above the floor (m)."""
        pos, quat = self._kinematics()[:2]
        return self.kin.lowest_points(pos, quat)

    def ground_contact(self, exclude: tuple[str, ...] = hm.FEET, tol_m: float = 0.01) -> np.ndarray:
        """(N,) bool: a body not in `exclude` (default: the feet) is within tol_m of the floor,
        i.e. touches the ground. Geometric, exact for the current state (no one-step lag)."""
        keep = np.array([n not in exclude for n in hm.BODY_NAMES])
        return (self.lowest_points()[:, keep] <= tol_m).any(axis=1)
