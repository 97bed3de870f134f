"""Demonstrations as sequences for a world model: the observation layout, the action before each
step, a held-out split of whole episodes, and the windows of consecutive steps inside episodes.

In the demonstration format (``data/dataset.py``) ``actions[t]`` is the action sent after
``obs[t]``, and each episode ends with its final observation (its last action repeated, unused
here). A world model steps on the action *before* each observation: ``previous_actions`` shifts
them by one inside each episode, zero at an episode's first step.
"""

from __future__ import annotations

import numpy as np

from imitate.data.dataset import Demonstrations
from imitate.utils.errors import DatasetError

LAYOUT_KEY = "obs_layout"  # metadata: [[group name, size], ...] in the order of the obs columns
WHOLE = "obs"  # the one group of a data set that records no layout


def obs_layout(demos: Demonstrations, where: str = "dataset") -> tuple[tuple[str, int], ...]:
    """The sensor groups of the observation vector: metadata ``obs_layout`` if recorded, else one
    group ``obs`` of every number."""
    recorded = demos.metadata.get(LAYOUT_KEY)
    if recorded is None:
        return ((WHOLE, int(demos.obs.shape[1])),)
    try:
        layout = tuple((str(name), int(size)) for name, size in recorded)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: metadata '{LAYOUT_KEY}' must be a list of [name, size] pairs") from None
    if sum(size for _, size in layout) != demos.obs.shape[1] or any(size < 1 for _, size in layout):
        raise DatasetError(
            f"{where}: metadata '{LAYOUT_KEY}' sizes {[s for _, s in layout]} do not add up to the "
            f"{demos.obs.shape[1]} observation numbers"
        )
    return layout


def episode_starts(episode_ends: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], episode_ends[:-1]]).astype(np.int64)


def previous_actions(actions: np.ndarray, episode_ends: np.ndarray) -> np.ndarray:
    """(T, act_dim): the action applied before each observation; zeros at each episode's start."""
    prev = np.zeros_like(actions)
    prev[1:] = actions[:-1]
    prev[episode_starts(episode_ends)] = 0.0
    return prev


def split_episodes(num_episodes: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) episode indices, sorted: a seeded draw of round(holdout · E) episodes,
    at least one when ``holdout`` > 0 and there are two or more, never all of them."""
    count = min(max(round(holdout * num_episodes), 1 if holdout > 0 else 0), num_episodes - 1)
    order = np.random.default_rng(seed).permutation(num_episodes)
    return np.sort(order[count:]), np.sort(order[:count])


def window_starts(episode_ends: np.ndarray, episodes: np.ndarray, length: int, stride: int = 1) -> np.ndarray:
    """Row indices s such that rows s .. s + length - 1 lie inside one of ``episodes``, every
    ``stride`` rows from each episode's start (1: every window, as AIME samples them)."""
    starts, ends = episode_starts(episode_ends), episode_ends
    out = [np.arange(starts[e], ends[e] - length + 1, stride) for e in episodes]
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def longest_episode(episode_ends: np.ndarray, episodes: np.ndarray) -> int:
    lengths = np.diff(episode_ends, prepend=0)
    return int(lengths[episodes].max()) if len(episodes) else 0
