"""`imitate eval RUN --video` end to end: on both humanoid tasks the policy beside its reference,
drawn by the stick figure (MuJoCo's renderer is made to fail, as on a machine without OpenGL); on
the planar tasks, behavioural-cloning runs' episodes drawn from above; on the DeepMind Control
walker, a PPO run's first episodes in the side view."""

import json

import imageio.v2 as imageio
import pytest

from imitate.cli import main
from imitate.viz import gl
from tests.conformance.test_algorithms import COMMON
from tests.conformance.test_algorithms import TINY as TINY_ALGO

TINY = ["num_envs=4", "rollout_steps=16", "total_steps=64", "hidden=16,16", "progress=false", "eval_episodes=2"]


@pytest.fixture
def no_opengl(monkeypatch):
    monkeypatch.setattr(gl, "render_with", lambda *args: "no GL in tests")


def _train_and_eval(tmp_path, capsys, *train_args: str, tiny=TINY, episodes: int = 2) -> dict:
    assert main(["train", *train_args, f"out_dir={tmp_path}", *tiny]) == 0
    run = next(tmp_path.glob("*/*/*/config.yaml")).parent
    capsys.readouterr()
    return _eval_video(capsys, str(run), episodes)


def _eval_video(capsys, run: str, episodes: int) -> dict:
    assert main(["eval", run, "--episodes", str(episodes), "--video"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    metrics = json.loads(lines[-1])
    assert lines[-2].startswith(f"video: {metrics['video']}")  # the humanoid's adds its renderer
    return metrics


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


def _one_episode_video(metrics: dict) -> None:
    """One evaluation episode: a frame per observation (reset through final), 400×400."""
    frames = imageio.mimread(metrics["video"], memtest=False)
    assert metrics["episodes"] == 1 and len(frames) == metrics["episode_length"] + 1
    assert frames[0].shape == (400, 400, 3)


def test_eval_video_of_a_tiny_particle_bc_run(tmp_path, capsys, no_opengl):
    _one_episode_video(
        _train_and_eval(tmp_path, capsys, "particle", "mse", tiny=[*TINY_ALGO["mse"], *COMMON], episodes=1)
    )


def test_eval_video_of_the_pretrained_particle_ibc_run(tmp_path, capsys, monkeypatch, no_opengl):
    monkeypatch.chdir(tmp_path)
    _one_episode_video(_eval_video(capsys, "pretrained:particle/ibc-dfo", 1))


@pytest.mark.slow  # 100- and 150-step episodes: about 10 s of drawing each on a busy machine
@pytest.mark.parametrize("task, algo", [("block-push", "ibc-langevin"), ("pusht", "mdn")])
def test_eval_video_of_tiny_planar_bc_runs(tmp_path, capsys, no_opengl, task, algo):
    metrics = _train_and_eval(tmp_path, capsys, task, algo, tiny=[*TINY_ALGO[algo], *COMMON], episodes=1)
    _one_episode_video(metrics)
    assert ("success_rate_tol_0.01" in metrics) == (task == "block-push")


def test_eval_video_of_a_tiny_walker_stand_ppo_run(tmp_path, capsys, no_opengl):
    pytest.importorskip("dm_control")
    metrics = _train_and_eval(tmp_path, capsys, "walker-stand", "ppo", "action_repeat=100", episodes=3)
    assert metrics["video"].endswith("videos/policy.mp4") and metrics["video_renderer"] == "stick"
    frames = imageio.mimread(metrics["video"], memtest=False)
    assert metrics["episodes"] == 3 and metrics["video_episodes"] == 2  # the first two, side by side
    assert len(frames) == metrics["episode_length"] == 10 and frames[0].shape == (320, 640, 3)
    run = metrics["video"].rsplit("/videos/", 1)[0]
    assert json.load(open(f"{run}/metrics.json"))["video_renderer"] == "stick"


def test_eval_video_of_a_tiny_walker_stand_bc_run_on_random_data(tmp_path, capsys, no_opengl):
    """The BC evaluators record the same video (the data: `imitate data --policy random`)."""
    pytest.importorskip("dm_control")
    demos = tmp_path / "demos.npz"
    argv = ["data", "walker-stand", "action_repeat=100", "--policy", "random", "--episodes", "4", "--out", str(demos)]
    assert main(argv) == 0
    tiny = [*TINY_ALGO["mse"], *COMMON, f"demos={demos}", "action_repeat=100"]
    metrics = _train_and_eval(tmp_path / "runs", capsys, "walker-stand", "mse", tiny=tiny, episodes=2)
    frames = imageio.mimread(metrics["video"], memtest=False)
    assert metrics["video_renderer"] == "stick" and len(frames) == metrics["episode_length"] == 10
