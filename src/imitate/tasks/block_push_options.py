"""The block-push task's options (tasks/block_push.py); torch-free, so configs list without torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from imitate.config import Checked, option


@dataclass
class BlockPushOptions(Checked):
    success_tolerance_m: float = option(
        0.02,
        "success (which ends the episode) when the block centre is this close to the target, metres; "
        "IBC's EBM configs used 0.02, its MSE configs 0.01",
        gt=0,
        le=0.1,
    )
    # Options that demonstrations may have been made with another value of: IBC trained its
    # 0.02 m and 0.01 m configs on the same data (``data/demo_checks.load_demos_for``).
    DEMOS_MAY_DIFFER: ClassVar[tuple[str, ...]] = ("success_tolerance_m",)
