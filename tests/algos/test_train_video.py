"""video_every=N: a video of env 0's latest episode every N iterations, noted in TensorBoard."""

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from imitate import runner
from imitate.config import ConfigError

TINY = {
    "num_envs": "2",
    "rollout_steps": "8",
    "total_steps": "48",  # 3 iterations
    "episode_seconds": "0.2",  # 6-step episodes: env 0 finishes one in every iteration
    "hidden": "16,16",
    "eval_episodes": "1",
    "progress": "false",
}


def test_videos_are_written_and_noted_in_tensorboard(tmp_path, monkeypatch):
    import imitate.viz.gl

    monkeypatch.setattr(imitate.viz.gl, "backends_to_try", lambda: ((), False))  # the stick figure: no GL child
    run = runner.train("humanoid-walk", "deepmimic", {**TINY, "video_every": "2", "out_dir": str(tmp_path)})
    videos = sorted(p.name for p in (run.dir / "videos").glob("train_*.mp4"))
    assert videos == ["train_000002.mp4"]  # iterations 2 (of 1-3); eval writes no video without --video
    assert (run.dir / "videos" / videos[0]).stat().st_size > 1000
    events = EventAccumulator(str(run.dir / "tb"), size_guidance={"tensors": 0}).Reload()
    notes = events.Tensors("media/video/text_summary")
    assert len(notes) == 1 and notes[0].step == 2 * 16
    assert "videos/train_000002.mp4 (stick renderer)" in notes[0].tensor_proto.string_val[0].decode()
    lines = [json.loads(x) for x in (run.dir / "progress.jsonl").read_text().splitlines()]
    assert [x["policy/learning_rate"] for x in lines] == [3e-4] * 3


def test_a_video_due_while_one_renders_comes_later_and_the_last_at_the_end(tmp_path, monkeypatch):
    import imitate.viz.gl

    monkeypatch.setattr(imitate.viz.gl, "backends_to_try", lambda: ((), False))
    run = runner.train("humanoid-walk", "deepmimic", {**TINY, "video_every": "1", "out_dir": str(tmp_path)})
    videos = sorted(p.name for p in (run.dir / "videos").glob("train_*.mp4"))
    assert videos[0] == "train_000001.mp4" and videos[-1] == "train_000003.mp4"  # the last: made before the end
    events = EventAccumulator(str(run.dir / "tb"), size_guidance={"tensors": 0}).Reload()
    assert len(events.Tensors("media/video/text_summary")) == len(videos)  # every video noted once


def test_videos_only_for_a_character(tmp_path):
    with pytest.raises(ConfigError, match="video_every needs a humanoid task; 'particle'"):
        runner.train("particle", "ppo", {"video_every": "1", "out_dir": str(tmp_path), "progress": "false"})
    assert not any(tmp_path.rglob("config.yaml"))  # refused before a run existed
