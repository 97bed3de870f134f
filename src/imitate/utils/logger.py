"""One logger for every run: TensorBoard events plus a ``progress.jsonl`` line per iteration."""
from __future__ import annotations

import json
from pathlib import Path


class Logger:
    """``purge_step`` (a resumed run: the first step after its checkpoint) makes TensorBoard drop
    the events a killed run wrote at or after it, so each step is shown once; ``Run.begin`` cuts
    ``progress.jsonl`` back the same way."""

    def __init__(self, run_dir: Path, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=purge_step)
        self.progress = open(run_dir / "progress.jsonl", "a")

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)
        # One write per line: a kill can cut only the last line, which readers skip.
        self.progress.write(json.dumps({"step": step, **scalars}) + "\n")
        self.progress.flush()

    def close(self) -> None:
        self.writer.close()
        self.progress.close()
