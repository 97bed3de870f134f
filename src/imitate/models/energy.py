"""NEAR's noise-conditioned energy model (NCSN), its denoising-score-matching loss and trainer.

The model maps a normalised transition pair x = (s_t, s_t+1) and a noise level to a scalar
energy E(x, σ). Higher energy means more expert-like; the score is ∇ₓE. It is trained by
denoising score matching (DSM) over a ladder of noise levels (NCSN, Song & Ermon 2019/2020) and, at inference, used
through an exponential moving average (EMA) of its weights with its normaliser frozen.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn

from imitate.models.mlp import mlp
from imitate.utils.numerics import backward_step
from imitate.utils.running_stats import RunningMeanStd

VERSIONS = ("v2", "v1")


def noise_levels(version: str = "v2") -> torch.Tensor:
    """The σ ladder, index 0 = largest: v2 geometric 20 → 0.01 (50), v1 linear 10 → 0.01 (10)."""
    if version == "v2":
        return torch.logspace(math.log10(20.0), math.log10(0.01), 50, dtype=torch.float64).float()
    if version == "v1":
        return torch.linspace(10.0, 0.01, 10, dtype=torch.float64).float()
    raise ValueError(f"unknown NCSN version {version!r}; use one of {VERSIONS}")


def sinusoidal_embedding(index: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style sin/cos features of an integer index, (B,) → (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=index.device) / max(half, 1))
    angles = index.float()[:, None] * freqs[None, :]  # (B, half)
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)  # (B, 2*half)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class NCSN(nn.Module):
    """Noise-conditioned energy network: ELU MLP encoder → latent → ELU MLP decoder → scalar.

    v2 (default, NCSNv2 form): E(x, σ) = f(x)/σ, so one network serves every level.
    v1 (ablation): a sinusoidal embedding of the level index, passed through a learned linear
    map, is added to the latent; E(x, σ) = f(latent + emb(level)).
    Defaults (hidden=(512, 512), latent_dim=128) are ours; the decoder mirrors the encoder.
    The normaliser (``normalizer``) and the σ ladder (``sigmas``) are buffers, so one
    ``state_dict`` holds everything needed to use a trained model.

    A model of masked features (``columns``: the columns of a raw pair of ``raw_dim`` numbers it
    reads, ``in_dim`` of them) keeps them in its config; ``select`` turns a raw pair into its
    input, so callers holding whole pairs need not know the mask.
    """

    sigmas: torch.Tensor  # (L,) noise levels, largest first (a buffer)

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (512, 512),
        latent_dim: int = 128,
        version: str = "v2",
        columns: Sequence[int] | None = None,
        raw_dim: int | None = None,
    ):
        super().__init__()
        if version not in VERSIONS:
            raise ValueError(f"unknown NCSN version {version!r}; use one of {VERSIONS}")
        self.config: dict = {"in_dim": in_dim, "hidden": list(hidden), "latent_dim": latent_dim, "version": version}
        self.columns: list[int] | None = None
        self.raw_dim = in_dim  # numbers in the raw pairs ``select`` takes
        if columns is not None:  # only then in the config: unmasked configs stay as they were
            if len(columns) != in_dim or raw_dim is None or not all(0 <= c < raw_dim for c in columns):
                raise ValueError(f"{len(columns)} feature columns of {raw_dim} for an energy model of {in_dim} inputs")
            self.columns, self.raw_dim = [int(c) for c in columns], int(raw_dim)
            self.config.update(columns=self.columns, raw_dim=self.raw_dim)
        self.in_dim = in_dim
        self.version = version
        self.normalizer = RunningMeanStd(in_dim)
        self.register_buffer("sigmas", noise_levels(version))
        self.encoder = mlp(in_dim, hidden, latent_dim, "elu")
        # The latent is linear; the decoder opens with the activation so v1 can add its embedding.
        self.decoder = nn.Sequential(nn.ELU(), mlp(latent_dim, list(hidden)[::-1], 1, "elu"))
        self.level_proj = nn.Linear(latent_dim, latent_dim) if version == "v1" else None

    @classmethod
    def from_config(cls, config: dict) -> NCSN:
        """Rebuild an (untrained) model from ``model.config``, e.g. before loading a checkpoint."""
        return cls(
            config["in_dim"],
            tuple(config["hidden"]),
            config["latent_dim"],
            config["version"],
            config.get("columns"),
            config.get("raw_dim"),
        )

    def select(self, pairs: torch.Tensor) -> torch.Tensor:
        """The model's input (B, in_dim) of raw pairs (B, raw_dim): its columns, or all of them."""
        if pairs.shape[-1] != self.raw_dim:
            raise ValueError(
                f"energy model reads pairs of {self.raw_dim} features, got {tuple(pairs.shape)}; "
                "check the task's transition size"
            )
        return pairs if self.columns is None else pairs[..., self.columns]

    @property
    def num_levels(self) -> int:
        return int(self.sigmas.shape[0])

    def forward(self, x_norm: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        """Energy (B,) of already-normalised inputs x_norm (B, D) at level indices (B,) long."""
        z = self.encoder(x_norm)  # (B, latent)
        if self.level_proj is not None:
            z = z + self.level_proj(sinusoidal_embedding(level, z.shape[-1]))
        f = self.decoder(z).squeeze(-1)  # (B,)
        if self.version == "v2":
            return f / self.sigmas[level]
        return f

    def _levels(self, level: int | torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
        """Broadcast an int / scalar / (B,) level to a (B,) long tensor, checking its range."""
        lv = torch.as_tensor(level, dtype=torch.long, device=device)
        if lv.numel() and (int(lv.min()) < 0 or int(lv.max()) >= self.num_levels):
            raise ValueError(f"noise level {level} out of range 0..{self.num_levels - 1}")
        return lv.expand(batch) if lv.dim() == 0 else lv

    def energy(self, x_raw: torch.Tensor, level: int | torch.Tensor) -> torch.Tensor:
        """Energy (B,) of raw inputs (B, D): normalise (clamped ±5), then score."""
        if x_raw.shape[-1] != self.in_dim:
            raise ValueError(
                f"energy model expects {self.in_dim} features per row, got "
                f"{tuple(x_raw.shape)}; check the task's transition size"
            )
        x_norm = self.normalizer.normalize(x_raw)
        return self(x_norm, self._levels(level, x_raw.shape[0], x_raw.device))


@torch.no_grad()
def batched_energy(model: NCSN, x_raw: torch.Tensor, level: int | torch.Tensor, chunk: int = 65_536) -> torch.Tensor:
    """``model.energy`` over a large (M, D) batch in chunks, without autograd; returns (M,)."""
    levels = model._levels(level, x_raw.shape[0], x_raw.device)  # (M,)
    out = [model.energy(x, lv) for x, lv in zip(x_raw.split(chunk), levels.split(chunk))]
    return torch.cat(out) if out else x_raw.new_zeros(0)


def _randn(shape: torch.Size, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Standard normal noise drawn on the generator's device, moved to ``like``'s device."""
    return torch.randn(shape, generator=generator, device=generator.device, dtype=like.dtype).to(like.device)


def dsm_loss(model: NCSN, x_norm: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Denoising score matching: mean over the batch of ½‖∇ₓE(x̃) − target‖²·σ² (scalar).

    level ~ U{0..L-1}, x̃ = x + σ·ε, target = −(x̃ − x)/σ² = −ε/σ. The σ² weighting makes every
    level contribute on the same scale; written as ½‖σ∇ₓE(x̃) + ε‖².
    """
    b = x_norm.shape[0]
    level = torch.randint(model.num_levels, (b,), generator=generator, device=generator.device).to(
        x_norm.device
    )  # (B,)
    sigma = model.sigmas[level][:, None]  # (B, 1)
    eps = _randn(x_norm.shape, generator, x_norm)  # (B, D)
    x_tilde = (x_norm + sigma * eps).requires_grad_(True)  # (B, D)
    energy = model(x_tilde, level)  # (B,)
    (score,) = torch.autograd.grad(energy.sum(), x_tilde, create_graph=True)  # (B, D)
    return 0.5 * (sigma * score + eps).pow(2).sum(-1).mean()


class EMA:
    """Exponential moving average of a module's parameters, the weights NEAR uses at inference.

    Differs from the original on purpose: the decay warms up as min(decay, (1+n)/(10+n)) over
    the first n updates (``warmup=True``), so short runs are not dominated by the random initial
    weights; after ~10k updates it is the plain 0.999 average. ``warmup=False`` gives the original.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, warmup: bool = True):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.num_updates = 0
        self.shadow = {k: p.detach().clone() for k, p in model.named_parameters()}

    def current_decay(self) -> float:
        """The decay the next ``update`` will use."""
        if not self.warmup:
            return self.decay
        n = self.num_updates
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """shadow ← d·shadow + (1−d)·param for every parameter of ``model``."""
        d = self.current_decay()
        for k, p in model.named_parameters():
            self.shadow[k].mul_(d).add_(p.detach(), alpha=1.0 - d)
        self.num_updates += 1

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Overwrite ``model``'s parameters with the averaged ones."""
        for k, p in model.named_parameters():
            p.copy_(self.shadow[k])

    def state_dict(self) -> dict:
        return {
            "decay": self.decay,
            "warmup": self.warmup,
            "num_updates": self.num_updates,
            "shadow": {k: v.clone() for k, v in self.shadow.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        missing = set(self.shadow) ^ set(state["shadow"])
        if missing:
            raise ValueError(f"EMA state does not match the model: parameters {sorted(missing)}")
        self.decay = state["decay"]
        self.warmup = state["warmup"]
        self.num_updates = state["num_updates"]
        for k, v in state["shadow"].items():
            self.shadow[k].copy_(v)


class EnergyTrainer:
    """Step 1 of NEAR: fit the normaliser once, then DSM with Adam, grad-norm clip 1 and EMA."""

    def __init__(
        self,
        model: NCSN,
        lr: float = 1e-4,
        ema_decay: float = 0.999,
        ema_warmup: bool = True,
        max_grad_norm: float = 1.0,
    ):
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.ema = EMA(model, ema_decay, ema_warmup)
        self.max_grad_norm = max_grad_norm
        self.num_steps = 0

    def fit_normalizer(self, data: torch.Tensor) -> None:
        """Learn mean/std from all expert data (M, D), then freeze them for training and use."""
        if data.ndim != 2 or data.shape[-1] != self.model.in_dim:
            raise ValueError(f"expected expert data of shape (M, {self.model.in_dim}), got {tuple(data.shape)}")
        norm = self.model.normalizer
        norm.frozen = False
        norm.update(data)
        norm.frozen = True

    def step(self, batch_raw: torch.Tensor, generator: torch.Generator) -> float:
        """One DSM update on a raw batch (B, D); returns the loss before the update."""
        if not self.model.normalizer.frozen:
            raise RuntimeError("energy normaliser not fitted: call fit_normalizer(data) first")
        self.model.train()
        x_norm = self.model.normalizer.normalize(batch_raw)  # (B, D)
        loss = dsm_loss(self.model, x_norm, generator)
        backward_step(loss, self.optimizer, self.model.parameters(), "dsm_loss", self.max_grad_norm)
        self.ema.update(self.model)
        self.num_steps += 1
        return loss.item()

    def ema_model(self) -> NCSN:
        """A copy of the model with EMA weights, in eval mode, normaliser frozen, no param grads."""
        model = copy.deepcopy(self.model)
        self.ema.copy_to(model)
        model.normalizer.frozen = True
        model.eval()
        model.requires_grad_(False)
        return model

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "model_config": dict(self.model.config),
            "optimizer": self.optimizer.state_dict(),
            "ema": self.ema.state_dict(),
            "num_steps": self.num_steps,
            "normalizer_frozen": self.model.normalizer.frozen,
            "max_grad_norm": self.max_grad_norm,
        }

    def load_state_dict(self, state: dict) -> None:
        if state["model_config"] != self.model.config:
            raise ValueError(
                f"checkpoint energy model {state['model_config']} does not match this one {self.model.config}"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.ema.load_state_dict(state["ema"])
        self.num_steps = state["num_steps"]
        self.model.normalizer.frozen = state["normalizer_frozen"]
        self.max_grad_norm = state["max_grad_norm"]
