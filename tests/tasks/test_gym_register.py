"""gymnasium interop: the maze and Push-T as registered single-env gymnasium environments."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

IDS = ["imitate/Maze-v0", "imitate/PushT-v0"]


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_passes(env_id):
    env = gym.make(f"imitate.tasks.gym_register:{env_id}")  # the documented module:id form
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_steps_seeding_and_episode_end(env_id):
    import imitate.tasks.gym_register  # noqa: F401  (registers on import)

    env = gym.make(env_id)
    obs1, _ = env.reset(seed=7)
    obs2, _ = env.reset(seed=7)
    assert np.array_equal(obs1, obs2) and obs1.dtype == np.float32
    assert env.observation_space.contains(obs1)
    rng = np.random.default_rng(0)
    steps, ended = 0, None
    while ended is None:
        obs, reward, terminated, truncated, info = env.step(rng.uniform(-1, 1, 2).astype(np.float32))
        steps += 1
        assert env.observation_space.contains(obs) and isinstance(reward, float)
        assert "is_success" in info and not (terminated and truncated)
        if terminated or truncated:
            ended = (terminated, truncated, info["is_success"])
    terminated, truncated, success = ended
    assert terminated == success  # ended by the task exactly when it succeeded
    assert (not truncated) or steps == env.spec.max_episode_steps  # cut only at the env's own cap
    assert steps <= env.spec.max_episode_steps


def test_pusht_success_is_a_termination():
    import imitate.tasks.gym_register  # noqa: F401
    from imitate.tasks.pusht import GOAL_POSE, place

    env = gym.make("imitate/PushT-v0")
    env.reset(seed=0)
    inner = env.unwrapped._env
    place(inner, 0, (40.0, 40.0), GOAL_POSE)
    _, reward, terminated, truncated, info = env.step(np.array([40 / 256 - 1, 40 / 256 - 1], np.float32))
    assert terminated and not truncated and info["is_success"] and reward == pytest.approx(1.0)
    assert info["coverage"] > 0.95
