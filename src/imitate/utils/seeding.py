"""Seeding and saving every global RNG (python, numpy, torch CPU and CUDA).

A run seeds them all before building anything (``seed_everything``), so the same seed gives the
same run; a checkpoint carries their states (``rng_state``) so a resumed run draws what the
uninterrupted one would have (dropout and anything else on the global generators).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def rng_state() -> dict[str, Any]:
    version, internal, gauss = random.getstate()  # internal: 625 ints, kept as one tensor (fast to save)
    state = {
        "python": (version, torch.tensor(internal, dtype=torch.int64), gauss),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(x) for x in internal.tolist()), gauss))
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def restore_rng(checkpoint: dict[str, Any] | None) -> None:
    """The global RNGs as ``checkpoint`` recorded them; nothing for a fresh run. Call it once
    everything is built, just before the training loop continues."""
    if checkpoint is not None and "rng" in checkpoint:
        set_rng_state(checkpoint["rng"])
