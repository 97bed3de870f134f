"""The recorder of DeepMind Control videos: the first envs' qpos at every step of a real batched
rollout, played at real time; its video drawn by the side view when MuJoCo cannot render (the
OpenGL probe is mocked: no test here touches OpenGL)."""

import imageio.v2 as imageio
import numpy as np
import pytest
import torch

from imitate.eval.dmc import DmcVideoRecorder
from imitate.eval.rollouts import evaluate_policy
from imitate.tasks.dmc import DmcEnv
from imitate.tasks.dmc_options import DmcOptions
from imitate.viz import gl

pytest.importorskip("dm_control")


class Swinging:
    """Every motor at +1 on even steps, -1 on odd ones: a body that moves."""

    def __init__(self) -> None:
        self.t = 0

    def act(self, obs, deterministic=True, generator=None):
        self.t += 1
        return torch.full((len(obs), 6), 1.0 if self.t % 2 else -1.0)


@pytest.fixture
def no_opengl(monkeypatch):
    tried = []
    monkeypatch.setattr(gl, "render_with", lambda backend, *args: tried.append(backend) or "no GL in tests")
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    return tried


def _recorded(name: str, num_envs: int = 3, repeat: int = 100):
    env = DmcEnv(name, num_envs, seed=0, options=DmcOptions(action_repeat=repeat))
    recorder = DmcVideoRecorder(env)
    result = evaluate_policy(Swinging(), env, seed=0, observer=recorder)
    return recorder, result


@pytest.mark.parametrize("name", ["walker-stand", "cheetah-run"])
def test_the_side_view_writes_a_frame_per_env_step_without_opengl(name, tmp_path, no_opengl, capsys):
    recorder, result = _recorded(name)
    episodes = recorder.episodes()
    assert len(episodes) == 2 and all(q.shape == (10, 9) for q in episodes)  # 1000 / 100 steps, nq 9
    assert int(result.metrics()["episode_length"]) == 10
    assert not np.allclose(episodes[0][0], episodes[0][-1])  # it moved
    assert not np.allclose(episodes[0], episodes[1])  # two different starts
    metrics = recorder.write_video(tmp_path / "videos" / "policy.mp4", title="test")
    assert metrics["video_renderer"] == "stick" and metrics["video_episodes"] == 2
    assert no_opengl == ["egl", "osmesa"] and capsys.readouterr().err == ""  # unset MUJOCO_GL: quiet
    frames = imageio.mimread(metrics["video"], memtest=False)
    assert len(frames) == 10 and frames[0].shape == (320, 640, 3)  # two episodes side by side
    assert frames[0].astype(float).std() > 5 and not np.array_equal(frames[0], frames[-1])


def test_real_time_is_one_frame_per_env_step():
    walker = DmcVideoRecorder(DmcEnv("walker-stand", 1))  # 2 x 10 physics steps of 2.5 ms
    cheetah = DmcVideoRecorder(DmcEnv("cheetah-run", 1, options=DmcOptions(action_repeat=4)))  # 4 x 10 ms
    assert walker.fps() == pytest.approx(20.0) and cheetah.fps() == pytest.approx(25.0)


def test_only_the_first_envs_are_kept():
    recorder, _ = _recorded("walker-stand", num_envs=1)
    assert len(recorder.episodes()) == 1 and len(recorder.qpos) == 10 and recorder.qpos[0].shape == (1, 9)
