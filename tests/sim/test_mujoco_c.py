"""MujocoSim: the solver warm start carried across control steps, and the reused rollout buffers."""

import numpy as np
import pytest

from imitate.data.motion import MotionLibrary, load_clip
from imitate.data.motion import humanoid_model as hm
from imitate.sim.mujoco_c import MujocoSim


def _walk_sims(n: int, **kwargs) -> tuple[MotionLibrary, np.ndarray, list[MujocoSim]]:
    """Sims put in n walk frames (feet on the ground: contacts for the solver)."""
    lib = MotionLibrary([load_clip("humanoid3d_walk")])
    times = np.linspace(0.0, 1.0, n)
    ms = lib.state(np.zeros(n, dtype=int), times, with_bodies=False)
    sims = [MujocoSim(hm.load_model(), n, substeps=hm.SUBSTEPS, **kw) for kw in kwargs.values()]
    for sim in sims:
        sim.set_joints(ms.qpos(), ms.qvel(), normalise_root=True)
    return lib, times, sims


def test_warm_start_on_vs_off_gives_the_same_trajectories_within_solver_tolerance():
    n = 8
    lib, times, (cold, warm) = _walk_sims(
        n, cold={"backend": "threads"}, warm={"backend": "threads", "warmstart": True}
    )
    fell = False
    for t in range(60):  # 2 s of PD tracking of the clip, open loop: the humanoids fall (contact-rich)
        target = lib.state(np.zeros(n, dtype=int), times + (t + 1) * cold.dt_s, with_bodies=False).joint_pos
        cold.step(target)
        warm.step(target)
        fell |= bool((cold.qpos[:, 2] < 0.3).any())
        # Newton's tolerance is 1e-8: the two solves agree far below it (measured: ≤ 5e-12 over these steps)
        np.testing.assert_allclose(warm.state, cold.state, rtol=0, atol=1e-8)
    assert fell
    assert np.abs(warm.warmstart).max() > 1.0  # each env's own warm start was carried
    assert not np.array_equal(warm.state, cold.state)  # ... and used: not the cold start's numbers


def test_warm_start_is_part_of_the_saved_state():
    n = 4
    lib, times, (sim,) = _walk_sims(n, warm={"backend": "threads", "warmstart": True})
    target = lib.state(np.zeros(n, dtype=int), times, with_bodies=False).joint_pos
    sim.step(target)
    saved = sim.get_state()
    assert "warmstart" in saved and np.abs(saved["warmstart"]).max() > 0
    sim.step(target)
    after = sim.state.copy()
    sim.set_state(saved)
    sim.step(target)
    np.testing.assert_array_equal(sim.state, after)  # exact: the warm start came back with the state
    sim.set_joints(sim.qpos[:1], sim.qvel[:1], env_ids=np.array([2]))
    assert not sim.warmstart[2].any() and sim.warmstart[1].any()  # a reset env starts cold


def test_warm_start_needs_the_threads_backend():
    with pytest.raises(ValueError, match="threads"):
        MujocoSim(hm.load_model(), 2, substeps=hm.SUBSTEPS, warmstart=True)


def test_rollout_buffers_are_reused_and_a_substep_override_still_works():
    n = 3
    lib, times, (sim, other) = _walk_sims(n, a={}, b={})
    out, control = sim._out, sim._control
    target = lib.state(np.zeros(n, dtype=int), times, with_bodies=False).joint_pos
    sim.step(target)
    sim.step(target)
    assert sim._out is out and sim._control is control  # no new arrays per call
    other.step(target, substeps=2 * hm.SUBSTEPS)  # another substep count: its own buffers
    np.testing.assert_allclose(other.state, sim.state, atol=1e-9)
