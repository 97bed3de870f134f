"""The one progress bar (tqdm on stderr); silent when disabled or not on a terminal in CI."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def progress_bar(total: int, desc: str, unit: str = "it", initial: int = 0, enabled: bool = True) -> tqdm:
    disable = not enabled or (os.environ.get("CI") == "true" and not sys.stderr.isatty())
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=disable,
        dynamic_ncols=True,
        file=sys.stderr,
    )
