"""The batched dm_control engine: the same model as dm_control's, its reset settling bit for bit,
the states and sensors after each repeated step, and the extra sensing step changing nothing."""

import sys

import mujoco
import numpy as np
import pytest

from imitate.sim.dmc import DmcSim, suite_model
from imitate.sim.mujoco_c import MujocoSim

suite = pytest.importorskip("dm_control.suite")


@pytest.mark.parametrize("domain, task", [("walker", "walk"), ("cheetah", "run")])
def test_the_model_is_dm_controls(domain, task, capfd):
    suite_model.cache_clear()
    ours = suite_model(domain)
    assert "settotalmass" not in capfd.readouterr().out  # MuJoCo's known deprecation note is kept quiet
    theirs = suite.load(domain, task).physics.model.ptr
    for field in ("body_mass", "body_inertia", "body_pos", "jnt_range", "dof_damping", "actuator_gear", "geom_size"):
        np.testing.assert_array_equal(getattr(ours, field), getattr(theirs, field), err_msg=field)
    assert ours.opt.timestep == theirs.opt.timestep and ours.nsensordata == theirs.nsensordata


def test_settle_is_dm_controls_cheetah_reset():
    """Cheetah.initialize_episode: limited joints drawn uniformly, then physics.step(200) whose first
    split step uses the reference pose's forces; same draw, same settled state, bit for bit."""
    sim = DmcSim("cheetah", 3, action_repeat=2)
    model = sim.model
    limited = model.jnt_limited == 1
    low, high = model.jnt_range[limited].T
    for seed in (0, 1):
        env = suite.load("cheetah", "run", task_kwargs={"random": seed})
        env.reset()
        qpos = np.zeros(model.nq)
        qpos[limited] = np.random.RandomState(seed).uniform(low, high)  # the task's first draw
        sim.set_joints(np.tile(qpos, (3, 1)))
        before = sim.state.copy()
        sim.settle(np.array([1]), 200)
        np.testing.assert_array_equal(sim.qpos[1], env.physics.data.qpos)
        np.testing.assert_array_equal(sim.qvel[1], env.physics.data.qvel)
        assert sim.state[1, 0] == 0.0  # the clock restarts
        np.testing.assert_array_equal(sim.state[[0, 2]], before[[0, 2]])  # other envs untouched


def test_boundary_states_and_sensors_after_each_repeated_step():
    sim = DmcSim("walker", 2, action_repeat=3)
    rng = np.random.default_rng(0)
    sim.set_joints(np.tile([0.0, 0.0, 0.4, 0.2, -0.3, 0.1, 0.5, -0.2, 0.0], (2, 1)))
    start = sim.state.copy()
    ctrl = rng.uniform(-1, 1, (2, 6))
    sim.step(ctrl)
    states, speed = sim.boundary_states(), sim.boundary_sensor("torso_subtreelinvel")
    assert states.shape == (2, 3, sim.nstate) and speed.shape == (2, 3, 3)
    np.testing.assert_array_equal(states[:, -1], sim.state)
    model, data = sim.model, mujoco.MjData(sim.model)
    full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    mujoco.mj_setState(model, data, start[0], full)
    for k in range(3):  # dm_control's loop: 10 physics steps per control step, then read the sensor
        data.ctrl[:] = ctrl[0]
        for _ in range(10):
            mujoco.mj_step(model, data)
        mujoco.mj_forward(model, data)
        row = np.empty(sim.nstate)
        mujoco.mj_getState(model, data, row, full)
        np.testing.assert_array_equal(states[0, k], row)
        np.testing.assert_array_equal(speed[0, k], data.sensordata[:3])


def test_the_extra_sensing_step_changes_no_state():
    model = suite_model("cheetah")
    plain, sensing = MujocoSim(model, 4, 2), MujocoSim(model, 4, 2, sense_final=True)
    ctrl = np.random.default_rng(1).uniform(-1, 1, (4, model.nu))
    for _ in range(5):
        plain.step(ctrl)
        sensing.step(ctrl)
    np.testing.assert_array_equal(plain.state, sensing.state)
    assert sensing.substep_sensors().shape == (4, 2, model.nsensordata)
    with pytest.raises(RuntimeError, match="sense_final"):
        plain.substep_sensors()
    with pytest.raises(ValueError, match="rollout backend"):
        MujocoSim(model, 4, 2, backend="threads", sense_final=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match="action_repeat must be at least 1"):
        DmcSim("walker", 1, action_repeat=0)
    with pytest.raises(ValueError, match="domain must be one of"):
        DmcSim("hopper", 1, action_repeat=2)


def test_without_dm_control_the_tasks_say_how_to_install_it(monkeypatch, tmp_path, capsys):
    from imitate.cli import main
    from imitate.sim import dmc

    monkeypatch.setitem(sys.modules, "dm_control", None)  # as if it were not installed
    dmc.suite_model.cache_clear()
    try:
        code = main(["train", "walker-walk", "ppo", "total_steps=64", f"out_dir={tmp_path}"])
    finally:
        dmc.suite_model.cache_clear()
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"imitate: error: {dmc.DM_CONTROL_MISSING}"
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
