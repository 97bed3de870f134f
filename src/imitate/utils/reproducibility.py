"""What must be bit-identical between two runs of one seed, and a comparison of two run folders.

Two runs with the same seed and config (or a run killed and resumed, and the uninterrupted one)
must agree exactly on ``progress.jsonl``, ``metrics.json`` and every number in the checkpoint.
Only wall-clock values may differ: the keys containing ``seconds`` (``train_seconds``,
``eval_seconds``, ``plan_seconds``, ``seconds_per_episode``); ``progress.jsonl`` has none.
Strings (paths of the run or its energy run) are not compared.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch


def is_wall_clock(key: str) -> bool:
    return "seconds" in key


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists/tuples as {"a.b.0": leaf}, wall-clock keys and strings left out."""
    if isinstance(obj, dict):
        items = [(str(k), v) for k, v in obj.items() if not is_wall_clock(str(k))]
    elif isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    else:
        return {} if isinstance(obj, str) else {prefix: obj}
    out: dict[str, Any] = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return out


def run_record(run_dir: str | Path) -> dict[str, Any]:
    """The comparable content of a run: progress rows, metrics and checkpoint, flattened."""
    from imitate.utils.run import load_checkpoint

    run_dir = Path(run_dir)
    progress = run_dir / "progress.jsonl"
    rows = [json.loads(line) for line in progress.read_text().splitlines()] if progress.is_file() else []
    metrics = json.loads((run_dir / "metrics.json").read_text())
    state = load_checkpoint(run_dir / "checkpoints" / "latest.pt")
    return {**flatten(rows, "progress"), **flatten(metrics, "metrics"), **flatten(state, "checkpoint")}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        # checkpoints hold no NaN (the writer refuses them), so exact equality is the test
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def differences(run_a: str | Path, run_b: str | Path) -> list[str]:
    """The keys (``progress.3.loss/value``, ``checkpoint.ppo.model.actor.0.weight``) on which two
    runs differ; empty when they are bit-identical."""
    a, b = run_record(run_a), run_record(run_b)
    return sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or not _same(a[k], b[k]))
