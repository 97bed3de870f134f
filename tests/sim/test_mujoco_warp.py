"""MuJoCo Warp (``engine=warp``) against MuJoCo's C engine on the humanoid, on Warp's CPU mode:
the same trajectories within float32 tolerance, exact save/restore, a diverged world reset, and
the option's one-line errors. Skipped where the warp extra is not installed (the CPU-only install
passes without it); the first WarpSim compiles Warp's kernels (about 30 s, then cached)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from imitate.config import ConfigError
from imitate.data.motion import MotionLibrary, load_clip
from imitate.data.motion import humanoid_model as hm
from imitate.registry import get_task
from imitate.sim.mujoco_c import MujocoSim
from imitate.sim.mujoco_warp import warp_device


def test_the_warp_device_follows_the_runs_torch_device():
    assert warp_device("cpu") == "cpu" and warp_device("cuda") == "cuda:0" and warp_device("cuda:1") == "cuda:1"


def test_engine_warp_without_mujoco_warp_is_one_line(monkeypatch):
    import importlib.util

    from imitate.runner import resolve_config

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mujoco_warp" else real(name, *a))
    for task in ("humanoid", "humanoid-walk"):
        with pytest.raises(ConfigError, match=r"engine=warp needs MuJoCo Warp: pip install 'imitate\[warp\]'"):
            resolve_config(task, "ppo", {"engine": "warp"})
    with pytest.raises(ConfigError, match="engine must be one of c, warp"):
        resolve_config("humanoid", "ppo", {"engine": "mjx"})


def test_strike_refuses_the_warp_engine():
    from imitate.runner import resolve_config

    with pytest.raises(ConfigError, match="humanoid-strike runs on engine=c only"):
        resolve_config("humanoid-strike", "ppo", {"engine": "warp"})


@pytest.fixture(scope="module")
def warp_sim():
    pytest.importorskip("mujoco_warp")
    from imitate.sim.mujoco_warp import WarpSim

    return WarpSim(hm.load_model(), 6, hm.SUBSTEPS)


def _walk_frames(n: int):
    lib = MotionLibrary([load_clip("humanoid3d_walk")])
    return lib.state(np.zeros(n, dtype=int), np.linspace(0.0, 1.0, n), with_bodies=False)


def test_warp_follows_the_c_engine_within_float32_tolerance(warp_sim):
    """Walk frames (feet on the ground: contacts), PD targets of random actions, five control steps
    (0.17 s). Measured on Warp's CPU mode: qpos within 2e-6 after one step and 1.6e-5 after five.
    Further on the two split where a contact starts (float32 against float64 decides on which
    substep a foot's corner touches): one of six walkers differs by 0.15 rad at its left ankle
    after 8 steps, so the comparison stops before such events."""
    n = warp_sim.num_envs
    c_sim = MujocoSim(hm.load_model(), n, hm.SUBSTEPS)
    frames = _walk_frames(n)
    for sim in (c_sim, warp_sim):
        sim.set_joints(frames.qpos(), frames.qvel(), normalise_root=True)
    rng = np.random.default_rng(0)
    for t in range(5):
        target = frames.joint_pos + rng.uniform(-0.2, 0.2, frames.joint_pos.shape)
        assert not c_sim.step(target).any() and not warp_sim.step(target).any()
        np.testing.assert_allclose(warp_sim.qpos, c_sim.qpos, rtol=0, atol=1e-5 if t == 0 else 2e-4)
        np.testing.assert_allclose(warp_sim.qvel, c_sim.qvel, rtol=0, atol=2e-2)
    np.testing.assert_allclose(warp_sim.state[:, 0], c_sim.state[:, 0], rtol=1e-6)  # time advanced alike
    assert np.abs(warp_sim.qpos - frames.qpos()).max() > 0.01  # and both moved: not a copy of the start
    assert c_sim.contacts().any() and np.array_equal(warp_sim.contacts(), c_sim.contacts())


def test_a_saved_state_steps_to_the_same_next_state(warp_sim):
    frames = _walk_frames(warp_sim.num_envs)
    warp_sim.set_joints(frames.qpos(), frames.qvel(), normalise_root=True)
    saved = warp_sim.get_state()
    warp_sim.step(frames.joint_pos)
    first = warp_sim.state.copy()
    warp_sim.set_state(saved)
    warp_sim.step(frames.joint_pos)
    np.testing.assert_array_equal(warp_sim.state, first)  # the warm start is dropped between calls


def test_a_diverged_world_is_reset_and_flagged(warp_sim):
    frames = _walk_frames(warp_sim.num_envs)
    qvel = frames.qvel().copy()
    qvel[2] = np.nan
    warp_sim.set_joints(frames.qpos(), qvel, normalise_root=True)
    bad = warp_sim.step(frames.joint_pos)
    assert bad.tolist() == [i == 2 for i in range(warp_sim.num_envs)] and warp_sim.unstable[2]
    np.testing.assert_array_equal(warp_sim.state[2], warp_sim.initial_row)
    assert np.isfinite(warp_sim.state).all()


def test_the_tracking_task_runs_on_either_engine_alike(warp_sim):
    """The env built with engine=warp gives the C engine's observations within tolerance."""
    task = get_task("humanoid-walk")
    envs = [task.make_env(3, seed=0, cfg=replace(task.default_options(), engine=e)) for e in ("c", "warp")]
    obs = [env.reset(seed=1) for env in envs]
    np.testing.assert_array_equal(obs[0].numpy(), obs[1].numpy())  # the same reset (RSI from the clip)
    rng = np.random.default_rng(1)
    for _ in range(3):
        action = rng.uniform(-0.5, 0.5, (3, envs[0].act_dim)).astype(np.float32)
        steps = [env.step(torch.from_numpy(action)) for env in envs]
        np.testing.assert_allclose(steps[1].obs.numpy(), steps[0].obs.numpy(), rtol=0, atol=5e-3)
        np.testing.assert_allclose(steps[1].reward.numpy(), steps[0].reward.numpy(), rtol=0, atol=5e-3)
