"""dm_control suite physics, batched: N copies of one suite domain on MuJoCo's C engine (docs/dmc.md).

dm_control's ``Environment`` steps one copy: a ``Physics`` (one MjModel, one MjData) and a Python
task. Here the domain's MJCF, as shipped in the installed dm_control, is compiled by MuJoCo into the
same MjModel that dm_control's ``Physics`` compiles, and ``MujocoSim`` steps the (N, nstate) state
of all copies through ``mujoco.rollout``: one C call per control step, no per-copy Python.

- ``DmcSim.step`` holds a control for ``action_repeat`` dm_control control steps of
  ``CONTROL_SUBSTEPS[domain]`` physics steps each; ``boundary_states`` and ``boundary_sensor`` give
  the state and MuJoCo's sensors after each of those control steps, for rewards that AIME sums
  over the repeat. (The sensors of the last state cost one more physics step, discarded:
  ``MujocoSim(sense_final=True)``.)
- ``DmcSim.settle`` reproduces dm_control's ``physics.step(nstep)`` right after a reset (the
  cheetah's 200 settling steps): dm_control's split ("legacy") step runs MuJoCo's ``mj_step2`` first,
  on forces computed at the model's reference pose by the reset's ``mj_forward``, not at the new
  joint angles. That first step is the same for every copy (velocity ``first_qvel``, warm start
  ``first_warmstart``), so it is applied in numpy; the other ``nstep - 1`` steps run batched.

One difference from dm_control: its MjData carries the constraint solver's warm start from one
step to the next, ours restarts it at every control step (the next state is then a pure function of
the state row and the action, so get/set state stays exact). With contacts the two agree to about
1e-10 for the first hundred control steps and then drift apart, as any two runs whose solver
starts differ do on a chaotic contact system (measured in docs/dmc.md).
"""

from __future__ import annotations

import functools
from importlib import resources

import mujoco
import numpy as np

from imitate.config import ConfigError
from imitate.sim.mujoco_c import MujocoSim

DOMAINS = ("walker", "cheetah")
# physics steps per dm_control control step: walker 0.025 s / 0.0025 s; cheetah controls every 0.01 s step
CONTROL_SUBSTEPS = {"walker": 10, "cheetah": 1}
DM_CONTROL_MISSING = "the dm_control tasks need dm-control: pip install 'imitate[dmc]'"
# MuJoCo warns that the cheetah's `settotalmass` is deprecated each time it compiles; dm_control's
# own Physics compiles the same attribute, so the warning says nothing about our model
_KNOWN_WARNINGS = ("compiler attribute 'settotalmass' is deprecated",)


def suite_xml_path(domain: str) -> str:
    """The path of ``domain``'s MJCF in the installed dm_control (its includes resolve beside it)."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    try:
        root = resources.files("dm_control")
    except ModuleNotFoundError:
        raise ConfigError(DM_CONTROL_MISSING) from None
    return str(root / "suite" / f"{domain}.xml")


@functools.cache
def suite_model(domain: str) -> mujoco.MjModel:
    """``domain``'s MjModel, compiled once per process (shared by every sim; never modified)."""
    path = suite_xml_path(domain)
    other: list[str] = []
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(lambda msg: None if msg.startswith(_KNOWN_WARNINGS) else other.append(msg))
    try:
        model = mujoco.MjModel.from_xml_path(path)
    finally:
        mujoco.set_mju_user_warning(previous)
    if other:
        import warnings

        for msg in other:
            warnings.warn(f"MuJoCo, compiling {domain}: {msg}", stacklevel=2)
    return model


class DmcSim(MujocoSim):
    """``num_envs`` copies of a suite domain; one ``step`` = ``action_repeat`` dm_control steps."""

    def __init__(self, domain: str, num_envs: int, action_repeat: int, nthread: int | None = None):
        if action_repeat < 1:
            raise ValueError(f"action_repeat must be at least 1, got {action_repeat}")
        model = suite_model(domain)
        self.domain, self.action_repeat = domain, action_repeat
        self.control_substeps = CONTROL_SUBSTEPS[domain]
        super().__init__(
            model, num_envs, self.control_substeps * action_repeat, nthread=nthread, backend="rollout", sense_final=True
        )
        self.first_qvel, self.first_warmstart = _legacy_first_step(model)

    def boundary_states(self) -> np.ndarray:
        """(N, action_repeat, nstate): the state after each dm_control control step of the last step
        (the last one is ``state``)."""
        k = self.control_substeps
        return self.substep_states()[:, k - 1 :: k]

    def boundary_sensor(self, name: str) -> np.ndarray:
        """(N, action_repeat, dim): the model's sensor ``name`` after each dm_control control step of
        the last step, as MuJoCo computes it (what dm_control's ``physics.named.data.sensordata``
        reads after its step)."""
        sensor = self.model.sensor(name)
        k, adr = self.control_substeps, sensor.adr[0]
        return self.substep_sensors()[:, k - 1 :: k, adr : adr + sensor.dim[0]]

    def split(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(qpos, qvel) views of states (..., nstate)."""
        return states[..., self._qpos], states[..., self._qvel]

    def settle(self, env_ids: np.ndarray, nstep: int) -> None:
        """dm_control's ``physics.step(nstep)`` with zero controls right after a reset of envs
        ``env_ids`` to their current joint positions (module docstring); their clock restarts at 0,
        as the cheetah's reset sets it."""
        idx = np.asarray(env_ids)
        dt = self.model.opt.timestep
        rows = self.state[idx]
        rows[:, self._qvel] = self.first_qvel
        rows[:, self._qpos] += self.first_qvel * dt  # MuJoCo's position update of hinges and slides
        self.state[idx] = rows
        if nstep > 1:
            self.advance(idx, nstep - 1, warmstart=self.first_warmstart)
        self.state[idx, 0] = 0.0
        self._cache = {}


def _legacy_first_step(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """The velocity and warm start after dm_control's first split step from a reset: ``mj_forward``
    at the reference pose (its reset; it disables actuation there, which with the reset's zero
    controls changes nothing), then ``mj_step2`` (its step), whose Euler update of the velocity uses
    only what that forward computed."""
    if model.opt.integrator != mujoco.mjtIntegrator.mjINT_EULER:
        raise ValueError("the legacy first step is reproduced for the Euler integrator only")
    data = mujoco.MjData(model)
    mujoco.mj_resetData(model, data)
    mujoco.mj_forward(model, data)
    mujoco.mj_step2(model, data)
    return data.qvel.copy(), data.qacc_warmstart.copy()
