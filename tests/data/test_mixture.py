"""Mixtures of data sets: equal shares of whole episodes, drawn by the seed, from alike sources."""

from __future__ import annotations

import numpy as np
import pytest

from imitate.data.dataset import Demonstrations
from imitate.data.mixture import mix
from imitate.utils.errors import DatasetError

LAYOUT = [["position", 2], ["velocity", 1]]


def _source(tag: int, episodes: int, obs_dim: int = 3, **metadata) -> Demonstrations:
    """Episodes of 4 rows whose observations say which source (tag) and episode they are."""
    obs = [np.full((4, obs_dim), 100.0 * tag + e) for e in range(episodes)]
    actions = [np.full((4, 2), float(tag)) for _ in range(episodes)]
    meta = {"task": "walker-walk", "policy": f"p{tag}", "obs_layout": LAYOUT, "action_repeat": 2, **metadata}
    meta.setdefault("episode_returns", [10.0 * tag + e for e in range(episodes)])
    return Demonstrations.from_episodes(obs, actions, **meta)


def _identity(demos: Demonstrations) -> list[tuple[int, int]]:
    """(source tag, episode) of every episode of a mixture of ``_source`` data sets."""
    return [(int(e[0, 0] // 100), int(e[0, 0] % 100)) for e in demos.episodes()]


def test_equal_shares_drawn_without_replacement_in_file_order():
    sources = [("a", _source(0, 10)), ("b", _source(1, 6)), ("c", _source(2, 8))]
    mixed = mix(sources, "walker-walk", episodes=12, seed=3, option_keys=("action_repeat",))
    ids = _identity(mixed)
    assert [tag for tag, _ in ids] == [0] * 4 + [1] * 4 + [2] * 4
    assert mixed.metadata["episode_component"] == [0] * 4 + [1] * 4 + [2] * 4
    for i, component in enumerate(mixed.metadata["components"]):
        taken = [e for tag, e in ids if tag == i]
        assert taken == component["taken"] == sorted(set(taken))
        assert component["file"] == "abc"[i] and component["policy"] == f"p{i}"
    assert np.array_equal(mixed.actions[:, 0], np.repeat([0.0, 1.0, 2.0], 16))  # actions travel with their obs
    returns = [10.0 * tag + e for tag, e in ids]
    assert mixed.metadata["episode_returns"] == returns and mixed.metadata["skill_level"] == pytest.approx(
        np.mean(returns)
    )
    assert mixed.metadata["obs_layout"] == LAYOUT and mixed.metadata["action_repeat"] == 2
    assert mixed.metadata["source"] == "mix"


def test_the_seed_picks_the_episodes():
    sources = [("a", _source(0, 20)), ("b", _source(1, 20))]
    one, same, other = (mix(sources, "walker-walk", 10, seed) for seed in (1, 1, 2))
    assert _identity(one) == _identity(same) and _identity(one) != _identity(other)


def test_default_size_is_the_smallest_source_times_the_sources():
    mixed = mix([("a", _source(0, 5)), ("b", _source(1, 3))], "walker-walk")
    assert mixed.num_episodes == 6 and sorted(e for _, e in _identity(mixed)[3:]) == [0, 1, 2]


def test_a_source_without_episode_returns_leaves_the_mixture_without_a_skill_level():
    plain = _source(1, 4)
    del plain.metadata["episode_returns"]
    mixed = mix([("a", _source(0, 4)), ("b", plain)], "walker-walk")
    assert "skill_level" not in mixed.metadata and "episode_returns" not in mixed.metadata


@pytest.mark.parametrize(
    "second, episodes, message",
    [
        (_source(1, 4, obs_dim=5), None, "b: observation size 5, but a has 3"),
        (_source(1, 4, obs_layout=[["x", 3]]), None, "b: obs_layout"),
        (_source(1, 4, action_repeat=4), None, "b: action_repeat 4, but a has 2"),
        (_source(1, 4, task="walker-run"), None, "b: demonstrations are for task 'walker-run'"),
        (_source(1, 4), 5, "needs a multiple of 2 episodes"),
        (_source(1, 2), 6, "b: has 2 episodes, the mixture takes 3 from each"),
    ],
)
def test_unlike_or_too_small_sources_are_refused(second, episodes, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        mix([("a", _source(0, 4)), ("b", second)], "walker-walk", episodes, option_keys=("action_repeat",))


def test_sources_with_and_without_actions_do_not_mix():
    bare = Demonstrations.from_episodes([np.zeros((4, 3))] * 2, task="walker-walk", obs_layout=LAYOUT)
    with pytest.raises(DatasetError, match="b: actions none, but a has 2 numbers"):
        mix([("a", _source(0, 2)), ("b", bare)], "walker-walk")
