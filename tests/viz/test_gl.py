"""The OpenGL backend of MuJoCo videos: EGL, then OSMesa, then the stick figure; the user's
MUJOCO_GL alone when set. The probes are mocked, so no test here needs OpenGL, apart from the
one EGL render that skips where EGL is unavailable."""

import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from imitate.viz import gl
from imitate.viz.motion import RenderError, clip_qpos, write_qpos_video


@pytest.fixture(scope="module")
def qpos(tmp_path_factory):
    return clip_qpos("humanoid3d_walk", seconds=0.2, fps=15, cache_dir=tmp_path_factory.mktemp("motions"))


@pytest.fixture
def probes(monkeypatch):
    """Replace the child-process render by a fake: ``probes.fail`` maps a backend to its
    failure reason; any other backend "renders" (writes a placeholder file)."""

    class Probes:
        fail: dict[str, str] = {}
        tried: list[str] = []

    def fake(backend, qpos_file, out, fps, width, height, props_file=None, scene="humanoid"):
        Probes.tried.append(backend)
        if backend in Probes.fail:
            return Probes.fail[backend]
        Path(out).write_bytes(b"video")
        return None

    Probes.fail, Probes.tried = {}, []
    monkeypatch.setattr(gl, "render_with", fake)
    monkeypatch.setattr(gl, "AUTO_BACKENDS", {sys.platform: ("egl", "osmesa")})  # Linux's order, anywhere
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    return Probes


def _frames(path):
    reader = imageio.get_reader(path)
    try:
        return [np.asarray(reader.get_data(i)) for i in range(reader.count_frames())]
    finally:
        reader.close()


def test_egl_first(probes, qpos, tmp_path, capsys):
    path, used = write_qpos_video(qpos, tmp_path / "v.mp4", renderer="auto")
    assert (used, probes.tried) == ("mujoco-egl", ["egl"])
    assert path.read_bytes() == b"video"
    assert capsys.readouterr().err == ""


def test_egl_fails_then_osmesa(probes, qpos, tmp_path, capsys):
    probes.fail = {"egl": "no EGL device"}
    _, used = write_qpos_video(qpos, tmp_path / "v.mp4", renderer="auto")
    assert (used, probes.tried) == ("mujoco-osmesa", ["egl", "osmesa"])
    assert capsys.readouterr().err == ""


def test_both_fail_the_stick_figure_quietly(probes, qpos, tmp_path, capsys):
    probes.fail = {"egl": "no EGL device", "osmesa": "no libOSMesa"}
    path, used = write_qpos_video(qpos, tmp_path / "v.mp4", fps=15, renderer="auto", width=160, height=96)
    assert (used, probes.tried) == ("stick", ["egl", "osmesa"])
    frames = _frames(path)
    assert len(frames) == len(qpos) == 4
    assert frames[0].astype(float).std() > 5  # a drawn figure, not a blank frame
    assert capsys.readouterr().err == ""
    with pytest.raises(RenderError, match=r"MUJOCO_GL=egl: no EGL device; MUJOCO_GL=osmesa: no libOSMesa"):
        write_qpos_video(qpos, tmp_path / "w.mp4", renderer="mujoco")
    assert not (tmp_path / "w.mp4").exists()


def test_the_users_choice_alone_and_its_failure_in_one_line(probes, qpos, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "GLFW")
    probes.fail = {"glfw": "X11: The DISPLAY environment variable is missing"}
    _, used = write_qpos_video(qpos, tmp_path / "v.mp4", fps=15, renderer="auto", width=160, height=96)
    assert (used, probes.tried) == ("stick", ["glfw"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MUJOCO_GL=glfw: X11: The DISPLAY" in err and "stick figure" in err
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    probes.fail = {}
    assert write_qpos_video(qpos, tmp_path / "v.mp4", renderer="auto")[1] == "mujoco-osmesa"


def test_a_failing_child_reports_its_reason(qpos, tmp_path):
    """The real child process, with a backend mujoco refuses at import: no OpenGL involved."""
    np.save(tmp_path / "qpos.npy", qpos)
    reason = gl.render_with("nonsense", tmp_path / "qpos.npy", tmp_path / "v.mp4", 15.0, 64, 48)
    assert reason is not None and "invalid value for environment variable MUJOCO_GL" in reason
    assert not (tmp_path / "v.mp4").exists()


def test_egl_renders_where_it_exists(qpos, tmp_path):
    np.save(tmp_path / "qpos.npy", qpos)
    reason = gl.render_with("egl", tmp_path / "qpos.npy", tmp_path / "v.mp4", 15.0, 64, 48)
    if reason is not None:
        pytest.skip(f"EGL unavailable here: {reason}")
    frames = _frames(tmp_path / "v.mp4")
    assert len(frames) == len(qpos) and frames[0].shape == (48, 64, 3)
    assert frames[0].astype(float).std() > 5


def test_egl_renders_panels_side_by_side_where_it_exists(qpos, tmp_path):
    """An .npz of two sequences (the second shorter) becomes one video of two panels."""
    np.savez(tmp_path / "qpos.npz", panel0=qpos, panel1=qpos[:2])
    reason = gl.render_with("egl", tmp_path / "qpos.npz", tmp_path / "v.mp4", 15.0, 64, 48)
    if reason is not None:
        pytest.skip(f"EGL unavailable here: {reason}")
    frames = _frames(tmp_path / "v.mp4")
    assert len(frames) == len(qpos) and frames[0].shape == (48, 128, 3)


def test_a_mujoco_gl_that_mujoco_would_refuse_is_named_in_one_line(monkeypatch, capsys):
    from imitate.cli import main

    for ok in ("", "egl", "OSMesa", "glfw", "disable"):
        monkeypatch.setenv("MUJOCO_GL", ok)
        assert gl.gl_env_problem() is None
    monkeypatch.setenv("MUJOCO_GL", "vulkan")
    assert main(["list", "tasks"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MUJOCO_GL=vulkan: not a MuJoCo OpenGL backend" in err


def _raise_from(filename: str) -> BaseException:
    """An exception whose traceback passes through a file of that name."""
    try:
        exec(compile("raise AttributeError(\"'NoneType' object has no attribute 'glGetError'\")", filename, "exec"))
    except AttributeError as exc:
        return exc
    raise AssertionError("unreachable")


def test_a_mujoco_gl_backend_whose_library_fails_to_load_is_named_not_a_bug(monkeypatch):
    inside = _raise_from(str(Path("site-packages", "mujoco", "rendering", "classic", "gl_context.py")))
    elsewhere = _raise_from(str(Path("site-packages", "imitate", "runner.py")))
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    problem = gl.gl_import_failure(inside)
    assert problem is not None and problem.startswith("MUJOCO_GL=osmesa: mujoco could not load")
    assert "glGetError" in problem and "\n" not in problem
    assert gl.gl_import_failure(elsewhere) is None  # a bug of ours stays an internal error
    monkeypatch.delenv("MUJOCO_GL")
    assert gl.gl_import_failure(inside) is None  # unset: imitate chose, and mujoco imports without GL


def test_the_cli_reports_a_broken_mujoco_gl_backend_in_one_line(tmp_path):
    """End to end where OSMesa is missing (as on the CI machine): exit 2 and one line, no traceback."""
    env = {**os.environ, "MUJOCO_GL": "osmesa"}
    probe = subprocess.run([sys.executable, "-c", "import mujoco"], env=env, capture_output=True, text=True)
    if probe.returncode == 0:
        pytest.skip("OSMesa loads here")
    proc = subprocess.run(
        [sys.executable, "-m", "imitate.cli", "motion", "list"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "MUJOCO_GL=osmesa: mujoco could not load" in proc.stderr
