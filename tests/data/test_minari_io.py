"""Minari datasets: our demonstrations -> Minari -> ours is exact; foreign and bad datasets."""

from __future__ import annotations

import dataclasses
import json
import warnings

import gymnasium as gym
import numpy as np
import pytest

from imitate.data import minari_io
from imitate.data.dataset import Demonstrations
from imitate.gym import env_spec
from imitate.registry import get_task
from imitate.utils.errors import DatasetError

minari = pytest.importorskip("minari")
from minari.data_collector import EpisodeBuffer  # noqa: E402


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    """Every dataset of these tests goes under a fresh Minari root."""
    root = tmp_path / "minari-root"
    monkeypatch.setenv(minari_io.ROOT_VARIABLE, str(root))
    return root


def _oracle(task: str, episodes: int, **options) -> Demonstrations:
    entry = get_task(task)
    return entry.run_oracle(episodes, seed=3, cfg=dataclasses.replace(entry.default_options(), **options))


def _write(demos: Demonstrations, out: str | None = None, **options) -> minari_io.MinariTarget:
    target = minari_io.minari_target(out, minari_io.default_dataset_id(demos.task))
    options = options or dataclasses.asdict(get_task(demos.task).default_options())
    return minari_io.write_minari(demos, target, env=env_spec(demos.task, options))


def _assert_same(a: Demonstrations, b: Demonstrations) -> None:
    assert np.array_equal(a.obs, b.obs) and a.obs.dtype == b.obs.dtype == np.float32
    assert np.array_equal(a.episode_ends, b.episode_ends) and b.episode_ends.dtype == np.int64
    assert (a.actions is None) == (b.actions is None)
    if a.actions is not None:
        assert np.array_equal(a.actions, b.actions) and b.actions.dtype == np.float32
    assert a.metadata == b.metadata


@pytest.mark.parametrize(
    "task, episodes, options",
    [("maze", 4, {}), ("pusht", 2, {}), ("particle", 3, {"n_dim": 3}), ("humanoid", 3, {})],
    ids=["maze", "pusht", "particle-3d", "humanoid-obs-only"],
)
def test_npz_to_minari_to_npz_is_exact(task, episodes, options, tmp_path):
    original = _oracle(task, episodes, **options)
    npz = Demonstrations.load(original.save(tmp_path / "demos.npz"), task=task)
    target = _write(npz, **({**dataclasses.asdict(get_task(task).default_options()), **options}))
    assert str(target).startswith(f"minari:imitate/{task}-oracle-v0 (")

    back = Demonstrations.load(f"minari:imitate/{task}-oracle-v0", task=task)
    _assert_same(npz, back)
    again = Demonstrations.load(back.save(tmp_path / "again.npz"), task=task)
    _assert_same(npz, again)

    # what a Minari user sees: T + 1 observations and T actions per episode, the task's spaces
    dataset = minari.load_dataset(f"imitate/{task}-oracle-v0")
    episodes_read = list(dataset.iterate_episodes())
    lengths = np.diff(npz.episode_ends, prepend=0)
    assert [len(e.observations) for e in episodes_read] == lengths.tolist()
    assert [len(e.actions) for e in episodes_read] == (lengths - 1).tolist()
    assert all(e.truncations[-1] and not e.truncations[:-1].any() and not e.terminations.any() for e in episodes_read)
    env = dataset.recover_environment()
    assert env.unwrapped.task == task and env.observation_space.shape == npz.obs.shape[1:]
    expected_actions = (0,) if npz.actions is None else env.action_space.shape
    assert dataset.action_space.shape == expected_actions
    assert dataset.spec.env_spec.kwargs == {
        "task": task,
        **dataclasses.asdict(get_task(task).default_options()),
        **options,
    }


def test_last_actions_that_are_not_repeats_survive(tmp_path):
    demos = _oracle("maze", 3)
    demos.actions[demos.episode_ends - 1] = np.float32([[0.25, -0.5], [0.125, 0.75], [-1.0, 1.0]])
    _write(demos, str(tmp_path / "ds"))
    _assert_same(demos, Demonstrations.load(tmp_path / "ds", task="maze"))
    _assert_same(demos, Demonstrations.load(tmp_path / "ds" / "data", task="maze"))
    # our oracles' repeated last action is not stored: a second dataset without the edit has none
    _write(_oracle("maze", 3), str(tmp_path / "plain"))
    assert "imitate_last_actions" not in json.loads((tmp_path / "plain" / "data" / "metadata.json").read_text())


def _foreign(dataset_id: str, obs_dim: int, act_dim: int = 2, env=None, steps=(5, 3)):
    """A dataset written by Minari itself (no imitate metadata) under the test's root."""
    rng = np.random.default_rng(0)
    buffers = [
        EpisodeBuffer(
            id=i,
            observations=rng.random((t + 1, obs_dim)),  # float64, as many envs give
            actions=rng.uniform(-1, 1, (t, act_dim)).astype(np.float32),
            rewards=np.ones(t),
            terminations=np.arange(t) == t - 1,
            truncations=np.zeros(t, dtype=bool),
        )
        for i, t in enumerate(steps)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return minari.create_dataset_from_buffers(
            dataset_id,
            buffers,
            env=env,
            observation_space=gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float64),
            action_space=gym.spaces.Box(-1, 1, (act_dim,), np.float32),
        )


def test_a_foreign_dataset_is_read_with_its_last_action_repeated():
    dataset = _foreign("someone/points-v1", obs_dim=2)
    demos = Demonstrations.load("minari:someone/points-v1", task="maze")  # no task recorded: sizes decide
    episodes = list(dataset.iterate_episodes())
    assert np.array_equal(demos.obs, np.concatenate([e.observations for e in episodes]).astype(np.float32))
    assert demos.episode_ends.tolist() == [6, 10]
    first = demos.actions[:6]
    assert np.array_equal(first[:5], episodes[0].actions) and np.array_equal(first[5], first[4])
    assert demos.metadata == {"source": "Minari dataset someone/points-v1", "minari_source": "minari:someone/points-v1"}


def test_a_foreign_dataset_of_our_gym_env_names_its_task():
    gym_env = env_spec("particle", {"n_dim": 1, "goal_order": "fixed"})
    _foreign("someone/particle-v0", obs_dim=4, act_dim=1, env=gym_env)
    demos = Demonstrations.load("minari:someone/particle-v0", task="particle")
    assert demos.metadata["task"] == "particle" and demos.metadata["n_dim"] == 1
    with pytest.raises(DatasetError, match=r"demonstrations are for task 'particle', not 'maze'"):
        Demonstrations.load("minari:someone/particle-v0", task="maze")


def test_our_dataset_of_another_task_is_refused():
    _write(_oracle("maze", 2))
    with pytest.raises(DatasetError, match=r"^minari:imitate/maze-oracle-v0: demonstrations are for task 'maze', not"):
        Demonstrations.load("minari:imitate/maze-oracle-v0", task="pusht")


@pytest.mark.parametrize(
    "source, message",
    [
        ("minari:imitate/nothing-v0", r"no Minari dataset 'imitate/nothing-v0' under .*minari download"),
        ("minari:not a/valid id!", r"not a Minari dataset id \(namespace/name-vN"),
    ],
)
def test_unknown_or_malformed_ids_are_one_line(source, message):
    with pytest.raises(DatasetError, match=message) as info:
        Demonstrations.load(source, task="maze")
    assert "\n" not in str(info.value)


def test_a_directory_that_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match=r"a directory, but not a Minari dataset \(no data/metadata.json\)"):
        Demonstrations.load(tmp_path, task="maze")


def test_a_corrupt_dataset_is_one_line(tmp_path):
    _write(_oracle("maze", 2), str(tmp_path / "ds"))
    (tmp_path / "ds" / "data" / "main_data.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(DatasetError, match=r"ds: not a readable Minari dataset \(OSError"):
        Demonstrations.load(tmp_path / "ds", task="maze")


def test_non_box_spaces_are_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minari.create_dataset_from_buffers(
            "someone/discrete-v0",
            [
                EpisodeBuffer(
                    id=0,
                    observations=np.zeros((3, 2)),
                    actions=np.array([0, 1]),
                    rewards=np.zeros(2),
                    terminations=np.zeros(2, bool),
                    truncations=np.ones(2, bool),
                )
            ],
            observation_space=gym.spaces.Box(-1, 1, (2,)),
            action_space=gym.spaces.Discrete(2),
        )
    with pytest.raises(DatasetError, match=r"the action space is Discrete\(2\); imitate reads flat Box"):
        Demonstrations.load("minari:someone/discrete-v0", task="maze")


def test_an_existing_dataset_is_never_overwritten(tmp_path):
    _write(_oracle("maze", 2))
    with pytest.raises(DatasetError, match=r"already exists; Minari datasets are not overwritten"):
        minari_io.minari_target(None, "imitate/maze-oracle-v0")
    with pytest.raises(DatasetError, match=r"writes a dataset directory, not an .npz file"):
        minari_io.minari_target(str(tmp_path / "x.npz"), "imitate/maze-oracle-v0")


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(minari, "create_dataset_from_buffers", fail)
    target = minari_io.minari_target(str(tmp_path / "out" / "ds"), "imitate/maze-oracle-v0")
    with pytest.raises(RuntimeError, match="disk full"):
        minari_io.write_minari(_oracle("maze", 2), target)
    assert list((tmp_path / "out").iterdir()) == []


def test_without_minari_installed_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "minari", None)
    with pytest.raises(DatasetError, match=r"pip install 'imitate\[minari\]' \(minari not installed\)"):
        minari_io.minari_target(None, "imitate/maze-oracle-v0")
