"""Learning curves from a run's ``progress.jsonl``."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from imitate.utils.io import atomic_savefig  # noqa: E402


def plot_learning_curves(
    rows: list[dict[str, float]], keys: list[str], path: str | Path, title: str = ""
) -> Path | None:
    """One panel per key present in the rows, x = env steps."""
    keys = [k for k in keys if any(k in r for r in rows)]
    if not keys:
        return None
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(r["step"], r[key]) for r in rows if key in r]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=1.5)
        ax.set_title(key)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_curves_with_spread(
    groups: dict[str, list[list[dict[str, float]]]],
    keys: list[str],
    path: str | Path,
    title: str = "",
    points: int = 50,
) -> Path | None:
    """One panel per key; per group the mean over runs with a ±1 std band, on a common step grid."""
    import numpy as np

    keys = [k for k in keys if any(k in r for runs in groups.values() for rows in runs for r in rows)]
    if not keys:
        return None
    many = len(groups) > 4  # a grid's cells: the legend goes beside the panels, not over the curves
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys) + 3.2 * many, 3.4 + 0.9 * many), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for i, (label, runs) in enumerate(groups.items()):
            series = [np.array([(r["step"], r[key]) for r in rows if key in r]) for rows in runs]
            series = [s for s in series if len(s) > 1]
            if not series:
                continue
            end = min(s[-1, 0] for s in series)
            grid = np.linspace(max(s[0, 0] for s in series), end, points)
            values = np.stack([np.interp(grid, s[:, 0], s[:, 1]) for s in series])
            mean, std = values.mean(0), values.std(0)
            # the colour cycle has 10 colours: later groups get dashed, then dotted lines
            (line,) = ax.plot(grid, mean, lw=1.5, ls=("-", "--", ":")[i // 10 % 3], label=f"{label} ({len(series)})")
            ax.fill_between(grid, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.set_title(key)
        ax.set_xlabel("env steps")
        ax.grid(alpha=0.3)
    if axes[0][0].get_legend_handles_labels()[0]:
        if many:
            axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        else:
            axes[0][0].legend(fontsize=8)
    if title:
        import textwrap

        fig.suptitle("\n".join(textwrap.wrap(title, 60 + 45 * many)), fontsize=10)
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)
