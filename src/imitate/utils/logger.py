"""One logger for every run: TensorBoard events plus a ``progress.jsonl`` line per iteration."""
from __future__ import annotations

import json
from pathlib import Path


class Logger:
    def __init__(self, run_dir: Path):
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(str(run_dir / "tb"))
        self.progress = open(run_dir / "progress.jsonl", "a")

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)
        self.progress.write(json.dumps({"step": step, **scalars}) + "\n")
        self.progress.flush()

    def close(self) -> None:
        self.writer.close()
        self.progress.close()
