"""`imitate eval --video` on the imitation humanoid: the policy's best episode beside the clip
window it started from. Rendered with the stick figure, so the tests never need OpenGL."""

import imageio.v2 as imageio
import numpy as np
import pytest

from imitate.eval.humanoid import ImitationRecorder
from imitate.eval.rollouts import evaluate_policy
from imitate.tasks.humanoid.imitation import HumanoidEnv
from imitate.tasks.humanoid.options import HumanoidOptions
from imitate.viz import gl
from imitate.viz import motion as viz_motion

from .test_imitation_metrics import StandStill


@pytest.fixture
def no_opengl(monkeypatch):
    """Every OpenGL backend fails as on a machine without any GL: the stick figure draws."""
    monkeypatch.setattr(gl, "render_with", lambda *args: "no GL in tests")


def test_video_shows_the_best_episode_beside_its_clip(tmp_path, no_opengl):
    env = HumanoidEnv(3, seed=0, options=HumanoidOptions(motion="walk", episode_seconds=0.5))
    recorder = ImitationRecorder(env)
    evaluate_policy(StandStill(), env, seed=2, observer=recorder)
    out = recorder.write_video(tmp_path / "videos" / "policy.mp4", title="test policy")
    best = int(recorder.returns.argmax())
    steps = int(np.stack(recorder.alive, 1)[best].sum())
    frames = imageio.mimread(out["video"], memtest=False)
    assert out["video_renderer"] == "stick" and len(frames) == steps
    height, width = frames[0].shape[:2]
    assert width == 2 * height  # two square panels: policy left, reference right
    clip = recorder.env.spec.events["start"].params["lib"].names[recorder.start[0][best]]
    assert clip in out["video_layout"] and f"episode {best}" in out["video_layout"]


def test_the_reference_panel_starts_where_the_policy_did():
    """The clip window is placed in the episode's frame (random yaw at reset): frame 0 of both
    panels is the same state, so the two are seen from the same side."""
    env = HumanoidEnv(3, seed=0, options=HumanoidOptions(motion="walk", episode_seconds=0.5))
    recorder = ImitationRecorder(env)
    evaluate_policy(StandStill(), env, seed=4, observer=recorder)
    (_, policy), (_, reference) = recorder.video_panels()[0]
    assert len(policy) == len(reference) > 1
    np.testing.assert_allclose(policy[0], reference[0], atol=1e-6)
    assert np.abs(policy[-1] - reference[-1]).max() > 1e-2  # standing still is not the clip


def test_a_shorter_panel_holds_its_last_frame(tmp_path, no_opengl):
    qpos = viz_motion.clip_qpos("humanoid3d_walk", seconds=0.5, fps=10.0)  # 6 frames of walking
    path, used = viz_motion.write_side_by_side_video(
        [("short", qpos[:2]), ("long", qpos)], tmp_path / "pair.gif", fps=10.0, width=96, height=96
    )
    frames = np.stack(imageio.mimread(path)).astype(np.float64)
    assert used == "stick" and len(frames) == len(qpos)
    left, right = frames[:, :, :96], frames[:, :, 96:]
    change = lambda panel: np.abs(panel[-1] - panel[1]).mean()  # noqa: E731
    # the short sequence stays on its last frame (up to the GIF palette) while the clip goes on
    assert change(left) < 0.5 < change(right), (change(left), change(right))


def test_side_by_side_rejects_bad_panels(tmp_path):
    with pytest.raises(ValueError, match="at least one panel"):
        viz_motion.write_side_by_side_video([], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match=r"qpos must be \(T, 35\)"):
        viz_motion.write_side_by_side_video([("bad", np.zeros((3, 30)))], tmp_path / "x.mp4")
