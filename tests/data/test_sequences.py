"""Demonstrations as world-model sequences: previous actions, windows, the held-out split, layouts."""

from __future__ import annotations

import numpy as np
import pytest

from imitate.data.dataset import Demonstrations
from imitate.data.sequences import obs_layout, previous_actions, split_episodes, window_starts
from imitate.utils.errors import DatasetError

ENDS = np.array([3, 8, 10])  # episodes of 3, 5 and 2 rows


def test_previous_actions_shift_inside_episodes_and_start_at_zero():
    actions = np.arange(10, dtype=np.float32)[:, None]
    prev = previous_actions(actions, ENDS)[:, 0]
    assert prev.tolist() == [0, 0, 1, 0, 3, 4, 5, 6, 0, 8]


def test_windows_lie_inside_one_episode():
    assert window_starts(ENDS, np.array([0, 1, 2]), 3).tolist() == [0, 3, 4, 5]
    assert window_starts(ENDS, np.array([1]), 2, stride=2).tolist() == [3, 5]  # non-overlapping
    assert window_starts(ENDS, np.array([2]), 3).tolist() == []  # the episode is too short


def test_split_holds_out_whole_episodes_by_the_seed():
    train, held = split_episodes(10, 0.2, seed=0)
    assert len(held) == 2 and sorted([*train, *held]) == list(range(10))
    assert np.array_equal(held, split_episodes(10, 0.2, seed=0)[1])
    assert len(split_episodes(4, 0.1, seed=0)[1]) == 1  # at least one when holding out
    assert len(split_episodes(1, 0.5, seed=0)[0]) == 1  # never every episode
    assert len(split_episodes(10, 0.0, seed=0)[1]) == 0


def test_layout_from_metadata_or_one_group():
    obs = np.zeros((4, 3), dtype=np.float32)
    demos = Demonstrations(obs, np.array([2, 4]))
    assert obs_layout(demos) == (("obs", 3),)
    demos.metadata["obs_layout"] = [["position", 2], ["extra", 1]]
    assert obs_layout(demos) == (("position", 2), ("extra", 1))
    demos.metadata["obs_layout"] = [["position", 2]]
    with pytest.raises(DatasetError, match="do not add up to the 3 observation numbers"):
        obs_layout(demos, "d.npz")
    demos.metadata["obs_layout"] = "position"
    with pytest.raises(DatasetError, match="must be a list of"):
        obs_layout(demos, "d.npz")
