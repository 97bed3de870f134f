"""MuJoCo's OpenGL backend for videos, chosen by itself.

mujoco reads ``MUJOCO_GL`` once, when it is first imported (``mujoco/rendering/classic/
gl_context.py`` picks the GLFW, EGL or OSMesa context then), and the simulator imports mujoco long
before a video is made. Unset, it means GLFW, which needs a display and prints warnings without
one. So a MuJoCo video is rendered in a child process started with ``MUJOCO_GL`` set: on Linux
EGL, then OSMesa (software), until one renders; the user's own ``MUJOCO_GL``, when set, is the
only one tried. The child's stderr is captured, so a backend that fails costs one start-up
(about a second) and leaves only its reason, never a warning on the terminal.

The child is this module: ``python -m imitate.viz.gl QPOS OUT FPS WIDTH HEIGHT SCENE [PROPS]``,
QPOS an .npy of one qpos sequence or an .npz of several (``panel0``, ``panel1``, ...: a side-by-side
video), SCENE the model they are poses of (``SCENES``: the humanoid, or a dm_control suite domain
as ``sim/dmc.py`` compiles it), PROPS a file of MJCF bodies drawn beside the humanoid (a goal
task's box or target).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# The order tried when MUJOCO_GL is unset: hardware EGL, then software OSMesa. Elsewhere the one
# backend mujoco supports without a display server.
AUTO_BACKENDS = {"linux": ("egl", "osmesa"), "darwin": ("cgl",), "win32": ("glfw",)}
REASON_CHARS = 160  # a failing backend's reason is the last line of the child's stderr, cut to this
RENDERERS = ("auto", "mujoco", "stick")  # auto: MuJoCo where a backend works, else the drawing without OpenGL
# The models a child renders: the scene name -> "module:function" of its
# (qpos (T, nq), width, height, props) -> frames, each with its own camera
SCENES = {
    "humanoid": "imitate.viz.motion:mujoco_frames",
    "walker": "imitate.viz.dmc:walker_frames",
    "cheetah": "imitate.viz.dmc:cheetah_frames",
}


class RenderError(RuntimeError):
    """The requested renderer cannot run here (e.g. no OpenGL for renderer='mujoco')."""


# What mujoco accepts in MUJOCO_GL (it raises on anything else when first imported, long before a
# video is made): switches, GLFW, and each platform's headless backends.
ACCEPTED_GL = ("", "enable", "enabled", "on", "true", "1", "glfw", "disable", "disabled", "off", "false", "0")
PLATFORM_GL = {"linux": ("glx", "egl", "osmesa"), "darwin": ("cgl",), "win32": ("wgl",)}


def gl_env_problem() -> str | None:
    """Why the user's ``MUJOCO_GL`` would stop mujoco from importing (one line), or None."""
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    platform_backends = PLATFORM_GL.get(sys.platform, ())
    if chosen in ACCEPTED_GL or chosen in platform_backends:
        return None
    backends = ", ".join((*platform_backends, "glfw"))
    return f"MUJOCO_GL={chosen}: not a MuJoCo OpenGL backend; use one of {backends}, or unset it to let imitate choose"


# The file through which ``import mujoco`` loads the backend MUJOCO_GL names: an exception whose
# traceback passes through it means that backend's library is missing or broken, not a bug here.
GL_IMPORT_FILE = ("mujoco", "rendering", "classic", "gl_context.py")


def gl_import_failure(exc: BaseException) -> str | None:
    """Why ``import mujoco`` failed for the user's ``MUJOCO_GL`` (one line), or None when ``exc``
    did not come from loading its OpenGL backend (e.g. ``osmesa`` without libOSMesa installed)."""
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if not chosen:
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    if not any(Path(f.filename).parts[-len(GL_IMPORT_FILE) :] == GL_IMPORT_FILE for f in frames):
        return None
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[-1]}" if lines else type(exc).__name__
    return (
        f"MUJOCO_GL={chosen}: mujoco could not load this OpenGL backend ({detail[:REASON_CHARS]}); "
        "install its library, choose another backend, or unset MUJOCO_GL to let imitate choose"
    )


def backends_to_try() -> tuple[tuple[str, ...], bool]:
    """The backends to try in order, and whether the user chose them (``MUJOCO_GL`` set)."""
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if chosen:
        return (chosen,), True
    return AUTO_BACKENDS.get(sys.platform, ("glfw",)), False


def render_with(
    backend: str,
    qpos_file: Path,
    out: Path,
    fps: float,
    width: int,
    height: int,
    props_file: Path | None = None,
    scene: str = "humanoid",
) -> str | None:
    """Render ``qpos_file`` (poses of ``scene``) to ``out`` in a child with ``MUJOCO_GL=backend``:
    None when it worked, else why not (one line)."""
    src = str(Path(__file__).resolve().parents[2])  # the child imports this same imitate
    env = {**os.environ, "MUJOCO_GL": backend}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
    frames = sum(len(q) for q in _panels(qpos_file))
    timeout = 60 + frames  # start-up, then far more than the ~0.1 s a frame takes (EGL; OSMesa is slower)
    cmd = [sys.executable, "-m", "imitate.viz.gl", str(qpos_file), str(out), str(fps), str(width), str(height), scene]
    cmd += [str(props_file)] if props_file is not None else []
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    if proc.returncode == 0:
        return None
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    reason = lines[-1] if lines else f"exit code {proc.returncode}"
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3] + "..."


def _panels(qpos_file: Path) -> list[np.ndarray]:
    """The qpos sequences of a child's input file, left to right."""
    if qpos_file.suffix == ".npy":
        return [np.load(qpos_file)]
    with np.load(qpos_file) as data:
        return [data[f"panel{i}"] for i in range(len(data.files))]


def render_mujoco_video(
    qpos: list[np.ndarray], path: Path, fps: float, width: int, height: int, props: str = "", scene: str = "humanoid"
) -> tuple[str | None, list[tuple[str, str]]]:
    """Try each backend (``backends_to_try``) until one writes ``path``, the qpos sequences of
    ``scene`` side by side. Returns the backend that did (None if none) and the (backend, reason)
    of each that failed before it."""
    failed: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="imitate-video-") as tmp:
        qpos_file = Path(tmp) / "qpos.npz"
        panels: dict[str, Any] = {f"panel{i}": q for i, q in enumerate(qpos)}
        np.savez(qpos_file, **panels)
        props_file = Path(tmp) / "props.xml" if props else None
        if props_file is not None:
            props_file.write_text(props)
        for backend in backends_to_try()[0]:
            reason = render_with(backend, qpos_file, path, fps, width, height, props_file, scene)
            if reason is None:
                return backend, failed
            failed.append((backend, reason))
    return None, failed


def replay_frames(model, qpos: np.ndarray, width: int, height: int, camera: Callable[[np.ndarray], Any]) -> list:
    """Frames of ``model`` at each qpos row (set, ``mj_forward``: cameras and lights that track
    the body follow it), each seen by ``camera(row)`` (a camera name or an ``MjvCamera``); needs
    OpenGL (``RenderError`` where no context can be made)."""
    import mujoco

    data = mujoco.MjData(model)
    try:
        renderer = mujoco.Renderer(model, height=height, width=width)
    except Exception as exc:  # no GL context: EGL/GLFW/OSMesa missing
        raise RenderError(f"MuJoCo renderer unavailable ({type(exc).__name__}: {exc})") from exc
    frames = []
    try:
        for q in qpos:
            data.qpos[:] = q
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera=camera(q))
            frames.append(renderer.render().copy())
    finally:
        renderer.close()
    return frames


def mujoco_or_fallback(
    qpos: list[np.ndarray],
    path: Path,
    fps: float,
    width: int,
    height: int,
    renderer: str,
    fallback: Callable[[], Path],
    props: str = "",
    scene: str = "humanoid",
) -> str:
    """``path`` rendered by MuJoCo (``render_mujoco_video``) when ``renderer`` is auto or mujoco,
    else, or when no backend works under auto, written by ``fallback()`` (a drawing without
    OpenGL). Returns the renderer used: ``mujoco-egl``, ``mujoco-osmesa``, ... or ``stick``.
    A failure is quiet unless the user chose the backend (``MUJOCO_GL``) or renderer=mujoco
    (``RenderError``, naming each backend's reason)."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    if renderer in ("auto", "mujoco"):
        backend, failed = render_mujoco_video(qpos, path, fps, width, height, props, scene)
        if backend is not None:
            return f"mujoco-{backend}"
        why = "; ".join(f"MUJOCO_GL={b}: {reason}" for b, reason in failed)
        if renderer == "mujoco":
            raise RenderError(f"MuJoCo cannot render here ({why})")
        if backends_to_try()[1]:  # the user's own MUJOCO_GL failed: say so; unset, the fallback is quiet
            print(f"imitate: MuJoCo cannot render ({why}); writing the stick figure instead", file=sys.stderr)
    fallback()
    return "stick"


def _child(argv: list[str]) -> int:
    from importlib import import_module

    from imitate.viz.motion import side_by_side
    from imitate.viz.video import write_frames

    qpos_file, out, fps, width, height, scene = argv[:6]
    props = Path(argv[6]).read_text() if len(argv) > 6 else ""
    module, _, name = SCENES[scene].partition(":")
    frames_of = getattr(import_module(module), name)
    try:
        frames = [frames_of(q, int(width), int(height), props) for q in _panels(Path(qpos_file))]
    except RenderError as exc:
        print(exc, file=sys.stderr)
        return 1
    write_frames(side_by_side(frames), Path(out), float(fps))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
