"""Weights & Biases, opt-in: a particle run with ``wandb=true`` writes an offline W&B run holding every
scalar its TensorBoard files hold, its config and its evaluation; a resume continues the same W&B
run id; without the key wandb is never imported. Offline only: no network, no login.

The offline runs are read back with wandb's own reader of its ``.wandb`` log
(``wandb leet inspect --json``: one JSON object per record)."""

import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from imitate.cli import main
from imitate.config import load_yaml

pytest.importorskip("wandb")

# particle episodes last 50 steps: 64 steps per env end one in every env, so episode/* is logged
TINY = [
    "num_envs=4",
    "rollout_steps=64",
    "minibatches=1",
    "epochs=1",
    "hidden=16,16",
    "eval_episodes=2",
    "progress=false",
]
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory):
    """One offline W&B directory for the module: wandb reads WANDB_DIR once per process."""
    path = tmp_path_factory.mktemp("wandb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_DIR", str(path))
        mp.setenv("WANDB_SILENT", "true")
        yield path


def _records(wandb_file: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(wandb_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _offline_runs(wandb_dir: Path, run_dir: Path) -> list[list[dict]]:
    """The records of each offline session of ``run_dir``'s W&B run, in the order they started
    (sessions started in the same second get directories suffixed -1, -2, ...)."""
    run_id = (run_dir / "wandb_id").read_text().strip()
    sessions = [_records(f) for f in (wandb_dir / "wandb").glob(f"offline-run-*/run-{run_id}.wandb")]
    return sorted(sessions, key=lambda records: datetime.fromisoformat(_run_record(records)["start_time"]))


def _history(records: list[dict]) -> list[dict]:
    return [r["history"]["item"] for r in records if r["type"] == "history"]


def _summary(records: list[dict]) -> dict:
    out: dict = {}
    for r in records:
        if r["type"] == "summary":
            out.update(r["summary"]["update"])
    return out


def _run_record(records: list[dict]) -> dict:
    (run,) = [r["run"] for r in records if r["type"] == "run"]
    return run


def _tensorboard(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(run_dir / "tb"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def _mirrored(history: list[dict], tag: str) -> list[tuple[int, float]]:
    return [(row["step"], row[tag]) for row in history if tag in row]


def _same(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> bool:
    return [s for s, _ in a] == [s for s, _ in b] and all(
        math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6) for (_, x), (_, y) in zip(a, b)
    )


@pytest.fixture(scope="module")
def trained(wandb_dir, tmp_path_factory):
    """A particle PPO run with wandb=true (4 iterations), then resumed for 2 more."""
    out = tmp_path_factory.mktemp("runs")
    keys = ["total_steps=1024", "wandb=true", "wandb_group=tests", f"out_dir={out}"]
    assert main(["train", "particle", "ppo", *TINY, *keys]) == 0
    (run_dir,) = (out / "particle" / "ppo").iterdir()
    first = _offline_runs(wandb_dir, run_dir), _tensorboard(run_dir), load_yaml(run_dir / "config.yaml")
    assert main(["train", "particle", "ppo", f"resume={run_dir}", "total_steps=1536"]) == 0
    return run_dir, first, _offline_runs(wandb_dir, run_dir)


def test_every_tensorboard_scalar_is_in_wandb(trained):
    run_dir, ((training, evaluation), tb, config_yaml), _ = trained  # W&B sessions: the training, its evaluation
    history = _history(training)
    assert len(tb) >= 12  # loss/*, policy/*, episode/*, reward/task
    assert [tag for tag in tb if not _same(_mirrored(history, tag), tb[tag])] == []
    assert [row["step"] for row in history] == [256, 512, 768, 1024]
    run = _run_record(training)
    config = {k: v for k, v in run["config"]["update"].items() if k != "_wandb"}
    assert config == config_yaml
    assert run["display_name"] == f"particle/ppo/{run_dir.name}" and run["run_group"] == "tests"
    assert _summary(evaluation)["eval/env_steps"] == 1024 and "eval/success_rate" in _summary(evaluation)


def test_a_resume_continues_the_same_wandb_run(trained):
    run_dir, (first, _, _), runs = trained
    run_id = (run_dir / "wandb_id").read_text().strip()
    assert len(run_id) == 8
    assert [_run_record(r)["run_id"] for r in runs] == [run_id] * 4  # train, eval, resumed train, eval
    resumed = _history(runs[2])
    assert [row["step"] for row in resumed] == [1280, 1536]
    tb = _tensorboard(run_dir)
    for tag in ("loss/policy", "episode/return"):
        assert _same(_mirrored(_history(first[0]), tag) + _mirrored(resumed, tag), tb[tag])
    summary = _summary(runs[3])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert summary["eval/env_steps"] == 1536
    assert math.isclose(summary["eval/success_rate"], metrics["success_rate"])


def test_an_evaluation_video_goes_to_wandb(wandb_dir, tmp_path):
    from imitate.utils.wandb_mirror import WandbMirror

    video = tmp_path / "policy.mp4"
    with imageio.get_writer(video, fps=10, codec="libx264", macro_block_size=8) as writer:
        for i in range(4):
            writer.append_data(np.full((16, 16, 3), 60 * i, dtype=np.uint8))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    mirror = WandbMirror(run_dir, {"task": "humanoid-walk", "algo": "deepmimic", "wandb": True})
    mirror.log_evaluation(300, {"video": str(video), "video_renderer": "stick", "tracking": 0.5})
    mirror.close()
    (records,) = _offline_runs(wandb_dir, run_dir)
    (row,) = _history(records)
    assert row["step"] == 300 and row["eval/video._type"] == "video-file"
    assert _summary(records)["eval/tracking"] == 0.5 and "eval/video_renderer" not in _summary(records)
    (copied,) = (wandb_dir / "wandb").glob(f"offline-run-*/files/{row['eval/video.path']}")
    assert copied.read_bytes() == video.read_bytes()


def test_without_the_key_wandb_is_never_imported(tmp_path):
    code = (
        "import sys\n"
        "from imitate.cli import main\n"
        f"assert main({['train', 'particle', 'ppo', *TINY, 'total_steps=256', f'out_dir={tmp_path}']!r}) == 0\n"
        "print('wandb' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": SRC}
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_wandb_missing_is_one_line_before_any_work(tmp_path, monkeypatch, capsys, trained):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else find_spec(name, *a))
    assert main(["train", "particle", "ppo", *TINY, "wandb=true", f"out_dir={tmp_path}"]) == 2
    assert main(["train", "particle", "ppo", f"resume={trained[0]}", "total_steps=2048"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["imitate: error: wandb=true needs the wandb package: pip install 'imitate[wandb]'"] * 2
    assert not (tmp_path / "particle").exists()
    assert json.loads((trained[0] / "metrics.json").read_text())["env_steps"] == 1536  # the run as it was


def test_wandb_mode_is_checked(capsys):
    assert main(["config", "particle", "ppo", "wandb_mode=sometimes"]) == 2
    assert capsys.readouterr().err == (
        "imitate: error: wandb_mode must be empty or one of online, offline, disabled, got 'sometimes'\n"
    )
    assert main(["config", "particle", "ppo", "wandb_mode=offline"]) == 0
