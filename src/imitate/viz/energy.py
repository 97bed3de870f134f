"""Plots of a learned NEAR energy: the 2-D maze landscape and energy vs distance from the data.

Figures are built as ``matplotlib.figure.Figure`` objects rendered by the Agg canvas, never
through pyplot, so nothing depends on (or changes) the global backend and no figure outlives
the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from imitate.models.energy import NCSN
from imitate.tasks.maze import ARENA_SIZE, INNER_WALLS
from imitate.utils.io import atomic_savefig


def default_levels(model: NCSN, count: int = 4) -> list[int]:
    """``count`` level indices spread evenly from the largest σ (0) to the smallest (L-1)."""
    count = min(count, model.num_levels)
    return sorted({int(round(v)) for v in np.linspace(0, model.num_levels - 1, count)})


def _save(fig: Figure, path: str | Path) -> Path:
    """Write the figure as PNG, creating the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    atomic_savefig(fig, path, dpi=110)
    return path


def _demo_paths(transitions: np.ndarray, max_paths: int) -> list[np.ndarray]:
    """Chains of consecutive transitions (row i ends where row i+1 starts) as (T, 2) paths."""
    if len(transitions) == 0:
        return []
    joined = np.all(np.isclose(transitions[:-1, 2:], transitions[1:, :2]), axis=1)  # (M-1,)
    breaks = np.flatnonzero(~joined) + 1
    paths = []
    for chunk in np.split(transitions, breaks):
        paths.append(np.concatenate([chunk[:, :2], chunk[-1:, 2:]], axis=0))
        if len(paths) == max_paths:
            break
    return paths


@torch.no_grad()
def maze_pair_grid(
    score: Callable[[torch.Tensor], torch.Tensor],
    displacements: torch.Tensor,
    resolution: int = 64,
    chunk: int = 65_536,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Mean ``score`` over pairs (p, p+δ) for p on a resolution² grid of the arena; (R, R) [y, x].

    ``score`` maps raw maze pairs (B, 4) to (B,) values: an energy at one level (NEAR), a
    discriminator logit or reward (AMP); the grid code is shared by every such landscape.
    """
    axis = torch.linspace(0.0, ARENA_SIZE, resolution, device=device)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=-1)  # (P, 2)
    d = displacements.to(device)  # (K, 2)
    pairs = torch.cat([points[:, None, :].expand(-1, len(d), -1), points[:, None, :] + d[None, :, :]], dim=-1).reshape(
        -1, 4
    )  # (P*K, 4)
    values = torch.cat([score(x) for x in pairs.split(chunk)])  # (P*K,)
    return values.reshape(resolution, resolution, len(d)).mean(-1)  # (R, R)


@torch.no_grad()
def maze_energy_grid(
    model: NCSN, displacements: torch.Tensor, level: int, resolution: int = 64, chunk: int = 65_536
) -> torch.Tensor:
    """Mean energy over pairs (p, p+δ) for p on a resolution² grid of the arena; (R, R) [y, x]."""
    return maze_pair_grid(lambda x: model.energy(x, level), displacements, resolution, chunk, model.sigmas.device)


def demo_displacements(
    demo_transitions: torch.Tensor, count: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``count`` step displacements s_t+1 − s_t (K, 2) drawn from raw maze demo pairs (M, 4)."""
    if demo_transitions.ndim != 2 or demo_transitions.shape[1] != 4:
        raise ValueError(f"maze demo transitions must be (M, 4) raw pairs, got {tuple(demo_transitions.shape)}")
    generator = generator or torch.Generator().manual_seed(0)
    demos = demo_transitions.detach().float().cpu()
    steps = demos[:, 2:] - demos[:, :2]  # (M, 2)
    return steps[torch.randperm(len(steps), generator=generator)[: min(count, len(steps))]]


def draw_maze_panel(
    fig: Figure, ax, grid: np.ndarray, paths: list[np.ndarray], title: str, label: str, cmap: str = "viridis"
) -> None:
    """One landscape panel: the (R, R) grid over the arena, inner walls, demo paths in white."""
    im = ax.imshow(grid, origin="lower", extent=(0, ARENA_SIZE, 0, ARENA_SIZE), cmap=cmap, interpolation="bilinear")
    fig.colorbar(im, ax=ax, shrink=0.8, label=label)
    for xmin, ymin, xmax, ymax in INNER_WALLS:
        ax.add_patch(Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, facecolor="0.6", edgecolor="0.3", linewidth=0.5))
    ax.add_collection(LineCollection(paths, colors="white", linewidths=0.8, alpha=0.8))
    ax.set_xlim(0, ARENA_SIZE)
    ax.set_ylim(0, ARENA_SIZE)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.set_xlabel("x")


def plot_maze_energy_landscape(
    model: NCSN,
    demo_transitions: torch.Tensor,
    path: str | Path,
    levels: Sequence[int] | None = None,
    resolution: int = 64,
    num_displacements: int = 64,
    num_paths: int = 5,
    generator: torch.Generator | None = None,
) -> Path:
    """One panel per noise level: mean energy of (p, p+δ) over the arena, walls and demo paths.

    δ are ``num_displacements`` step displacements drawn from the demos (M, 4) raw pairs, so each
    pixel says how expert-like a typical demo step starting there looks to the model.
    """
    displacements = demo_displacements(demo_transitions, num_displacements, generator)  # (K, 2)
    levels = list(levels) if levels is not None else default_levels(model)
    demos = demo_transitions.detach().float().cpu()

    fig = Figure(figsize=(4.2 * len(levels), 4.0), layout="constrained")
    axes = fig.subplots(1, len(levels), squeeze=False)[0]
    paths = _demo_paths(demos.numpy(), num_paths)
    grids = {}
    if model.version == "v2":  # E = f/σ: evaluate the net once and rescale per level
        base = maze_energy_grid(model, displacements, 0, resolution) * model.sigmas[0]
        grids = {lv: (base / model.sigmas[lv]).cpu().numpy() for lv in levels}
    for ax, level in zip(axes, levels):
        grid = grids.get(level)
        if grid is None:
            grid = maze_energy_grid(model, displacements, level, resolution).cpu().numpy()
        draw_maze_panel(fig, ax, grid, paths, f"level {level}, σ = {float(model.sigmas[level]):.3g}", "mean energy")
    axes[0].set_ylabel("y")
    fig.suptitle("NEAR energy landscape (mean over demo step displacements)")
    return _save(fig, path)


@torch.no_grad()
def energy_vs_distance(
    model: NCSN,
    data: torch.Tensor,
    levels: Sequence[int],
    distances: torch.Tensor,
    num_points: int = 512,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Mean energy (len(levels), len(distances)) of data moved by d along random unit directions.

    The move happens in normalised space (where the model works), so d is in data std units.
    """
    generator = generator or torch.Generator().manual_seed(0)
    device = model.sigmas.device
    idx = torch.randperm(len(data), generator=generator)[:num_points]
    x = model.normalizer.normalize(data[idx].float().to(device))  # (P, D)
    u = torch.randn(x.shape, generator=generator).to(device)
    u = u / u.norm(dim=-1, keepdim=True)  # (P, D)
    d = distances.to(device)
    moved = (x[None] + d[:, None, None] * u[None]).reshape(-1, x.shape[-1])  # (T*P, D)
    out = torch.empty(len(levels), len(d))
    for i, level in enumerate(levels):
        lv = torch.full((len(moved),), level, dtype=torch.long, device=device)
        out[i] = model(moved, lv).reshape(len(d), len(x)).mean(-1).cpu()
    return out


def plot_energy_vs_distance(
    model: NCSN,
    data: torch.Tensor,
    path: str | Path,
    levels: Sequence[int] | None = None,
    max_distance: float = 5.0,
    num_distances: int = 41,
    num_points: int = 512,
    generator: torch.Generator | None = None,
) -> Path:
    """Energy vs distance from the data, one curve per noise level.

    Left: E(d) − E(0) on a symmetric-log axis (true magnitudes; v2 energies scale like 1/σ).
    Right: the same divided by its largest |value|, so curve shapes compare across levels.
    """
    levels = list(levels) if levels is not None else default_levels(model, 6)
    distances = torch.linspace(0.0, max_distance, num_distances)
    curves = energy_vs_distance(model, data, levels, distances, num_points, generator)
    delta = (curves - curves[:, :1]).numpy()  # (L, T)
    scale = np.abs(delta).max(axis=1, keepdims=True)
    shape = delta / np.where(scale > 0, scale, 1.0)

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_abs, ax_rel = fig.subplots(1, 2)
    d = distances.numpy()
    colors = [f"C{i % 10}" for i in range(len(levels))]
    for level, c, y_abs, y_rel in zip(levels, colors, delta, shape):
        label = f"level {level}, σ = {float(model.sigmas[level]):.3g}"
        ax_abs.plot(d, y_abs, color=c, label=label)
        ax_rel.plot(d, y_rel, color=c, label=label)
    # Linear only very near 0, so every curve spends most of its length on the log part.
    linthresh = max(1e-6, 0.05 * float(scale.min()))
    ax_abs.set_yscale("symlog", linthresh=linthresh)
    ax_abs.set_ylabel("E(d) − E(0)")
    ax_rel.set_ylabel("(E(d) − E(0)) / max |·|")
    for ax in (ax_abs, ax_rel):
        ax.set_xlabel("distance from data d (normalised units)")
        ax.axhline(0.0, color="0.5", linewidth=0.6)
        ax.grid(alpha=0.3)
    ax_rel.legend(fontsize=8)
    fig.suptitle("Energy vs distance from expert data (random unit directions)")
    return _save(fig, path)
