"""MuJoCo Warp, batched: the same N copies as ``MujocoSim``, stepped by MuJoCo Warp's kernels
(``engine=warp`` of the humanoid tasks; the ``warp`` extra, docs/humanoid.md#engines).

It is ``MujocoSim`` with another ``step``: the state stays the host's (N, nstate) float64 rows in
mjSTATE_FULLPHYSICS layout, so everything a task reads (forward kinematics, contacts, the saved
state of a checkpoint) is shared with the C engine, and a run may resume on either engine. Each
call loads time, qpos and qvel into one Warp ``Data`` of N worlds, holds the controls for the
substeps and reads the state back; the round trip is 70 numbers per env on the humanoid, against
the physics steps run on the device. As in the C engine's default, the solver's warm start is
carried between the substeps of a call and dropped between calls, so a state's next state depends
only on (state, control).

MuJoCo Warp computes in float32 (the C engine in float64), so the two agree to within float32
rounding grown by the dynamics over a step, not bit for bit (tests/sim/test_mujoco_warp.py states
the tolerances). A diverged world (non-finite state) is put back to the model's rest state and
flagged in ``unstable``, as MuJoCo's C engine resets diverged data. Where the run's device is CUDA
the worlds run on that GPU; elsewhere on Warp's CPU mode, which is correct but slow (its first
step compiles the kernels, tens of seconds on the humanoid, cached afterwards in Warp's kernel cache).
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from imitate.sim.kinematics import TreeKinematics
from imitate.sim.mujoco_c import MujocoSim


def warp_device(device: Any) -> str:
    """The Warp device of a run's torch device: ``cuda:K`` for CUDA, else ``cpu``."""
    text = str(device)
    if text.startswith("cuda"):
        return text if ":" in text else "cuda:0"
    return "cpu"


def import_warp() -> tuple[Any, Any]:
    """(warp, mujoco_warp), imported quietly (the tasks' ``engine=warp`` check has already named
    the install line where they are missing)."""
    import warp as wp

    wp.config.log_level = wp.LOG_WARNING  # no banner or module loads on stdout, where the CLI prints JSON
    import mujoco_warp as mjw

    return wp, mjw


class WarpSim(MujocoSim):
    """``num_envs`` copies of ``model`` on MuJoCo Warp; see the module docstring. Sensors after
    each substep (``sense_final``), ``substep_states``, ``advance`` (dm_control's settling) and a
    warm start kept across calls are the C engine's only."""

    def __init__(
        self,
        model: mujoco.MjModel,
        num_envs: int,
        substeps: int,
        device: Any = "cpu",
        kinematics: TreeKinematics | None = None,
    ):
        # the C engine's bookkeeping without its workers: one MjData, no thread pool, no rollout
        super().__init__(model, num_envs, substeps, nthread=0, backend="threads", kinematics=kinematics)
        if self.nstate != 1 + model.nq + model.nv + model.na:
            raise ValueError("engine=warp needs a model whose full physics state is time, qpos, qvel and act")
        wp, mjw = import_warp()
        self._wp, self._mjw = wp, mjw
        self.device = warp_device(device)
        self._act = slice(1 + model.nq + model.nv, self.nstate)
        with wp.ScopedDevice(self.device):
            self._m = mjw.put_model(model)
            self._d = mjw.make_data(model, nworld=num_envs)

    def _load(self, ctrl: np.ndarray) -> None:
        """The host rows and controls into the device worlds; the warm start starts cold."""
        d, state = self._d, self.state
        d.time.assign(state[:, 0].astype(np.float32))
        d.qpos.assign(state[:, self._qpos].astype(np.float32))
        d.qvel.assign(state[:, self._qvel].astype(np.float32))
        if self.model.na:
            d.act.assign(state[:, self._act].astype(np.float32))
        d.qacc_warmstart.zero_()
        d.ctrl.assign(ctrl.astype(np.float32))

    def _store(self) -> None:
        """The device worlds back into the host rows."""
        d = self._d
        self.state[:, 0] = d.time.numpy()
        self.state[:, self._qpos] = d.qpos.numpy()
        self.state[:, self._qvel] = d.qvel.numpy()
        if self.model.na:
            self.state[:, self._act] = d.act.numpy()

    def _run(self, ctrl: np.ndarray, nstep: int) -> None:
        with self._wp.ScopedDevice(self.device):
            self._load(ctrl)
            for _ in range(nstep):
                self._mjw.step(self._m, self._d)
            self._store()

    def step(self, ctrl: np.ndarray, substeps: int | None = None) -> np.ndarray:
        """Hold controls ``ctrl`` (N, nu) for ``substeps`` physics steps in every env. Returns (N,)
        bool: the envs whose physics diverged (reset to the rest state; also in ``self.unstable``)."""
        nstep = self.substeps if substeps is None else substeps
        ctrl = np.ascontiguousarray(np.broadcast_to(ctrl, (self.num_envs, self.nu)), dtype=np.float64)
        self._run(ctrl, nstep)
        bad = ~np.isfinite(self.state).all(axis=1)
        self.state[bad] = self.initial_row
        self.unstable |= bad
        self._trajectory = self._sensed = None
        self._cache = {}
        return bad
