"""`imitate data TASK --format minari` and `demos=minari:ID | DIR` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

from imitate.cli import main
from imitate.data.dataset import Demonstrations

minari = pytest.importorskip("minari")

TINY_MSE = ["iterations=20", "eval_episodes=2", "width=16", "progress=false"]
TINY_ENERGY = ["iterations=20", "hidden=16,16", "progress=false"]


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari-root"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error:") and "Traceback" not in err, err
    return err


def test_data_then_bc_and_energy_from_minari(root, capsys):
    assert main(["data", "maze", "--episodes", "6", "--format", "minari", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"to minari:imitate/maze-oracle-v0 ({root / 'minari-root' / 'imitate' / 'maze-oracle-v0'})" in out
    assert main(["data", "maze", "--episodes", "6", "--format", "minari", "--out", "ds", "--no-progress"]) == 0
    assert main(["data", "maze", "--episodes", "6", "--out", "maze.npz", "--no-progress"]) == 0
    npz = Demonstrations.load("maze.npz", task="maze")
    for source in ("minari:imitate/maze-oracle-v0", "ds"):
        demos = Demonstrations.load(source, task="maze")
        assert np.array_equal(demos.obs, npz.obs) and np.array_equal(demos.actions, npz.actions)
        assert np.array_equal(demos.episode_ends, npz.episode_ends)
        assert {**demos.metadata, "format": npz.metadata["format"]} == npz.metadata

    capsys.readouterr()
    assert main(["train", "maze", "mse", "demos=minari:imitate/maze-oracle-v0", "out_dir=runs", *TINY_MSE]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert metrics["demo_pairs"] == len(npz.obs) and metrics["iterations"] == 20
    assert main(["train", "maze", "energy", "demos=ds", "out_dir=runs", *TINY_ENERGY]) == 0
    metrics = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert metrics["task"] == "maze" and np.isfinite(metrics["dsm_loss"])


def _observation_only(root, obs_dim: int):
    """A dataset written by Minari, with no actions (the (0,) action space) and ``obs_dim`` numbers."""
    from minari.data_collector import EpisodeBuffer

    buffers = [
        EpisodeBuffer(
            id=0,
            observations=np.random.default_rng(0).random((6, obs_dim)),
            actions=np.zeros((5, 0), np.float32),
            rewards=np.zeros(5),
            terminations=np.zeros(5, bool),
            truncations=np.arange(5) == 4,
        )
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minari.create_dataset_from_buffers(
            f"someone/obs{obs_dim}-v0",
            buffers,
            observation_space=gym.spaces.Box(-np.inf, np.inf, (obs_dim,)),
            action_space=gym.spaces.Box(-1, 1, (0,)),
        )


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "maze", "energy", "demos=minari:imitate/nothing-v0"], "no Minari dataset 'imitate/nothing-v0'"),
        (
            ["train", "maze", "energy", "demos=minari:someone/obs3-v0"],
            "observations have 3 numbers, task 'maze' observes 2",
        ),
        (
            ["train", "maze", "mse", "demos=minari:someone/obs2-v0"],
            "no 'actions' array; 'mse' learns from (observation, action) pairs",
        ),
        (["train", "maze", "amp", "demos=minari:someone/obs3-v0"], "observations have 3 numbers"),
        (["data", "maze", "--episodes", "2", "--out", "minari:imitate/x-v0"], "needs --format minari"),
        (
            ["data", "maze", "--episodes", "2", "--format", "minari", "--out", "minari:bad id"],
            "not a Minari dataset id",
        ),
    ],
    ids=["unknown-id", "obs-shape", "bc-without-actions", "amp-obs-shape", "id-without-format", "bad-id"],
)
def test_bad_minari_input_is_one_line(argv, expected, root, capsys):
    _observation_only(root, 3)
    _observation_only(root, 2)
    if argv[0] == "train":
        argv = [*argv, "out_dir=runs", "progress=false"]
    assert main(argv) == 2
    assert expected in _one_error_line(capsys)
    assert not (root / "runs").exists() and not (root / "data").exists()


def test_observation_only_energy_trains_from_minari(root, capsys):
    _observation_only(root, 2)
    assert main(["train", "maze", "energy", "demos=minari:someone/obs2-v0", "out_dir=runs", *TINY_ENERGY]) == 0


def test_an_existing_dataset_is_refused_and_kept(root, capsys):
    assert main(["data", "maze", "--episodes", "2", "--format", "minari", "--out", "ds", "--no-progress"]) == 0
    before = (root / "ds" / "data" / "main_data.hdf5").read_bytes()
    assert main(["data", "maze", "--episodes", "3", "--format", "minari", "--out", "ds", "--no-progress"]) == 2
    assert "already exists; Minari datasets are not overwritten" in _one_error_line(capsys)
    assert (root / "ds" / "data" / "main_data.hdf5").read_bytes() == before


def test_without_minari_the_error_names_the_extra(root, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)
    assert main(["data", "maze", "--episodes", "2", "--format", "minari", "--no-progress"]) == 2
    assert "pip install 'imitate[minari]'" in _one_error_line(capsys)
    assert main(["train", "maze", "energy", "demos=minari:imitate/maze-oracle-v0", "out_dir=runs"]) == 2
    assert "pip install 'imitate[minari]'" in _one_error_line(capsys)


def test_minari_is_imported_only_when_used():
    code = "import sys, imitate, imitate.cli, imitate.data.dataset, imitate.runner; print('minari' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
