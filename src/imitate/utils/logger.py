"""One logger for every run: TensorBoard events plus a ``progress.jsonl`` line per iteration, and
with ``wandb=true`` the same scalars to Weights & Biases (``utils/wandb_mirror.py``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

EVENT_PREFIX = "events.out.tfevents."  # then the creation second, host, pid


class Logger:
    """``purge_step`` (a resumed run: the first step after its checkpoint) makes TensorBoard drop
    the events a killed run wrote at or after it, so each step is shown once; ``Run.begin`` cuts
    ``progress.jsonl`` back the same way."""

    def __init__(self, run_dir: Path, purge_step: int | None = None, mirror: Any = None):
        from torch.utils.tensorboard import SummaryWriter

        _after_earlier_event_files(run_dir / "tb")
        self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=purge_step)
        self.progress = open(run_dir / "progress.jsonl", "a")
        self.mirror = mirror  # a WandbMirror, or None

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)
        # One write per line: a kill can cut only the last line, which readers skip.
        self.progress.write(json.dumps({"step": step, **scalars}) + "\n")
        self.progress.flush()
        if self.mirror is not None:
            self.mirror.log(step, scalars)

    def log_video(self, step: int, path: Path, renderer: str) -> None:
        """A video written during training: its file and renderer as TensorBoard text
        (``media/video``; TensorBoard's own video summaries need moviepy and the frames in memory),
        and with W&B the video itself."""
        self.writer.add_text("media/video", f"{path.parent.name}/{path.name} ({renderer} renderer)", step)
        if self.mirror is not None:
            self.mirror.log_video(step, "media/video", path)

    def close(self) -> None:
        self.writer.close()
        self.progress.close()
        if self.mirror is not None:
            self.mirror.close()


def _after_earlier_event_files(tb_dir: Path) -> None:
    """Wait until the clock's second is past every existing event file's creation second.

    TensorBoard reads a run's event files in name order, and a name starts with its creation
    second: a writer opened in the same second as a killed one (a quick resume) could sort
    before it, and the killed file's own purge marker would then hide the resumed events."""
    seconds = []
    for path in tb_dir.glob(f"{EVENT_PREFIX}*"):
        stamp = path.name[len(EVENT_PREFIX) :].split(".", 1)[0]
        if stamp.isdigit():
            seconds.append(int(stamp))
    while seconds and time.time() < max(seconds) + 1:
        time.sleep(0.05)
