"""The goal tasks on the imitation humanoid (tasks/humanoid/goals.py): target reaching and strike."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from imitate.cli import main
from imitate.data.motion import humanoid_model as hm
from imitate.tasks.humanoid import goals
from imitate.tasks.humanoid.goals import HumanoidStrikeEnv, HumanoidTargetEnv
from imitate.tasks.humanoid.options import StrikeOptions, TargetOptions
from imitate.utils import rotations as rot
from tests.fixtures.replay import assert_restored_env_steps_alike

_Z = np.array([0.0, 0.0, 1.0])


def _yaw_quat(yaw) -> np.ndarray:
    return rot.quat_from_axis_angle(_Z, np.atleast_1d(np.asarray(yaw, dtype=np.float64)))


def _turn_world(env, yaw: float) -> None:
    """Turn everything (character, target, box) by ``yaw`` about the world z axis, in place."""
    c, s = math.cos(yaw), math.sin(yaw)
    turn = lambda xy: np.stack([c * xy[:, 0] - s * xy[:, 1], s * xy[:, 0] + c * xy[:, 1]], axis=1)  # noqa: E731
    qpos, qvel = env.sim.qpos.copy(), env.sim.qvel.copy()
    q = _yaw_quat(np.full(len(qpos), yaw))
    for p, v in ((0, 0), (hm.NQ, hm.NV))[: 1 + int(qpos.shape[1] > hm.NQ)]:  # the character, then a box
        qpos[:, p : p + 2] = turn(qpos[:, p : p + 2])
        qpos[:, p + 3 : p + 7] = rot.quat_mul(q, qpos[:, p + 3 : p + 7])
        qvel[:, v : v + 2] = turn(qvel[:, v : v + 2])  # free joints' angular velocity is local
    env.sim.set_joints(qpos, qvel)
    if "target_xy" in env.buffers:
        env.buffers["target_xy"][:] = turn(env.buffers["target_xy"])
    env.refresh()


# -- target -----------------------------------------------------------------------------------------
def test_target_reward_is_the_formula_at_hand_made_states():
    env = HumanoidTargetEnv(4, seed=0)
    qpos, qvel = env.sim.qpos.copy(), env.sim.qvel.copy()
    heading = np.array([0.3, -2.0, 1.0, 2.8])
    qpos[:, :3] = [[0.0, 0.0, 0.9], [1.0, 2.0, 0.9], [-3.0, 0.5, 0.9], [0.2, 0.2, 0.9]]
    qpos[:, 3:7] = _yaw_quat(heading)  # upright, facing ``heading``
    qvel[:, :3] = [[1.5, 0.5, 0.0], [0.0, 0.0, 0.3], [-2.0, 1.0, 0.0], [4.0, 0.0, 0.0]]
    env.sim.set_joints(qpos, qvel)
    target = np.array([[0.5, 0.0], [4.0, 2.0], [-3.0, -2.0], [0.2, 1.3]])  # d = 0.5, 3, 2.5, 1.1
    env.buffers["target_xy"][:] = target
    env.refresh()
    d_xy = target - qpos[:, :2]
    d = np.linalg.norm(d_xy, axis=1)
    a = np.cos(np.arctan2(d_xy[:, 1], d_xy[:, 0]) - heading)
    v = np.linalg.norm(qvel[:, :2], axis=1)
    expected = 0.6 * np.exp(-0.5 * d**2) + 0.3 * np.tanh(2.5 * a) + 0.1 * (1 - (v - 2) ** 2) + (d < 1.25)
    np.testing.assert_allclose(goals.target_reward(env).numpy(), expected, atol=1e-5)
    assert (d < 1.25).tolist() == [True, False, False, True]  # the bonus is tested both ways
    # the policy's goal features: target minus pelvis in the heading frame
    c, s = np.cos(heading), np.sin(heading)
    local = np.stack([c * d_xy[:, 0] + s * d_xy[:, 1], -s * d_xy[:, 0] + c * d_xy[:, 1]], axis=1)
    np.testing.assert_allclose(env.observation_terms("policy")["goal"].numpy(), local, atol=1e-5)


def test_targets_are_drawn_in_the_configured_ring_around_the_heading():
    for angle, lo, hi in ((120.0, 2.0, 6.0), (30.0, 1.0, 1.5)):
        env = HumanoidTargetEnv(512, seed=0, options=TargetOptions(goal_angle_deg=angle, goal_min_m=lo, goal_max_m=hi))
        rel, radius = [], []
        for seed in range(3):
            env.reset(seed=seed)
            d = env.buffers["target_xy"] - env.sim.qpos[:, :2]
            radius.append(np.linalg.norm(d, axis=1))
            rel.append(rot.wrap_angle(np.arctan2(d[:, 1], d[:, 0]) - goals.heading_of(env.sim.qpos)))
        rel_deg, r = np.degrees(np.concatenate(rel)), np.concatenate(radius)
        assert rel_deg.min() >= -angle - 1e-6 and rel_deg.max() <= angle + 1e-6
        assert rel_deg.min() < -0.95 * angle and rel_deg.max() > 0.95 * angle  # the whole range is used
        assert r.min() >= lo - 1e-9 and r.max() <= hi + 1e-9
        assert r.min() < lo + 0.02 * (hi - lo) and r.max() > hi - 0.02 * (hi - lo)
        assert abs(np.median(r) - (lo + hi) / 2) < 0.1 * (hi - lo)  # uniform in radius


@pytest.mark.parametrize("make", [HumanoidTargetEnv, HumanoidStrikeEnv])
def test_goal_features_do_not_change_when_the_world_turns(make):
    env = make(4, seed=3)
    for _ in range(3):
        env.step(torch.rand(4, 28, generator=torch.Generator().manual_seed(0)) * 0.4 - 0.2)
    env.refresh()
    before = env.observation().clone()
    _turn_world(env, 1.1)
    np.testing.assert_allclose(env.observation().numpy(), before.numpy(), atol=2e-5)
    # local_root_obs=false: the root rotation is the world's, so it turns with the world
    opts = (TargetOptions if make is HumanoidTargetEnv else StrikeOptions)(local_root_obs=False)
    env = make(4, seed=3, options=opts)
    goal_before, root_before = env.observation_terms()["goal"].clone(), env.observation()[:, 1:7].clone()
    _turn_world(env, 1.1)
    np.testing.assert_allclose(env.observation_terms()["goal"].numpy(), goal_before.numpy(), atol=2e-5)
    assert (env.observation()[:, 1:7] - root_before).abs().max() > 0.1


@pytest.mark.parametrize("make", [HumanoidTargetEnv, HumanoidStrikeEnv])
def test_the_style_group_holds_no_goal(make):
    env = make(2, seed=0)
    assert env.group_dims["style"] == 105
    assert env.obs_layout["style"] == (("style", 105),)
    assert torch.equal(env.observation()[:, :105], env.observation("style"))  # goal features follow


def test_reaching_the_target_is_remembered_and_the_episode_runs_on_to_a_success():
    env = HumanoidTargetEnv(2, seed=0, options=TargetOptions(episode_seconds=0.5))
    env.buffers["target_xy"][0] = env.sim.qpos[0, :2]  # env 0 stands on its target
    env.buffers["target_xy"][1] = env.sim.qpos[1, :2] + 50.0
    for k in range(env.max_episode_steps):
        step = env.step(torch.zeros(2, 28))
        if k == 0:
            assert step.extras["goal_s"].tolist() == pytest.approx([env.sim.dt_s, -1.0])
            assert not step.done.any()
    assert step.truncated.tolist() == [True, True] and step.success.tolist() == [True, False]


def test_goal_tasks_report_the_pelvis_distance_to_their_goal_for_the_energy_gate():
    env = HumanoidTargetEnv(2, seed=0)
    env.buffers["target_xy"][:] = env.sim.qpos[:, :2] + np.array([[3.0, 4.0], [0.0, 0.0]])
    step = env.step(torch.zeros(2, 28))
    expected = np.linalg.norm(env.buffers["target_xy"] - env.sim.qpos[:, :2], axis=1)
    assert step.extras["goal_distance"].tolist() == pytest.approx(expected.tolist(), abs=1e-5)
    assert 4.5 < step.extras["goal_distance"][0] < 5.5 and step.extras["goal_distance"][1] < 0.5
    strike, hand, action = _strike_with_box(lambda hand: _box_beside(hand, 0.0, 0.3))
    pelvis = strike.sim.body_pos()[0, 0]
    surface = goals.distance_to_box(strike, pelvis[None, None])[0, 0]
    assert 0.3 < surface < 1.5
    assert strike.step(action).extras["goal_distance"].shape == (1,)


# -- strike -----------------------------------------------------------------------------------------
RAISED_ARM = -1.0  # right_shoulder_x action: the arm held out sideways (-1.5 rad), hand at the -y side


def _strike_with_box(box_at) -> tuple:
    """A strike env standing with its right arm out; the box placed by ``box_at(hand)``."""
    env = HumanoidStrikeEnv(1, seed=0)
    qpos = env.sim.qpos.copy()
    qpos[0, : hm.NQ] = hm.load_model().qpos0
    qpos[0, 7 + hm.JOINT_NAMES.index("right_shoulder_x")] = -math.pi / 2
    env.sim.set_joints(qpos)
    hand = env.sim.body_pos()[0, hm.BODY_NAMES.index("right_wrist")]
    qpos[0, hm.NQ :] = box_at(hand)
    env.sim.set_joints(qpos)
    env.buffers["hit"][:] = False
    env.refresh()
    action = torch.zeros(1, 28)
    action[0, hm.JOINT_NAMES.index("right_shoulder_x")] = RAISED_ARM
    return env, hand, action


def _box_beside(hand, tilt_deg: float, gap_m: float) -> np.ndarray:
    """The box on the -y side of the hand, its +y face ``gap_m`` from the hand's surface
    (negative: pressed into it), tipped by ``tilt_deg`` about y (its y faces stay vertical)."""
    t = math.radians(tilt_deg)
    y = hand[1] - goals.HAND_RADIUS_M - gap_m - goals.BOX_HALF_M[1]
    z = goals.BOX_HALF_M[0] * math.sin(t) + goals.BOX_HALF_M[2] * math.cos(t) + 1e-3  # the lowest edge above the floor
    quat = rot.quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), np.array([t]))[0]
    return np.array([hand[0], y, z, *quat])


def test_a_hand_that_touches_the_box_and_knocks_it_over_achieves_the_goal():
    env, hand, action = _strike_with_box(lambda hand: _box_beside(hand, tilt_deg=50.0, gap_m=-0.01))
    step = env.step(action)
    assert bool(env.buffers["hit"][0]) and step.extras["goal_s"][0] == pytest.approx(env.sim.dt_s)
    assert not step.done[0] and step.extras["reward/strike"][0] == 1.0  # it runs on, rewarded 1
    env.steps[:] = env.max_episode_steps - 1
    step = env.step(action)
    assert step.truncated[0] and step.success[0]


def test_a_box_knocked_over_without_a_hand_is_a_failure():
    env, hand, action = _strike_with_box(lambda hand: _box_beside(hand, tilt_deg=50.0, gap_m=0.3))
    step = env.step(action)
    assert not env.buffers["hit"][0] and step.extras["goal_s"][0] == -1.0
    assert step.terminated[0] and not step.success[0]


def test_a_touch_that_leaves_the_box_standing_is_not_a_success():
    env, hand, action = _strike_with_box(lambda hand: _box_beside(hand, tilt_deg=0.0, gap_m=-0.005))
    step = env.step(action)
    assert bool(env.buffers["hit"][0]) and goals.box_tilt(env)[0] < math.radians(45)
    assert not step.done[0] and step.extras["goal_s"][0] == -1.0 and step.extras["reward/strike"][0] < 1.0


def test_a_box_touched_by_no_hand_is_not_hit():
    """The chest and a foot pushing the box (not a hand) leave it un-hit: only the wrist geoms count."""
    chest_front = 0.11 - 0.005  # the chest sphere's front (x, m), pressed 5 mm into the box

    def in_front(hand):
        return np.array([chest_front + goals.BOX_HALF_M[0], 0.0, goals.BOX_HALF_M[2], 1.0, 0.0, 0.0, 0.0])

    env, hand, action = _strike_with_box(in_front)
    env.step(action)
    assert env.sim.qvel[0, hm.NV] > 0.05  # the body pushed the box forward ...
    assert not env.buffers["hit"][0]  # ... without a hit


def test_the_box_is_drawn_around_the_character_upright_and_in_its_model_only():
    env = HumanoidStrikeEnv(256, seed=0)
    assert env.sim.nq == hm.NQ + 7 and HumanoidTargetEnv(1).sim.nq == hm.NQ
    d = env.sim.qpos[:, hm.NQ : hm.NQ + 2] - env.sim.qpos[:, :2]
    r = np.linalg.norm(d, axis=1)
    rel = np.degrees(rot.wrap_angle(np.arctan2(d[:, 1], d[:, 0]) - goals.heading_of(env.sim.qpos)))
    assert r.min() >= 1.0 and r.max() <= 4.0 and np.abs(rel).max() <= 120.0 + 1e-6
    assert np.allclose(env.sim.qpos[:, hm.NQ + 2], 1.0) and np.allclose(goals.box_tilt(env), 0.0, atol=1e-9)
    assert env.sim.body_pos().shape == (256, hm.NUM_BODIES, 3)  # the character's bodies only


@pytest.mark.parametrize("make", [HumanoidTargetEnv, HumanoidStrikeEnv])
def test_a_saved_goal_env_steps_exactly_as_the_original(make):
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(4, 28, generator=gen) * 2 - 1 for _ in range(50)]
    opts = (TargetOptions if make is HumanoidTargetEnv else StrikeOptions)(episode_seconds=0.6)
    a, b, resets = assert_restored_env_steps_alike(lambda seed: make(4, seed=seed, options=opts), actions, 10)
    assert resets > 0  # the restored RNG drew the same goals
    for key in ("goal_s", *(k for k in ("target_xy", "hit") if k in a.buffers)):
        assert np.array_equal(a.buffers[key], b.buffers[key])
    assert np.array_equal(a.sim.qpos, b.sim.qpos)  # the box too


@pytest.mark.parametrize(
    "task, key, problem",
    [
        ("humanoid-target", "goal_min_m=7", "goal_min_m=7.0 is more than goal_max_m=6.0"),
        ("humanoid-target", "goal_angle_deg=200", "goal_angle_deg"),
        ("humanoid-target", "success_m=0", "success_m"),
        ("humanoid-strike", "knock_tilt_deg=90", "knock_tilt_deg"),
        ("humanoid-strike", "task_reward=target", "task_reward"),
    ],
)
def test_bad_goal_options_are_refused_in_one_line(task, key, problem, capsys, tmp_path):
    assert main(["train", task, "ppo", key, f"out_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert problem in err and len(err.splitlines()) == 1


def test_a_goal_task_trains_on_its_own_clip_feature_demonstrations(tmp_path):
    """`imitate data humanoid-target` writes the style features (105), named for its task; AMP on
    the task accepts them though its policy observes 107 numbers, and refuses `humanoid`'s."""
    from imitate.data.dataset import Demonstrations
    from imitate.registry import get_task
    from imitate.runner import resolve_config
    from imitate.utils.errors import DatasetError

    demos = get_task("humanoid-target").run_oracle(2, seed=0)
    assert demos.obs.shape[1] == 105 and demos.metadata["task"] == "humanoid-target"
    demos.save(tmp_path / "target.npz")
    cfg = resolve_config("humanoid-target", "amp", {"demos": str(tmp_path / "target.npz")})
    assert Demonstrations.load(cfg.demos, task="humanoid-target").obs.shape == demos.obs.shape
    get_task("humanoid").run_oracle(2, seed=0).save(tmp_path / "plain.npz")
    with pytest.raises(DatasetError, match="humanoid"):
        resolve_config("humanoid-target", "amp", {"demos": str(tmp_path / "plain.npz")})
