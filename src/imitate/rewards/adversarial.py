"""AMP's reward plug-in: a discriminator trained on every rollout, scored on (s_t, s_t+1) (Peng et al. 2021).

Loss per discriminator step (expert pairs labelled 1, policy pairs 0):

    ½(BCE(D(policy), 0) + BCE(D(expert), 1))
    + w_gp · E_expert ‖∇ₓD(x)‖²            (x: the normalised expert pair)
    + logit_reg · ‖W_head‖²                (last-layer weights)
    + weight_decay · Σ ‖W‖²                (every linear layer's weights)

Policy pairs are half from the current rollout and half from a replay buffer of past rollouts,
so the discriminator does not forget what older policies did (and the policy cannot win by
cycling back to it). The style term is r_style = −log(max(1 − sigmoid(D), 1e-4)) − style_offset;
AMP's reward w_task·r_task + w_style·r_style (+ the absorbing-success value) is composed in
``rewards/compose.py``.
"""

from __future__ import annotations

import torch

from imitate.models.discriminator import Discriminator, amp_reward
from imitate.tasks.core.vecenv import StepResult
from imitate.utils.numerics import backward_step


class ReplayBuffer:
    """Fixed-capacity ring buffer of (F,) rows, filled in batches; the oldest rows go first."""

    def __init__(self, capacity: int, dim: int, device: str | torch.device = "cpu"):
        if capacity < 1:
            raise ValueError(f"replay buffer capacity must be at least 1, got {capacity}")
        self.capacity, self.dim = capacity, dim
        self.data = torch.zeros(capacity, dim, device=device)  # (C, F)
        self.head = 0  # next row to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, rows: torch.Tensor) -> None:
        """Append (B, F) rows, overwriting the oldest once full (only the last C rows if B > C)."""
        rows = rows.detach().reshape(-1, self.dim)[-self.capacity :].to(self.data)
        idx = (self.head + torch.arange(len(rows), device=self.data.device)) % self.capacity
        self.data[idx] = rows
        self.head = (self.head + len(rows)) % self.capacity
        self.size = min(self.capacity, self.size + len(rows))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n rows drawn uniformly with replacement; (n, F)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.randint(self.size, (n,), generator=generator, device=generator.device)
        return self.data[idx.to(self.data.device)]

    def state_dict(self) -> dict:
        return {
            "data": self.data[: self.size].clone() if self.size < self.capacity else self.data.clone(),
            "head": self.head,
            "size": self.size,
            "capacity": self.capacity,
        }

    def load_state_dict(self, state: dict) -> None:
        if state["capacity"] != self.capacity or state["data"].shape[-1] != self.dim:
            raise ValueError(
                f"replay buffer state has capacity {state['capacity']} × "
                f"{state['data'].shape[-1]}, this buffer {self.capacity} × {self.dim}"
            )
        self.data.zero_()
        self.data[: len(state["data"])] = state["data"].to(self.data)
        self.head, self.size = state["head"], state["size"]


def gradient_penalty(disc: Discriminator, expert_norm: torch.Tensor) -> torch.Tensor:
    """E‖∇ₓD(x)‖² over normalised expert pairs (B, D); differentiable (create_graph)."""
    x = expert_norm.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(x).sum(), x, create_graph=True)  # (B, D)
    return grad.pow(2).sum(-1).mean()


def discriminator_loss(
    disc: Discriminator,
    expert_raw: torch.Tensor,
    policy_raw: torch.Tensor,
    w_gp: float = 10.0,
    logit_reg: float = 0.05,
    weight_decay: float = 1e-4,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The AMP discriminator loss on raw expert (B, D) and policy (B', D) pairs, and its terms.

    The gradient penalty is taken with respect to the normalised input, the space the network
    works in: raw maze coordinates span hundreds of units, so a raw-space penalty would be
    ~10⁴ times weaker than intended and its weight would depend on the task's units.
    """
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expert_n, policy_n = disc.normalize(expert_raw), disc.normalize(policy_raw)
    d_expert, d_policy = disc(expert_n), disc(policy_n)  # (B,), (B',)
    loss_bce = 0.5 * (bce(d_policy, torch.zeros_like(d_policy)) + bce(d_expert, torch.ones_like(d_expert)))
    gp = gradient_penalty(disc, expert_n)
    logit = disc.head.weight.pow(2).sum()
    decay = sum(w.pow(2).sum() for w in disc.weights())
    loss = loss_bce + w_gp * gp + logit_reg * logit + weight_decay * decay
    with torch.no_grad():
        accuracy = 0.5 * ((d_expert > 0).float().mean() + (d_policy < 0).float().mean())
    terms = {
        "loss": loss.detach(),
        "bce": loss_bce.detach(),
        "gp": gp.detach(),
        "logit_reg": logit.detach(),
        "d_expert": d_expert.detach().mean(),
        "d_policy": d_policy.detach().mean(),
        "accuracy": accuracy,
    }
    return loss, terms


class AMPReward:
    """AMP's style term (a ``RewardModule`` part of the composed reward): scores transitions by
    the discriminator and trains it per rollout.

    ``expert`` (M, D) are the raw expert pairs; they fit the normaliser when the reward is made
    (a checkpoint restores it with the rest). ``updates`` discriminator steps per rollout, each
    on ``batch_size`` expert pairs and ``batch_size`` policy pairs. ``columns`` (a feature mask,
    the humanoid's ``mask=``): the discriminator sees only these columns of every pair, expert
    and policy alike.
    """

    def __init__(
        self,
        expert: torch.Tensor,
        hidden=(1024, 512),
        lr: float = 1e-4,
        batch_size: int = 512,
        updates: int = 10,
        w_gp: float = 10.0,
        logit_reg: float = 0.05,
        weight_decay: float = 1e-4,
        replay_size: int = 100_000,
        style_offset: float = 0.0,
        seed: int = 0,
        device: str | torch.device = "cpu",
        columns: tuple[int, ...] | None = None,
    ):
        if expert.ndim != 2 or len(expert) == 0:
            raise ValueError(f"AMP needs expert pairs of shape (M, D), got {tuple(expert.shape)}")
        self.device = torch.device(device)
        self.columns = None if columns is None else list(columns)
        self.expert = self.select(expert.detach().float().to(self.device))  # (M, D')
        expert = self.expert
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed + 7)  # discriminator init independent of the policy's
        self.disc = Discriminator(expert.shape[1], hidden).to(self.device)
        torch.random.set_rng_state(generator_state)
        self.disc.fit_normalizer(self.expert)
        self.optimizer = torch.optim.Adam(self.disc.parameters(), lr=lr)
        self.replay = ReplayBuffer(replay_size, expert.shape[1], self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed + 11)
        self.batch_size, self.updates = batch_size, updates
        self.w_gp, self.logit_reg, self.weight_decay = w_gp, logit_reg, weight_decay
        self.style_offset = style_offset
        self.last_terms: dict[str, torch.Tensor] = {}

    def select(self, transitions: torch.Tensor) -> torch.Tensor:
        """The columns of raw pairs (B, D) the discriminator reads (all without a mask)."""
        return transitions if self.columns is None else transitions[:, self.columns]

    @torch.no_grad()
    def style_reward(self, transitions: torch.Tensor) -> torch.Tensor:
        """AMP reward (B,) of raw pairs (B, D), in eval mode."""
        self.disc.eval()
        return amp_reward(self.disc.logits(transitions.to(self.device)))

    def __call__(self, obs: torch.Tensor, action: torch.Tensor, step: StepResult) -> torch.Tensor:
        """r_style = r_amp − style_offset for one batched env step; (N,).

        r_amp ≥ 0 on every step, so in a task that *ends* on success it pays the policy to
        linger rather than finish (the survival bias of GAIL-type rewards, Kostrikov et al.
        2019). Two remedies, both off by default (the published formula):
        ``style_offset`` (log 2 = the reward of an undecided discriminator) centres the reward,
        so pairs the discriminator thinks are the policy's cost reward and finishing is not
        penalised; the composition's ``absorbing_success`` pays, on success terminations,
        w_style·r_style·γ/(1−γ) (``absorbing_value``).
        """
        r_amp = self.style_reward(self.select(step.transition))
        self.last_terms = {"r_amp": r_amp}
        return r_amp - self.style_offset

    def absorbing_value(self, r_style: torch.Tensor) -> torch.Tensor:
        """What the term pays per step in the absorbing state after a success: a state that
        scores like the final pair (DAC-style)."""
        return r_style

    def _rows(self, source: torch.Tensor, n: int) -> torch.Tensor:
        idx = torch.randint(len(source), (n,), generator=self.generator, device=self.generator.device)
        return source[idx.to(source.device)]

    def update(self, transitions: torch.Tensor) -> dict[str, float]:
        """``updates`` discriminator steps on this rollout's (M, D) pairs; returns mean terms."""
        policy = self.select(transitions.detach().float().to(self.device))
        self.disc.train()
        sums: dict[str, float] = {}
        for _ in range(self.updates):
            if len(self.replay):
                half = self.batch_size // 2
                batch = torch.cat(
                    [self._rows(policy, self.batch_size - half), self.replay.sample(half, self.generator)]
                )
            else:
                batch = self._rows(policy, self.batch_size)
            loss, terms = discriminator_loss(
                self.disc, self._rows(self.expert, self.batch_size), batch, self.w_gp, self.logit_reg, self.weight_decay
            )
            backward_step(loss, self.optimizer, self.disc.parameters(), "amp_discriminator_loss")
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) / self.updates
        self.replay.add(policy)
        self.disc.eval()
        return {f"amp/{k}": v for k, v in sums.items()}

    def state_dict(self) -> dict:
        return {
            "disc": self.disc.state_dict(),
            "disc_config": dict(self.disc.config),
            "optimizer": self.optimizer.state_dict(),
            "replay": self.replay.state_dict(),
            "generator": self.generator.get_state(),
            "columns": self.columns,  # the feature mask it reads (a composition reuses it)
        }

    def load_state_dict(self, state: dict) -> None:
        if state["disc_config"] != self.disc.config:
            raise ValueError(
                f"checkpoint discriminator {state['disc_config']} does not match this one {self.disc.config}"
            )
        self.disc.load_state_dict(state["disc"])
        self.disc.normalizer.frozen = True
        self.optimizer.load_state_dict(state["optimizer"])
        self.replay.load_state_dict(state["replay"])
        self.generator.set_state(state["generator"])
