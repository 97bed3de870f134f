"""A periodic video while a PPO run trains (``video_every=N``, humanoid tasks).

Every N iterations, env 0's latest finished episode is written to ``RUN_DIR/videos/
train_<iteration>.mp4`` and noted in TensorBoard (``media/video``: the file and the renderer; with
``wandb=true`` the video itself goes to W&B). Rendering (``viz/motion.write_qpos_video``: MuJoCo
through EGL or OSMesa in a child process, the stick figure where neither works) runs in a
background thread, one video at a time, so training does not wait for it; the loop itself only
copies env 0's qpos (35 numbers) per step. A video that is due while no episode has finished
since the last one, or while the previous video still renders, is made at the first iteration
after that (at the latest when training ends). Nothing here touches the envs' state or a random
generator, so a run with videos trains exactly like one without.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from imitate.config import ConfigError

HUMANOID_NQ = 35  # the character's qpos size (viz/motion.py renders exactly these)
VIDEO_SIZE = (480, 360)  # width, height: small, so a video costs seconds, not minutes
Note = Callable[[int, Path, str], None]  # (global step, video file, renderer used)


def require_character(env: Any, task_name: str) -> None:
    """One line, before any work, when ``video_every`` asks for videos of a task without a humanoid."""
    qpos = getattr(getattr(env, "sim", None), "qpos", None)
    if not (isinstance(qpos, np.ndarray) and qpos.ndim == 2 and qpos.shape[1] == HUMANOID_NQ):
        raise ConfigError(f"video_every needs a humanoid task; {task_name!r} has no character to render")


class TrainingVideo:
    """``PPO.train``'s observer: records env 0's qpos and renders every ``every`` iterations."""

    def __init__(self, env: Any, every: int, videos_dir: Path, note: Note, fps: float = 30.0):
        self.env, self.every, self.videos_dir, self.note, self.fps = env, every, Path(videos_dir), note, fps
        self._frames: list[np.ndarray] = []  # the open episode of env 0
        self._finished: np.ndarray | None = None  # its latest finished episode (T, 35), not yet rendered
        self._due = False
        self._iteration = self._global_step = 0  # of the latest iteration
        self._thread: threading.Thread | None = None
        self._done: list[tuple[int, Path, str]] = []  # rendered, not yet noted (noted on this thread)
        self._lock = threading.Lock()

    # -- PPO.train's hooks -----------------------------------------------------------------
    def before_step(self) -> None:
        self._frames.append(self.env.sim.qpos[0].copy())

    def after_step(self, step: Any) -> None:
        if bool(step.done[0]):
            self._finished, self._frames = np.stack(self._frames), []

    def after_iteration(self, iteration: int, global_step: int) -> None:
        self._note_rendered()
        self._due |= iteration % self.every == 0
        self._iteration, self._global_step = iteration, global_step
        if not self._due or self._finished is None or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._render, args=self._take(), name="imitate-train-video", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Wait for a video still rendering, make one still due, and note them."""
        if self._thread is not None:
            self._thread.join()
        if self._due and self._finished is not None:
            self._render(*self._take())
        self._note_rendered()

    def _take(self) -> tuple[np.ndarray, Path, int]:
        """The finished episode to render now, its file and step; nothing is due after it."""
        qpos, self._finished, self._due = self._finished, None, False
        assert qpos is not None
        return qpos, self.videos_dir / f"train_{self._iteration:06d}.mp4", self._global_step

    # -- the background thread -------------------------------------------------------------
    def _render(self, qpos: np.ndarray, path: Path, global_step: int) -> None:
        from imitate.viz.motion import write_qpos_video

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _, renderer = write_qpos_video(qpos, path, self.fps, width=VIDEO_SIZE[0], height=VIDEO_SIZE[1])
        except Exception as exc:  # a video never stops a training run; say why it is missing
            print(f"imitate: training video {path.name} not written ({type(exc).__name__}: {exc})", file=sys.stderr)
            return
        with self._lock:
            self._done.append((global_step, path, renderer))

    def _note_rendered(self) -> None:
        with self._lock:
            done, self._done = self._done, []
        for global_step, path, renderer in done:
            self.note(global_step, path, renderer)
