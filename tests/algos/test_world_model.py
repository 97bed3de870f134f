"""AIME phase 1 as a run (``imitate train TASK world-model``): training logs and evaluation of a
tiny run on maze demonstrations recorded with a two-group layout, and the refusals: data without
actions, and a world model of another observation layout (on resume and on loading)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from imitate.algos.world_model import load_world_model
from imitate.cli import main
from imitate.data.dataset import Demonstrations
from imitate.utils.errors import CheckpointError

TINY = ["iterations=20", "deter=16", "stoch=4", "units=16", "batch_size=8", "seq_len=8", "eval_horizon=10"]
COMMON = ["checkpoint_every=10", "progress=false"]


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> dict[str, Path]:
    """Maze demonstrations as recorded (one group ``obs``), with a layout x | y, without actions."""
    root = tmp_path_factory.mktemp("demos")
    plain = root / "maze.npz"
    assert main(["data", "maze", "--episodes", "10", "--out", str(plain), "--no-progress"]) == 0
    data = Demonstrations.load(plain)
    grouped = Demonstrations(
        data.obs, data.episode_ends, data.actions, {**data.metadata, "obs_layout": [["x", 1], ["y", 1]]}
    )
    grouped.save(root / "grouped.npz")
    Demonstrations(data.obs, data.episode_ends, None, data.metadata).save(root / "no_actions.npz")
    return {"plain": plain, "grouped": root / "grouped.npz", "no_actions": root / "no_actions.npz"}


@pytest.fixture(scope="module")
def grouped_run(demos, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "maze", "world-model", f"demos={demos['grouped']}", *TINY, *COMMON, f"out_dir={out}"]) == 0
    (config,) = out.rglob("config.yaml")
    return config.parent


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error:"), err
    return err


def test_a_run_logs_each_group_and_evaluates_held_out_episodes(grouped_run):
    rows = [json.loads(line) for line in (grouped_run / "progress.jsonl").read_text().splitlines()]
    expected = {"world_model/loss", "world_model/kl", "world_model/elbo", "world_model/nll_x", "world_model/nll_y"}
    assert expected <= set(rows[-1]) and rows[-1]["step"] == 20
    metrics = json.loads((grouped_run / "metrics.json").read_text())
    assert metrics["eval_split"] == "heldout" and metrics["heldout_episodes"] == 1 == metrics["eval_episodes"]
    for key in ("heldout_kl", "heldout_elbo", "heldout_nll_x", "heldout_mse_y", "heldout_open_loop_mse"):
        assert np.isfinite(metrics[key]), key
    assert metrics["open_loop_context"] == 5 and 1 <= metrics["open_loop_horizon"] <= 10
    assert (grouped_run / "plots" / "open_loop.png").stat().st_size > 0
    assert any((grouped_run / "tb").iterdir())


def test_a_world_model_of_another_layout_is_refused(grouped_run, demos, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(grouped_run, run)
    before = _snapshot(run)
    capsys.readouterr()
    assert main(["train", "maze", "world-model", f"resume={run}", f"demos={demos['plain']}", "iterations=30"]) == 2
    err = _error(capsys)
    assert "the world model observes x:1, y:1; the data has obs:2" in err, err
    assert _snapshot(run) == before
    with pytest.raises(CheckpointError, match="observes x:1, y:1; the data has obs:2"):
        load_world_model(run, (("obs", 2),), 2)
    with pytest.raises(CheckpointError, match="takes 2 action numbers; the data has 3"):
        load_world_model(run, (("x", 1), ("y", 1)), 3)
    model = load_world_model(run, (("x", 1), ("y", 1)), 2)
    assert not any(p.requires_grad for p in model.parameters())


def test_data_without_actions_is_refused_in_one_line(demos, tmp_path, capsys):
    argv = ["train", "maze", "world-model", f"demos={demos['no_actions']}", *TINY, f"out_dir={tmp_path}"]
    assert main(argv) == 2
    assert "no 'actions' array; 'world-model' learns from (observation, action) pairs" in _error(capsys)
    assert not list(tmp_path.rglob("config.yaml"))
    assert main(["train", "humanoid", "world-model", f"out_dir={tmp_path}"]) == 2  # observation-only oracle
    assert "world-model needs demos=PATH with actions" in _error(capsys)


def test_episodes_shorter_than_a_window_are_refused_in_one_line(demos, tmp_path, capsys):
    argv = ["train", "maze", "world-model", f"demos={demos['plain']}", "seq_len=1000", f"out_dir={tmp_path}"]
    assert main(argv) == 2
    assert "no training episode has seq_len=1000 observations" in _error(capsys)
    assert not list(tmp_path.rglob("config.yaml"))
