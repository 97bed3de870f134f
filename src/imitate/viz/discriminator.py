"""AMP's discriminator landscape on the 2-D maze: what the style reward looks like over the arena.

The grid, wall and path drawing are viz/energy.py's (``maze_pair_grid``, ``draw_maze_panel``);
only the scorer differs: the discriminator logit D and the AMP reward −log(max(1 − sigmoid(D), 1e-4)).
"""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.figure import Figure

from imitate.models.discriminator import Discriminator, amp_reward
from imitate.viz.energy import _demo_paths, _save, demo_displacements, draw_maze_panel, maze_pair_grid


@torch.no_grad()
def plot_maze_discriminator_landscape(
    disc: Discriminator,
    demo_transitions: torch.Tensor,
    path: str | Path,
    policy_transitions: torch.Tensor | None = None,
    resolution: int = 64,
    num_displacements: int = 64,
    num_paths: int = 5,
    generator: torch.Generator | None = None,
) -> Path:
    """Two panels: mean logit D(p, p+δ) and mean AMP reward over the arena; δ from the demos.

    ``policy_transitions`` (M, 4), when given, are drawn as red dots (their end points) so the
    figure shows where the policy went against what the discriminator rewards.
    """
    displacements = demo_displacements(demo_transitions, num_displacements, generator)  # (K, 2)
    disc = disc.eval()
    device = next(disc.parameters()).device
    logit = maze_pair_grid(disc.logits, displacements, resolution, device=device).cpu().numpy()
    reward = (
        maze_pair_grid(lambda x: amp_reward(disc.logits(x)), displacements, resolution, device=device).cpu().numpy()
    )
    paths = _demo_paths(demo_transitions.detach().float().cpu().numpy(), num_paths)
    fig = Figure(figsize=(8.6, 4.0), layout="constrained")
    axes = fig.subplots(1, 2)
    draw_maze_panel(fig, axes[0], logit, paths, "discriminator logit D", "mean D", cmap="coolwarm")
    draw_maze_panel(fig, axes[1], reward, paths, "AMP reward −log(1 − sigmoid D)", "mean reward")
    if policy_transitions is not None and len(policy_transitions):
        ends = policy_transitions[:, 2:].detach().float().cpu().numpy()
        for ax in axes:
            ax.scatter(ends[:, 0], ends[:, 1], s=2, c="red", alpha=0.4, linewidths=0)
    axes[0].set_ylabel("y")
    fig.suptitle("AMP discriminator landscape (mean over demo step displacements)")
    return _save(fig, path)
