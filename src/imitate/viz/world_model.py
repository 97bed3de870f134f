"""A world model's open-loop prediction beside the truth, one panel per observation number.

Drawn on a ``matplotlib.figure.Figure`` with the Agg canvas (never pyplot), written atomically.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from imitate.utils.io import atomic_savefig

MAX_PANELS = 48  # a larger observation shows its first 48 numbers


def plot_open_loop(
    truth: np.ndarray,
    predicted: np.ndarray,
    filtered: np.ndarray,
    context: int,
    names: Sequence[str],
    path: str | Path,
    title: str = "",
) -> Path:
    """(T, D) arrays of one window: the recorded observations, the prediction (posterior for the
    first ``context`` steps, then the prior open loop) and the posterior's reconstruction."""
    dims = min(truth.shape[1], MAX_PANELS)
    cols = min(dims, 4)
    rows = math.ceil(dims / cols)
    fig = Figure(figsize=(3.2 * cols, 2.1 * rows + 0.6), layout="constrained")
    steps = np.arange(len(truth))
    for d in range(dims):
        ax = fig.add_subplot(rows, cols, d + 1)
        ax.plot(steps, truth[:, d], color="black", lw=1.4, label="true")
        ax.plot(steps, filtered[:, d], color="tab:green", lw=0.9, ls=":", label="posterior (filtered)")
        ax.plot(steps[context - 1 :], predicted[context - 1 :, d], color="tab:red", lw=1.4, label="open loop (prior)")
        ax.axvline(context - 0.5, color="grey", lw=0.8, ls="--")
        ax.set_title(names[d] if d < len(names) else f"obs[{d}]", fontsize=9)
        ax.tick_params(labelsize=7)
        if d == 0:
            ax.legend(fontsize=6, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    atomic_savefig(fig, path, dpi=100)
    return path
