"""The one MLP builder every model uses."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh, "silu": nn.SiLU}


def mlp(
    in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "elu", activate_last: bool = False
) -> nn.Sequential:
    """Linear layers of sizes in_dim → hidden... → out_dim with ``activation`` between them."""
    act = ACTIVATIONS[activation]
    sizes = [in_dim, *hidden, out_dim]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or activate_last:
            layers.append(act())
    return nn.Sequential(*layers)
