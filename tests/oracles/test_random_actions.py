"""Random-action embodiment episodes: every episode kept whole, actions uniform in [-1, 1] as the
env received them, the task options recorded, and the same seed the same data."""

from __future__ import annotations

import numpy as np
import torch

from imitate.oracles.collect import chunk_seed
from imitate.oracles.random_actions import random_action_episodes
from imitate.registry import get_task
from imitate.tasks.particle_options import ParticleOptions


def test_every_episode_is_kept_whole_with_its_actions():
    task = get_task("particle")
    data = random_action_episodes(task, 7, seed=3, cfg=ParticleOptions(n_dim=3))
    assert data.num_episodes == 7 and data.actions is not None
    assert data.obs.shape[1] == 12 and data.actions.shape[1] == 3
    assert (np.diff(data.episode_ends, prepend=0) == 51).all()  # 50 steps, reset to final observation
    assert np.abs(data.actions).max() <= 1.0 and data.actions.std() > 0.5
    assert data.metadata["n_dim"] == 3 and data.metadata["source"] == "random actions"
    again = random_action_episodes(task, 7, seed=3, cfg=ParticleOptions(n_dim=3))
    assert np.array_equal(data.obs, again.obs) and np.array_equal(data.actions, again.actions)
    other = random_action_episodes(task, 7, seed=4, cfg=ParticleOptions(n_dim=3))
    assert not np.array_equal(data.actions, other.actions)


def test_the_first_observations_follow_the_recorded_actions():
    """Replaying the recorded actions from the same reset reproduces the observations."""
    task = get_task("particle")
    data = random_action_episodes(task, 1, seed=5)
    assert data.actions is not None
    env_seed = chunk_seed(5, 0)  # the first chunk's env seed
    env = task.make_env(1, seed=env_seed)
    obs = env.reset(seed=env_seed)
    for t in range(50):
        assert np.allclose(obs.numpy()[0], data.obs[t], atol=1e-6)
        obs = env.step(torch.from_numpy(data.actions[t : t + 1])).obs
