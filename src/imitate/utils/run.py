"""The one run layout (DESIGN.md principle 4).

``<out_dir>/<task>/<algo>/<timestamp>-<seed>/`` holds ``config.yaml`` (resolved, with task and
algo), ``tb/`` (TensorBoard), ``progress.jsonl`` (one line of scalars per iteration, for plots
without TensorBoard), ``checkpoints/latest.pt`` (atomic), ``metrics.json`` and ``plots/``.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from imitate.config import ConfigError, load_yaml, save_yaml, to_dict
from imitate.utils.io import atomic_torch_save, atomic_write_json


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or belongs to another task or algorithm."""


@dataclass
class Run:
    dir: Path
    task: str
    algo: str

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoints" / "latest.pt"

    @property
    def plots_dir(self) -> Path:
        path = self.dir / "plots"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @classmethod
    def create(cls, task: str, algo: str, cfg: Any) -> "Run":
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(cfg.out_dir) / task / algo
        path = base / f"{stamp}-{cfg.seed}"
        n = 1
        while path.exists():  # two runs in the same second
            path = base / f"{stamp}-{cfg.seed}-{n}"
            n += 1
        (path / "checkpoints").mkdir(parents=True)
        run = cls(path, task, algo)
        run.save_config(cfg)
        return run

    @classmethod
    def open(cls, path: str | Path) -> "Run":
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(f"run directory not found: {path}")
        meta = load_yaml(path / "config.yaml")
        if "task" not in meta or "algo" not in meta:
            raise ConfigError(f"{path / 'config.yaml'} lacks task/algo (is it an imitate run?)")
        return cls(path, meta["task"], meta["algo"])

    def config_dict(self) -> dict[str, Any]:
        meta = load_yaml(self.dir / "config.yaml")
        return {k: v for k, v in meta.items() if k not in ("task", "algo")}

    def save_config(self, cfg: Any) -> None:
        save_yaml({"task": self.task, "algo": self.algo, **to_dict(cfg)}, self.dir / "config.yaml")

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_torch_save(self.checkpoint_path, {"task": self.task, "algo": self.algo, **state})

    def load_checkpoint(self, expect_task: str | None = None, expect_algo: str | None = None) -> dict[str, Any]:
        return load_checkpoint(self.checkpoint_path, expect_task, expect_algo)

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.dir / "metrics.json", metrics)

    def read_progress(self) -> list[dict[str, float]]:
        path = self.dir / "progress.jsonl"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a crash
                continue
        return rows

    def discard(self) -> None:
        """Remove a run that failed before writing its first checkpoint: no partial runs left."""
        shutil.rmtree(self.dir, ignore_errors=True)


def load_checkpoint(path: Path, expect_task: str | None = None, expect_algo: str | None = None) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a bad file
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or "task" not in state:
        raise CheckpointError(f"{path}: not an imitate checkpoint")
    if expect_task is not None and state["task"] != expect_task:
        raise CheckpointError(f"{path}: checkpoint is for task {state['task']!r}, not {expect_task!r}")
    if expect_algo is not None and state.get("algo") != expect_algo:
        raise CheckpointError(f"{path}: checkpoint is from algo {state.get('algo')!r}, expected {expect_algo!r}")
    return state
