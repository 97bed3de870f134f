"""`imitate eval RUN --video` end to end on both humanoid tasks: the policy beside its reference,
drawn by the stick figure (MuJoCo's renderer is made to fail, as on a machine without OpenGL)."""

import json

import imageio.v2 as imageio
import pytest

from imitate.cli import main
from imitate.viz import gl

TINY = ["num_envs=4", "rollout_steps=16", "total_steps=64", "hidden=16,16", "progress=false", "eval_episodes=2"]


@pytest.fixture
def no_opengl(monkeypatch):
    monkeypatch.setattr(gl, "render_with", lambda *args: "no GL in tests")


def _train_and_eval(tmp_path, capsys, *train_args: str) -> dict:
    assert main(["train", *train_args, f"out_dir={tmp_path}", *TINY]) == 0
    run = next(tmp_path.glob("*/*/*/config.yaml")).parent
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "2", "--video"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "task, algo, extra",
    [("humanoid", "ppo", ["episode_seconds=1.0"]), ("humanoid-walk", "deepmimic", ["episode_seconds=1.0"])],
)
def test_eval_video_puts_the_policy_beside_its_reference(tmp_path, capsys, no_opengl, task, algo, extra):
    metrics = _train_and_eval(tmp_path, capsys, task, algo, *extra)
    assert metrics["video_renderer"] == "stick" and "right:" in metrics["video_layout"]
    frames = imageio.mimread(metrics["video"], memtest=False)
    height, width = frames[0].shape[:2]
    assert width == 2 * height and len(frames) >= 2  # two square panels
