"""Videos: frames encoded to an mp4 (or gif) atomically, and frames taken from matplotlib figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def write_frames(frames, path: str | Path, fps: float) -> Path:
    """Encode RGB frames (iterable of (H, W, 3) uint8) to path atomically (temp file + rename)."""
    import imageio.v2 as imageio

    from imitate.utils.io import atomic_path

    path = Path(path)
    kwargs: dict[str, Any] = {"fps": fps}
    if path.suffix in ("", ".mp4"):
        kwargs.update(codec="libx264", macro_block_size=8, quality=7)
    with atomic_path(path, suffix=f".tmp{path.suffix or '.mp4'}") as tmp:  # the suffix tells imageio the format
        with imageio.get_writer(tmp, **kwargs) as writer:
            for f in frames:
                writer.append_data(f)  # type: ignore[attr-defined]  # imageio's v2 writers have it
    return path


def figure_frame(fig) -> np.ndarray:
    """The figure as drawn now, (H, W, 3) uint8 (matplotlib's Agg canvas)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()  # Agg
