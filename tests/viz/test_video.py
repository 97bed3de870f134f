"""Videos of evaluation episodes drawn in 2-D (``viz/video.write_episodes_video`` and each planar
task's writer): one frame per step of the longest episode shown, 400×400, written without OpenGL."""

import imageio.v2 as imageio
import mujoco
import numpy as np
import pytest
import torch

from imitate.eval.rollouts import evaluate_policy
from imitate.registry import TASKS
from imitate.viz import gl
from imitate.viz.video import write_episodes_video


@pytest.fixture
def no_opengl(monkeypatch):
    """Any use of MuJoCo's renderer or of the GL child fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a 2-D video must not need OpenGL")

    monkeypatch.setattr(mujoco, "Renderer", refuse)
    monkeypatch.setattr(gl, "render_with", refuse)


class ZeroPolicy:
    def act(self, obs, deterministic=True, generator=None):
        return torch.zeros(obs.shape[0], 2)


def test_episodes_play_together_and_an_ended_one_holds_its_last_state(tmp_path, no_opengl):
    drawn: list[int] = []
    episodes = [np.zeros((3, 2)), np.ones((5, 2))]
    path = write_episodes_video(
        episodes, tmp_path / "v.mp4", lambda ax: None, lambda ax, seen, color: drawn.append(len(seen)), fps=10
    )
    frames = imageio.mimread(path, memtest=False)
    assert len(frames) == 5 and frames[0].shape == (400, 400, 3)
    assert drawn == [1, 1, 2, 2, 3, 3, 3, 4, 3, 5]  # the 3-step episode stays at its end
    assert (
        len(imageio.mimread(write_episodes_video(episodes, tmp_path / "v.gif", lambda ax: None, lambda *a: None, 5)))
        == 5
    )


@pytest.mark.parametrize("task", ["particle", "block-push", "pusht"])
def test_task_video_of_a_real_rollout(tmp_path, no_opengl, task):
    """A zero-action policy's batched rollout; the video shows its first 4 episodes, here cut to
    their first 6 and 9 steps (full episodes are 50 to 150 steps) to keep the test short."""
    entry = TASKS[task]
    env = entry.make_env(5, seed=0)
    trajs = evaluate_policy(ZeroPolicy(), env, seed=0).trajectories
    assert len(trajs) == 5
    shown = [t[:6] for t in trajs[:3]] + [t[:9] for t in trajs[3:]]
    path = entry.write_video(shown, tmp_path / "videos" / "policy.mp4", title="zero policy")
    frames = imageio.mimread(path, memtest=False)
    assert len(frames) == 9 and frames[0].shape == (400, 400, 3)
    assert not np.array_equal(frames[0], frames[-1])  # the drawing moves with the episodes


def test_maze_video(tmp_path, no_opengl):
    paths = [np.linspace([20.0, 20.0], [20.0 + 30 * i, 400.0], 4 + i) for i in range(3)]
    frames = imageio.mimread(TASKS["maze"].write_video(paths, tmp_path / "maze.mp4"), memtest=False)
    assert len(frames) == 6 and frames[0].shape == (400, 400, 3)
