"""Dataset round-trip and the one-line errors for bad files."""

import json

import numpy as np
import pytest

from imitate.data.dataset import DatasetError, Demonstrations


def _demos() -> Demonstrations:
    rng = np.random.default_rng(0)
    eps = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 7, 3)]
    acts = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 7, 3)]
    return Demonstrations.from_episodes(eps, acts, task="maze", source="test")


def test_round_trip(tmp_path):
    demos = _demos()
    path = demos.save(tmp_path / "d.npz")
    loaded = Demonstrations.load(path, task="maze")
    assert np.array_equal(loaded.obs, demos.obs) and np.array_equal(loaded.actions, demos.actions)
    assert loaded.episode_ends.tolist() == [5, 12, 15]
    assert loaded.metadata["source"] == "test" and loaded.num_episodes == 3
    pairs = loaded.transitions()
    assert pairs.shape == (4 + 6 + 2, 4)  # no pair crosses an episode boundary
    assert np.allclose(pairs[4, :2], demos.obs[5]) and np.allclose(pairs[4, 2:], demos.obs[6])


def test_observation_only(tmp_path):
    demos = Demonstrations(obs=np.zeros((4, 3)), episode_ends=[4], metadata={"task": "x"})
    loaded = Demonstrations.load(demos.save(tmp_path / "o.npz"))
    assert loaded.actions is None and loaded.obs.shape == (4, 3)


def test_save_leaves_no_temp_files(tmp_path):
    _demos().save(tmp_path / "d.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]


@pytest.mark.parametrize(
    "problem, match",
    [
        ("missing", "not found"),
        ("garbage", "not a readable"),
        ("truncated", "not a readable"),
        ("no_obs", "missing array 'obs'"),
        ("bad_ends", "episode_ends"),
        ("nan", "NaN"),
        ("wrong_task", "not 'maze'"),
        ("bad_format", "format"),
    ],
)
def test_corrupt_files_raise_one_line(tmp_path, problem, match):
    path = tmp_path / "bad.npz"
    good = _demos()
    meta = json.dumps({"format": "imitate-demos/1", "task": "maze"})
    if problem == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif problem == "truncated":
        good.save(path)
        path.write_bytes(path.read_bytes()[:100])
    elif problem == "no_obs":
        np.savez(path, episode_ends=np.array([3]), metadata=np.array(meta))
    elif problem == "bad_ends":
        np.savez(path, obs=np.zeros((5, 2), np.float32), episode_ends=np.array([2, 9]), metadata=np.array(meta))
    elif problem == "nan":
        obs = np.zeros((5, 2), np.float32)
        obs[2, 1] = np.nan
        np.savez(path, obs=obs, episode_ends=np.array([5]), metadata=np.array(meta))
    elif problem == "wrong_task":
        Demonstrations(obs=np.zeros((4, 2)), episode_ends=[4], metadata={"task": "pusht"}).save(path)
    elif problem == "bad_format":
        np.savez(
            path,
            obs=np.zeros((5, 2), np.float32),
            episode_ends=np.array([5]),
            metadata=np.array(json.dumps({"format": "other/9", "task": "maze"})),
        )
    with pytest.raises(DatasetError, match=match) as info:
        Demonstrations.load(path, task="maze")
    assert "\n" not in str(info.value)


def test_invalid_in_memory_dataset():
    with pytest.raises(DatasetError, match="actions"):
        Demonstrations(obs=np.zeros((4, 2)), episode_ends=[4], actions=np.zeros((3, 2)))
    with pytest.raises(DatasetError, match="episode_ends"):
        Demonstrations(obs=np.zeros((4, 2)), episode_ends=[1, 4])
