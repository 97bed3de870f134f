"""Task metrics of evaluation episodes: block pushing's success at IBC's two goal tolerances, and
the tolerance the env ended its episodes at."""

import numpy as np
import pytest
import torch

from imitate.eval.metrics import block_push_metrics
from imitate.tasks.block_push import SUCCESS_DIST_M, BlockPushEnv, place
from imitate.tasks.block_push_options import BlockPushOptions

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
    assert metrics == {
        "success_rate_tol_0.01": pytest.approx(0.5),
        "success_rate_tol_0.02": pytest.approx(0.75),
        "success_tolerance_m": SUCCESS_DIST_M,  # no options: the default env's
    }


def _one_step(tolerance_m: float, dists: tuple[float, ...]):
    """Blocks placed at ``dists`` from their targets in an env ending episodes at
    ``tolerance_m``, one still step: (its StepResult, each env's two observations)."""
    env = BlockPushEnv(len(dists), seed=0, options=BlockPushOptions(success_tolerance_m=tolerance_m))
    env.reset(seed=0)
    for i, dist in enumerate(dists):
        place(env, i, pusher=[0.25, -0.3], block=TARGET + [dist, 0.0], target=TARGET)
    first = env.observation()
    step = env.step(torch.zeros(len(dists), 2))
    return step, [np.stack([first[i].numpy(), step.final_obs[i].numpy()]) for i in range(len(dists))]


def test_the_tolerances_read_the_env_own_final_states():
    """Blocks placed 1.5 cm, 0.5 cm and 10 cm from their targets: the env ends the first two on
    success (its tolerance is 0.02 m) and the metrics split them at 0.01 m."""
    step, trajs = _one_step(SUCCESS_DIST_M, (0.015, 0.005, 0.1))
    assert step.success.tolist() == [True, True, False] and SUCCESS_DIST_M == 0.02
    metrics = block_push_metrics(trajs)
    assert metrics["success_rate_tol_0.02"] == pytest.approx(2 / 3) == step.success.float().mean().item()
    assert metrics["success_rate_tol_0.01"] == pytest.approx(1 / 3)


def test_an_env_ending_at_0_01_makes_the_0_01_figure_the_env_own_success():
    """At ``success_tolerance_m=0.01`` the block 1.5 cm away is no success and its episode goes
    on; the 0.01 figure is then the env's own success rate (exact, not a lower bound), the 0.02
    figure still counts the block 1.5 cm away, and the metrics name the env's tolerance."""
    step, trajs = _one_step(0.01, (0.015, 0.005, 0.1))
    assert step.success.tolist() == [False, True, False] and step.done.tolist() == [False, True, False]
    metrics = block_push_metrics(trajs, BlockPushOptions(success_tolerance_m=0.01))
    assert metrics["success_rate_tol_0.01"] == pytest.approx(1 / 3) == step.success.float().mean().item()
    assert metrics["success_rate_tol_0.02"] == pytest.approx(2 / 3)
    assert metrics["success_tolerance_m"] == 0.01
