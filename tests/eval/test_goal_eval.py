"""`imitate eval` on the goal tasks: the goal's success rate and time, and a video with the props."""

import imageio.v2 as imageio
import numpy as np
import pytest
import torch

from imitate.data.motion import humanoid_model as hm
from imitate.eval.humanoid import GoalRecorder
from imitate.eval.rollouts import evaluate_policy
from imitate.tasks.humanoid import goals
from imitate.tasks.humanoid.goals import HumanoidStrikeEnv, HumanoidTargetEnv
from imitate.tasks.humanoid.options import StrikeOptions, TargetOptions
from imitate.viz import gl
from imitate.viz import motion as viz_motion

from .test_imitation_metrics import StandStill


@pytest.fixture
def no_opengl(monkeypatch):
    monkeypatch.setattr(gl, "render_with", lambda *args: "no GL in tests")


def _evaluate(env, seed=0):
    recorder = GoalRecorder(env)
    result = evaluate_policy(StandStill(), env, seed=seed, observer=recorder)
    return recorder, {**result.metrics(), **recorder.metrics()}


def test_goal_success_rate_and_time_count_the_episodes_that_achieved_it():
    # within 100 m: every target is reached at the first step
    env = HumanoidTargetEnv(3, seed=0, options=TargetOptions(success_m=100.0, episode_seconds=0.3))
    _, metrics = _evaluate(env)
    assert metrics["goal_success_rate"] == 1.0
    assert metrics["goal_time_s"] == pytest.approx(env.sim.dt_s)
    # targets 2-6 m away are not reached by standing still within 1 cm
    env = HumanoidTargetEnv(3, seed=0, options=TargetOptions(success_m=0.01, episode_seconds=0.3))
    _, metrics = _evaluate(env)
    assert metrics["goal_success_rate"] == 0.0 and metrics["goal_time_s"] is None
    assert "motion_pose_error_dtw_m" in metrics  # NEAR's motion metrics still come with them


def test_the_goal_time_is_the_mean_over_the_successful_episodes_only():
    env = HumanoidTargetEnv(2, seed=0, options=TargetOptions(success_m=1.0, episode_seconds=0.3))
    recorder = GoalRecorder(env)
    env.reset(seed=0)
    recorder.goal_s[:] = [0.5, -1.0]  # as after_step leaves it: env 0 reached its goal at 0.5 s
    recorder.start = (env.buffers["clip_ids"].copy(), env.buffers["time_s"].copy())
    recorder.before_step(torch.ones(2, dtype=torch.bool))
    metrics = recorder.metrics()
    assert metrics["goal_success_rate"] == 0.5 and metrics["goal_time_s"] == 0.5


@pytest.mark.parametrize("make, opts", [(HumanoidTargetEnv, TargetOptions), (HumanoidStrikeEnv, StrikeOptions)])
def test_the_video_draws_the_goal_beside_the_character(make, opts, tmp_path, no_opengl):
    env = make(2, seed=0, options=opts(episode_seconds=0.2))
    recorder, _ = _evaluate(env, seed=1)
    (_, policy), (_, reference) = recorder.video_panels()[0]
    assert policy.shape[1] == reference.shape[1] == hm.NQ + 7
    best = int(recorder.returns.argmax())
    if make is HumanoidTargetEnv:  # the marker lies on the target the episode started with
        fresh = make(2, seed=0, options=opts(episode_seconds=0.2))
        fresh.reset(seed=1)
        target = np.tile(fresh.buffers["target_xy"][best], (len(policy), 1))
        np.testing.assert_allclose(policy[:, hm.NQ : hm.NQ + 2], target)
    assert np.all(reference[:, hm.NQ + 2] == goals.HIDDEN_Z_M)  # the clip panel: the character alone
    out = recorder.write_video(tmp_path / "policy.mp4")
    assert out["video_renderer"] == "stick" and len(imageio.mimread(out["video"], memtest=False)) == len(policy)


def test_the_stick_figure_outlines_the_box_where_it_is():
    q = np.r_[hm.load_model().qpos0, [1.5, -0.5, 1.0, 1.0, 0.0, 0.0, 0.0]][None]
    corners = viz_motion.prop_outlines(q, goals.BOX_XML)[0, 0]  # (8, 3)
    np.testing.assert_allclose(corners.min(0), [1.0, -1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(corners.max(0), [2.0, 0.0, 2.0], atol=1e-9)
