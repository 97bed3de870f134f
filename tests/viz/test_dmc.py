"""DeepMind Control videos: MuJoCo's renderer through viz/gl.py's child (the dm_control model,
its camera following the body), or the matplotlib side view; the GL probe is mocked except in
the slow EGL render, which skips where EGL is unavailable."""

import imageio.v2 as imageio
import numpy as np
import pytest

from imitate.sim.dmc import suite_model
from imitate.viz import gl
from imitate.viz.dmc import capsule_segments, write_dmc_video

pytest.importorskip("dm_control")


def _standing(domain: str, steps: int = 4) -> np.ndarray:
    """qpos rows of the reference pose sliding forward 0.1 m a row."""
    model = suite_model(domain)
    qpos = np.tile(model.qpos0, (steps, 1))
    qpos[:, model.joint("rootx").qposadr[0]] = 0.1 * np.arange(steps)
    return qpos


def test_capsules_follow_the_body():
    ends, torso = capsule_segments("walker", _standing("walker", 2))
    assert ends.shape == (2, 7, 2, 3)  # the walker's seven capsules (the floor is a plane)
    np.testing.assert_allclose(ends[1] - ends[0], np.broadcast_to([0.1, 0, 0], ends[0].shape), atol=1e-12)
    np.testing.assert_allclose(torso[1] - torso[0], [0.1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(ends[..., 0, 1], ends[..., 1, 1])  # planar: each segment in an x-z plane
    assert 1.0 < torso[0, 2] < 1.5  # the torso's centre at the reference pose stands about 1.3 m up


def test_the_side_view_when_mujoco_cannot_render(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gl, "render_with", lambda *args: "no GL in tests")
    monkeypatch.setenv("MUJOCO_GL", "egl")  # the user's choice failing is said, in one line
    path, used = write_dmc_video("cheetah", [_standing("cheetah", 3)], tmp_path / "v.mp4", fps=10, width=160, height=96)
    assert used == "stick"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MUJOCO_GL=egl: no GL in tests" in err
    frames = imageio.mimread(path, memtest=False)
    assert len(frames) == 3 and frames[0].shape == (96, 160, 3)
    with pytest.raises(gl.RenderError, match="MUJOCO_GL=egl: no GL in tests"):
        write_dmc_video("cheetah", [_standing("cheetah")], tmp_path / "w.mp4", fps=10, renderer="mujoco")


def test_bad_input_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"a walker video needs episodes of qpos rows \(T, 9\); got \(4, 35\)"):
        write_dmc_video("walker", [np.zeros((4, 35))], tmp_path / "v.mp4", fps=20, renderer="stick")
    with pytest.raises(ValueError, match="got none"):
        write_dmc_video("walker", [], tmp_path / "v.mp4", fps=20, renderer="stick")
    with pytest.raises(ValueError, match="renderer must be one of"):
        write_dmc_video("walker", [_standing("walker")], tmp_path / "v.mp4", fps=20, renderer="opengl")


@pytest.mark.slow  # a real EGL child: a few seconds of start-up
@pytest.mark.parametrize("domain", ["walker", "cheetah"])
def test_egl_renders_the_dm_control_scene_where_it_exists(domain, tmp_path):
    qpos = _standing(domain, 3)
    np.savez(tmp_path / "qpos.npz", panel0=qpos, panel1=qpos[:2])
    reason = gl.render_with("egl", tmp_path / "qpos.npz", tmp_path / "v.mp4", 20.0, 64, 48, None, domain)
    if reason is not None:
        pytest.skip(f"EGL unavailable here: {reason}")
    frames = imageio.mimread(tmp_path / "v.mp4", memtest=False)
    assert len(frames) == 3 and frames[0].shape == (48, 128, 3)
    assert frames[0].astype(float).std() > 5  # the skybox, floor and body, not a blank frame
