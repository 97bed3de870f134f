"""Task metrics of evaluation episodes: block pushing's success at IBC's two goal tolerances."""

import numpy as np
import pytest
import torch

from imitate.eval.metrics import block_push_metrics
from imitate.tasks.block_push import SUCCESS_DIST_M, BlockPushEnv, place

TARGET = np.array([0.0, 0.15])


def _episode(block_dists: list[float]) -> np.ndarray:
    """(T, 10) block-push observations, the block at these distances (along x) from its target."""
    obs = np.zeros((len(block_dists), 10))
    obs[:, 4] = TARGET[0] + np.asarray(block_dists)
    obs[:, 5] = TARGET[1]
    obs[:, 7] = 1.0  # cos yaw
    obs[:, 8:10] = TARGET
    return obs


def test_success_at_each_tolerance_on_hand_made_final_states():
    episodes = [
        _episode([0.2, 0.1, 0.015]),  # ends 1.5 cm away: counts at 0.02 m, not at 0.01 m
        _episode([0.2, 0.005]),  # ends 0.5 cm away: counts at both
        _episode([0.2, 0.1, 0.05, 0.03]),  # never within 2 cm
        _episode([0.3, 0.008, 0.2, 0.2]),  # was within 1 cm, then pushed away: counts at both
    ]
    metrics = block_push_metrics(episodes)
    assert metrics == {"success_rate_tol_0.01": pytest.approx(0.5), "success_rate_tol_0.02": pytest.approx(0.75)}


def test_the_tolerances_read_the_env_own_final_states():
    """Blocks placed 1.5 cm, 0.5 cm and 10 cm from their targets: the env ends the first two on
    success (its tolerance is 0.02 m) and the metrics split them at 0.01 m."""
    env = BlockPushEnv(3, seed=0)
    first = env.reset(seed=0)
    for i, dist in enumerate((0.015, 0.005, 0.1)):
        place(env, i, pusher=[0.25, -0.3], block=TARGET + [dist, 0.0], target=TARGET)
    first = env.observation()
    step = env.step(torch.zeros(3, 2))
    assert step.success.tolist() == [True, True, False] and SUCCESS_DIST_M == 0.02
    trajs = [np.stack([first[i].numpy(), step.final_obs[i].numpy()]) for i in range(3)]
    metrics = block_push_metrics(trajs)
    assert metrics["success_rate_tol_0.02"] == pytest.approx(2 / 3) == step.success.float().mean().item()
    assert metrics["success_rate_tol_0.01"] == pytest.approx(1 / 3)
