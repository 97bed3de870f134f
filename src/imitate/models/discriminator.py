"""AMP's discriminator: an MLP that tells expert transition pairs from the policy's (Peng et al. 2021).

D(x) is a logit: high for pairs that look like the expert's. Inputs are normalised with a
running mean/std fitted once on the expert data and then frozen (as NEAR's energy model does),
so the policy's own, drifting, distribution never moves the reference frame the reward is
measured in.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from imitate.models.mlp import mlp
from imitate.utils.running_stats import RunningMeanStd


class Discriminator(nn.Module):
    """ReLU MLP trunk (default [1024, 512], NEAR's AMP baseline) → linear head → logit (B,).

    The head is kept apart from the trunk because the logit regulariser penalises only its
    weights. ``normalizer`` is a buffer-only module, so ``state_dict`` holds everything.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (1024, 512), activation: str = "relu"):
        super().__init__()
        if not hidden:
            raise ValueError("discriminator needs at least one hidden layer")
        self.config = {"in_dim": in_dim, "hidden": list(hidden), "activation": activation}
        self.in_dim = in_dim
        self.normalizer = RunningMeanStd(in_dim)
        self.trunk = mlp(in_dim, list(hidden)[:-1], hidden[-1], activation, activate_last=True)
        self.head = nn.Linear(hidden[-1], 1)

    @classmethod
    def from_config(cls, config: dict) -> Discriminator:
        return cls(config["in_dim"], tuple(config["hidden"]), config["activation"])

    def fit_normalizer(self, expert: torch.Tensor) -> None:
        """Mean/std from all expert pairs (M, D), then frozen."""
        if expert.ndim != 2 or expert.shape[1] != self.in_dim:
            raise ValueError(f"expected expert pairs of shape (M, {self.in_dim}), got {tuple(expert.shape)}")
        self.normalizer.frozen = False
        self.normalizer.update(expert)
        self.normalizer.frozen = True

    def normalize(self, x_raw: torch.Tensor) -> torch.Tensor:
        if x_raw.shape[-1] != self.in_dim:
            raise ValueError(
                f"discriminator expects {self.in_dim} features per row, got "
                f"{tuple(x_raw.shape)}; check the task's transition size"
            )
        return self.normalizer.normalize(x_raw.float())

    def forward(self, x_norm: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of already-normalised pairs (B, D)."""
        return self.head(self.trunk(x_norm)).squeeze(-1)

    def logits(self, x_raw: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of raw pairs (B, D)."""
        return self(self.normalize(x_raw))

    def weights(self) -> list[torch.Tensor]:
        """Weight matrices of every linear layer (for weight decay; biases are not decayed)."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]


def amp_reward(logits: torch.Tensor) -> torch.Tensor:
    """AMP's style reward −log(max(1 − sigmoid(D), 1e-4)); in [0, log 1e4 ≈ 9.21], increasing in D.

    1 − sigmoid(D) is computed as sigmoid(−D), which keeps precision for large D.
    """
    return -torch.log(torch.sigmoid(-logits).clamp_min(1e-4))
