"""Running mean and standard deviation, saved with the model that uses it."""

from __future__ import annotations

import torch
from torch import nn

MIN_STD = 1e-6  # a column whose std is below this never varies: it is left unscaled


def column_mean_std(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-column mean and std of (N, D) rows for z-scoring; std 1 where a column never varies."""
    std = x.std(0)
    return x.mean(0), torch.where(std > MIN_STD, std, torch.ones_like(std))


class RunningMeanStd(nn.Module):
    """Tracks mean/variance of a stream of (B, D) batches (Chan et al. parallel update).

    Buffers, not parameters, so they travel in ``state_dict`` but never receive gradients.
    ``frozen`` stops updates, e.g. when a trained energy model is used as a reward.
    """

    mean: torch.Tensor
    var: torch.Tensor
    count: torch.Tensor

    def __init__(self, shape: int | tuple[int, ...], clip: float = 5.0, eps: float = 1e-8):
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(eps, dtype=torch.float64))
        self.clip = clip
        self.eps = eps
        self.frozen = False

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        if self.frozen:
            return
        x = x.reshape(-1, *self.mean.shape).to(torch.float64)
        batch_mean = x.mean(0)
        batch_var = x.var(0, unbiased=False)
        n = x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean += delta * n / total
        m2 = self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        std = torch.sqrt(self.var + self.eps).to(x.dtype)
        out = (x - self.mean.to(x.dtype)) / std
        return out.clamp(-self.clip, self.clip) if self.clip else out

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sqrt(self.var + self.eps).to(x.dtype) + self.mean.to(x.dtype)
