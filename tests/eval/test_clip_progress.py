"""Clip progress in DeepMimic's evaluation (eval/clip_progress.py): the fraction of the reference
window completed, and the full-rotation rule of the cartwheel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from imitate.eval.clip_progress import ClipProgress, full_rotation, up_z
from imitate.eval.humanoid import rollout_tracking
from imitate.tasks.humanoid.options import TrackingOptions
from imitate.tasks.humanoid.tracking import HumanoidTrackingEnv


def test_up_z_of_known_rotations():
    half = math.pi / 4  # quaternions of 0, 90 and 180 degrees about x, and 180 about z
    quats = np.array([[1, 0, 0, 0], [math.cos(half), math.sin(half), 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], float)
    np.testing.assert_allclose(up_z(quats), [1.0, 0.0, -1.0, 1.0], atol=1e-12)


def test_full_rotation_needs_inverted_then_upright():
    up = np.array(
        [
            [1.0, 0.3, -0.9, 0.2, 0.9],  # over and back up: a full turn
            [1.0, 0.3, -0.9, -0.9, 0.5],  # upside down, never upright again
            [0.9, 0.9, 0.9, 0.9, 0.9],  # never turns
            [0.9, -0.6, 0.9, 0.9, 0.9],  # a full turn, but the steps after the flip are not valid
        ]
    )
    valid = np.ones_like(up, dtype=bool)
    valid[3, 2:] = False
    assert full_rotation(up, valid).tolist() == [True, False, False, False]


def _progress(clip: str, n: int = 6, **opts) -> tuple[HumanoidTrackingEnv, ClipProgress]:
    env = HumanoidTrackingEnv(n, seed=0, options=TrackingOptions(clip=clip, **opts))
    env.reset(seed=0)
    return env, ClipProgress(env)


def test_reference_windows_turn_over_for_the_cartwheel_not_the_walk():
    env, progress = _progress("humanoid3d_cartwheel", episode_seconds=4.0)  # longer than one cycle, 2.72 s
    window = progress.window_steps()
    turns = full_rotation(progress.reference_up(int(window.max())), np.ones((6, int(window.max())), bool))
    assert turns.all()
    env.close()
    env, progress = _progress("humanoid3d_walk")
    assert not full_rotation(progress.reference_up(60), np.ones((6, 60), bool)).any()
    env.close()


def test_rotation_rate_counts_the_policy_turning_over():
    env, progress = _progress("humanoid3d_cartwheel", episode_seconds=4.0)
    steps = int(progress.window_steps().max())
    reference = progress.reference_up(steps)
    active = np.ones(6, bool)
    for t in range(steps):  # a "policy" whose root follows the reference in envs 0-2 and stays upright in 3-5
        progress.up.append(np.where(np.arange(6) < 3, reference[:, t], 1.0))
        progress.active.append(active)
    out = progress.metrics(np.full(6, float(steps)))
    assert out["rotation_episodes"] == 6
    assert out["rotation_completed_rate"] == pytest.approx(0.5)
    assert out["clip_fraction"] == pytest.approx(1.0)
    env.close()


def test_clip_fraction_of_a_one_shot_clip_counts_to_its_end():
    env, progress = _progress("humanoid3d_walk", n=2, loop="none", rsi=False)
    window = progress.window_steps()
    assert window.tolist() == [env.max_episode_steps] * 2  # from phase 0, the whole clip
    out = progress.metrics(np.array([window[0], window[0] / 2], float))
    assert out["clip_fraction"] == pytest.approx(0.75)
    assert out["rotation_episodes"] == 0 and "rotation_completed_rate" not in out
    env.close()


class ZeroPolicy:
    def act(self, obs: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        return torch.zeros(obs.shape[0], 28)


def test_rollout_reports_clip_progress():
    env = HumanoidTrackingEnv(
        4, seed=0, options=TrackingOptions(clip="humanoid3d_cartwheel", episode_seconds=3.0, action_mode="reference")
    )
    metrics = rollout_tracking(ZeroPolicy(), env, seed=0)["metrics"]
    assert 0.0 < metrics["clip_fraction"] <= 1.0
    assert metrics["rotation_episodes"] >= 1
    assert 0.0 <= metrics["rotation_completed_rate"] <= 1.0
    env.close()
