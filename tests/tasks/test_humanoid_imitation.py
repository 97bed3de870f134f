"""The humanoid imitation task (``humanoid``): style observation and absolute actions, reference
state initialisation by clip weight, heading invariance, one feature function for clips and
simulation, falls, the time limit, the task rewards, exact save and restore."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imitate.tasks.core.env import ALL
from imitate.tasks.humanoid.common import clip_style_features, clip_style_pairs, state_dict
from imitate.tasks.humanoid.imitation import HumanoidEnv, motion_library
from imitate.tasks.humanoid.observations import style_obs
from imitate.tasks.humanoid.options import HumanoidOptions
from imitate.utils import rotations as rot
from tests.fixtures.replay import assert_restored_env_steps_alike

CHI2_3DOF_P001 = 16.27  # chi-square, 3 degrees of freedom, p = 0.001


@pytest.fixture
def weighted_list(tmp_path):
    """Four clips weighted 4 : 2 : 1 : 1, looping and one-shot."""
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "motions:\n  - {clip: humanoid3d_walk, weight: 4}\n  - {clip: walker/turn_left0, weight: 2}\n"
        "  - {clip: humanoid3d_run, weight: 1}\n  - {clip: humanoid3d_punch, weight: 1}\n"
    )
    return str(path)


def _turn(qpos: np.ndarray, qvel: np.ndarray, yaw: float, shift=(0.0, 0.0)):
    """The whole state turned by ``yaw`` (rad) about the world z axis, then shifted (m)."""
    qpos, qvel = qpos.copy(), qvel.copy()
    c, s = np.cos(yaw), np.sin(yaw)
    x, y = qpos[:, 0].copy(), qpos[:, 1].copy()
    qpos[:, 0], qpos[:, 1] = c * x - s * y + shift[0], s * x + c * y + shift[1]
    qpos[:, 3:7] = rot.quat_mul(rot.quat_from_axis_angle(np.array([0.0, 0, 1]), np.full(len(qpos), yaw)), qpos[:, 3:7])
    vx, vy = qvel[:, 0].copy(), qvel[:, 1].copy()  # the angular part is local: unchanged
    qvel[:, 0], qvel[:, 1] = c * vx - s * vy, s * vx + c * vy
    return qpos, qvel


def test_the_policy_sees_the_style_features_and_acts_with_absolute_targets():
    env = HumanoidEnv(4, seed=0)
    obs = env.reset(seed=0)
    assert env.obs_dim == env.style_dim == 105 and env.act_dim == 28
    assert set(env.spec.observations) == {"policy", "style"}
    assert all(list(g.terms) == ["style"] for g in env.spec.observations.values())  # no phase, no target
    torch.testing.assert_close(obs, env.observation("style"), rtol=0, atol=0)
    # PD targets are the default pose (all hinges 0) + action_scale·a, whatever the clip
    a = torch.rand(4, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for motion in ("walk", "humanoid3d_punch"):
        other = HumanoidEnv(4, seed=0, options=HumanoidOptions(motion=motion, action_scale=0.7))
        np.testing.assert_allclose(other.spec.action.func(other, a, **other.spec.action.params), 0.7 * a.double())
    step = env.step(a)
    torch.testing.assert_close(step.transition, torch.cat([obs, step.final_obs], dim=-1))  # (s_t, s_t+1)
    env.close()


def test_reset_puts_the_character_in_the_drawn_clip_state_and_the_history_starts_there(weighted_list):
    env = HumanoidEnv(24, seed=3, options=HumanoidOptions(motion=weighted_list))
    env.reset(seed=3)
    lib, buf = motion_library(env), env.buffers
    assert len(set(buf["clip_ids"].tolist())) > 1 and np.ptp(buf["yaw"]) > 1.0
    ms = lib.state(buf["clip_ids"], buf["time_s"], with_bodies=False)
    np.testing.assert_allclose(env.sim.qpos[:, 7:], ms.joint_pos, atol=1e-12)
    np.testing.assert_allclose(env.sim.qpos[:, 2], ms.root_pos[:, 2], atol=1e-12)
    # the first style frame is the clip's (heading-invariant, so the random yaw does not show)
    expected = clip_style_features(lib, buf["clip_ids"], buf["time_s"])
    torch.testing.assert_close(env.observation("style"), expected, rtol=0, atol=1e-5)
    step = env.step(torch.zeros(24, 28))
    torch.testing.assert_close(step.transition[:, :105], expected, rtol=0, atol=1e-5)
    env.close()


def test_reference_state_initialisation_draws_clips_by_weight_and_phases_uniformly(weighted_list):
    """A statistical check: 64 envs × 40 resets = 2,560 draws against weights 4 : 2 : 1 : 1."""
    env = HumanoidEnv(64, seed=11, options=HumanoidOptions(motion=weighted_list))
    lib = motion_library(env)
    ids, phases = [], []
    for k in range(40):
        env.reset(seed=100 + k)
        ids.append(env.buffers["clip_ids"].copy())
        phases.append(env.buffers["time_s"] / lib.durations[env.buffers["clip_ids"]])
    ids_all, phase = np.concatenate(ids), np.concatenate(phases)
    counts = np.bincount(ids_all, minlength=4)
    expected = len(ids_all) * np.array([4, 2, 1, 1]) / 8
    assert ((counts - expected) ** 2 / expected).sum() < CHI2_3DOF_P001, counts
    uniform = np.full(4, len(ids_all) / 4)  # the same draws clearly reject equal weights
    assert ((counts - uniform) ** 2 / uniform).sum() > 10 * CHI2_3DOF_P001, counts
    ks = np.abs(np.sort(phase) - (np.arange(1, len(phase) + 1) / len(phase))).max()  # phase ~ U(0, 1)
    assert ks < 1.63 / np.sqrt(len(phase)), ks  # Kolmogorov-Smirnov, p = 0.01
    assert phase.min() >= 0 and phase.max() <= 1
    env.close()


def test_style_features_do_not_depend_on_heading_or_position():
    """Rotating a whole state about z (and moving it) leaves the style features unchanged, read
    from the state dict or through the env; tilting it does not."""
    env = HumanoidEnv(12, seed=0, options=HumanoidOptions(motion="walk"))
    lib = motion_library(env)
    ids = np.repeat(np.arange(lib.num_clips), 2)
    times = np.linspace(0.0, 1.1, len(ids))
    frames = lib.state(ids, times, with_bodies=False)
    qpos, qvel = frames.qpos(), frames.qvel()
    base = style_obs(state_dict(env, qpos, qvel))
    for yaw, shift in ((0.7, (3.0, -2.0)), (-2.9, (-40.0, 5.5)), (np.pi, (0.0, 0.0))):
        turned = style_obs(state_dict(env, *_turn(qpos, qvel, yaw, shift)))
        torch.testing.assert_close(turned, base, rtol=0, atol=2e-5)
        env.sim.set_joints(*_turn(qpos, qvel, yaw, shift), normalise_root=True)
        torch.testing.assert_close(env.refresh(), base, rtol=0, atol=2e-5)
    tilted = qpos.copy()
    tilted[:, 3:7] = rot.quat_mul(
        rot.quat_from_axis_angle(np.array([1.0, 0, 0]), np.full(len(qpos), 0.3)), qpos[:, 3:7]
    )
    assert (style_obs(state_dict(env, tilted, qvel)) - base).abs().max() > 0.1
    env.close()


def test_clip_side_features_equal_the_sim_side_on_a_weighted_multi_clip_dataset(weighted_list):
    """One feature function: frames of every clip of a weighted data set, set kinematically into
    the task's simulator, read the same style features through the env as the clip side (what the
    oracle's demonstrations hold), and consecutive frames give the clip-side pairs."""
    from imitate.oracles.humanoid import humanoid_oracle

    env = HumanoidEnv(32, seed=0, options=HumanoidOptions(motion=weighted_list))
    lib = motion_library(env)
    ids = np.arange(32) % lib.num_clips
    times = np.random.default_rng(0).random(32) * (lib.durations[ids] - 0.05)
    frames = lib.state(ids, times, with_bodies=False)
    env.sim.set_joints(frames.qpos(), frames.qvel(), normalise_root=True)
    env.refresh()
    torch.testing.assert_close(env.observation("style"), clip_style_features(lib, ids, times), rtol=0, atol=1e-5)
    pairs = clip_style_pairs(lib, clip_id=3)  # the punch: (s_t, s_t+dt) at the control period
    step_times = np.arange(len(pairs)) * env.sim.dt_s
    frames = lib.state(np.full(len(pairs), 3), step_times, with_bodies=False)
    replay = HumanoidEnv(len(pairs), seed=0, options=HumanoidOptions(motion=weighted_list))
    replay.sim.set_joints(frames.qpos(), frames.qvel(), normalise_root=True)
    torch.testing.assert_close(replay.refresh(), pairs[:, :105], rtol=0, atol=1e-5)
    # the oracle's demonstrations are these features, window by window
    demos = humanoid_oracle(5, seed=2, cfg=HumanoidOptions(motion=weighted_list))
    first = demos.episodes()[0]
    clip = demos.metadata["clips"].index(demos.metadata["episode_clips"][0])
    t0 = demos.metadata["episode_start_s"][0] + np.arange(len(first)) * env.sim.dt_s
    features = clip_style_features(lib, np.full(len(first), clip), t0)
    np.testing.assert_allclose(first, features.numpy(), rtol=0, atol=1e-6)
    env.close()
    replay.close()


def test_falls_terminate_and_the_time_limit_is_a_success():
    env = HumanoidEnv(4, seed=0, options=HumanoidOptions(episode_seconds=0.2))
    assert env.max_episode_steps == 6
    env.reset(seed=0)
    qpos, qvel = env.sim.qpos.copy(), env.sim.qvel.copy()
    qpos[:2, 2] = 0.15  # envs 0, 1: lying on the ground
    qpos[:2, 3:7] = rot.quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.full(2, np.pi / 2))
    env.sim.set_joints(qpos, qvel, normalise_root=True)
    step = env.step(torch.zeros(4, 28))
    assert step.terminated[:2].all() and step.extras["fell"][:2].all() and not step.success[:2].any()
    assert not step.done[2:].any()
    for _ in range(5):
        step = env.step(torch.zeros(4, 28))
    assert step.truncated[2:].all() and step.success[2:].all() and not step.terminated[2:].any()
    # the contact must be low: with fall_height_m below the lying pelvis's origin and no root
    # height limit, the same pose is no fall
    lenient = HumanoidEnv(2, seed=0, options=HumanoidOptions(fall_height_m=0.02, min_base_height_m=0.0))
    lenient.reset(seed=0)
    lenient.sim.set_joints(qpos[:2], qvel[:2], normalise_root=True)
    assert not lenient.step(torch.zeros(2, 28)).terminated.any()
    # a policy that holds the default pose (absolute zero targets) falls within a few seconds
    idle = HumanoidEnv(8, seed=1)
    idle.reset(seed=1)
    fell = torch.zeros(8, dtype=torch.bool)
    for _ in range(90):
        fell |= idle.step(torch.zeros(8, 28)).terminated
    assert fell.all()
    for e in (env, lenient, idle):
        e.close()


def test_task_rewards_and_their_default_per_motion():
    assert list(HumanoidEnv(1, options=HumanoidOptions(motion="walk")).spec.rewards) == ["dist"]
    assert list(HumanoidEnv(1, options=HumanoidOptions(motion="run")).spec.rewards) == ["dist"]
    assert list(HumanoidEnv(1, options=HumanoidOptions(motion="spinkick")).spec.rewards) == ["time"]
    assert list(HumanoidEnv(1, options=HumanoidOptions(motion="humanoid3d_walk")).spec.rewards) == ["time"]
    assert list(HumanoidEnv(1, options=HumanoidOptions(task_reward="height")).spec.rewards) == ["height"]
    # dist: forward pelvis speed along each episode's +x, whatever its yaw; the walk moves ~1 m/s
    env = HumanoidEnv(16, seed=4, options=HumanoidOptions(motion="humanoid3d_walk", task_reward="dist"))
    env.reset(seed=4)
    before = env.sim.qpos[:, :2].copy()
    step = env.step(torch.zeros(16, 28))
    d = env.sim.qpos[:, :2] - before
    yaw = env.buffers["yaw"]
    forward = (d[:, 0] * np.cos(yaw) + d[:, 1] * np.sin(yaw)) / env.sim.dt_s
    np.testing.assert_allclose(step.extras["forward_mps"].numpy(), forward, rtol=0, atol=1e-5)
    assert np.ptp(yaw) > 1.0 and forward.mean() > 0.5
    torch.testing.assert_close(step.reward, torch.as_tensor(forward, dtype=torch.float32).clamp(0, 0.5) / 0.5)
    # height: clamp(pelvis z, 0, 2.5) / 2.5; time: 1 per step
    high = HumanoidEnv(4, seed=0, options=HumanoidOptions(task_reward="height"))
    high.reset(seed=0)
    step = high.step(torch.zeros(4, 28))
    z = torch.as_tensor(high.sim.qpos[:, 2], dtype=torch.float32)
    torch.testing.assert_close(step.reward, z.clamp(0, 2.5) / 2.5)
    timed = HumanoidEnv(4, seed=0, options=HumanoidOptions(task_reward="time"))
    timed.reset(seed=0)
    assert torch.equal(timed.step(torch.zeros(4, 28)).reward, torch.ones(4))
    for e in (env, high, timed):
        e.close()


def test_saved_state_steps_exactly_as_the_original(weighted_list):
    cfg = HumanoidOptions(motion=weighted_list, task_reward="dist")
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(6, 28, generator=gen) * 2 - 1 for _ in range(60)]
    a, b, resets = assert_restored_env_steps_alike(lambda seed: HumanoidEnv(6, seed=seed, options=cfg), actions, 20)
    assert resets > 0  # the restored RNG drew the same reset states
    assert torch.equal(a.observation("style"), b.observation("style"))
    a._read_group(a.spec.observations["policy"], ALL)  # reading again changes nothing
    a.close()
    b.close()
