"""AIME phase 1's world model: a recurrent state-space model (RSSM; PlaNet, Dreamer, AIME).

The latent state is s_t = (h_t, z_t). h_t = GRU(h_{t-1}, [z_{t-1}, a_{t-1}]) is deterministic,
z_t is Gaussian with a prior p(z_t | h_t) and a posterior q(z_t | h_t, e_t), e_t the embedding
of o_t. A sequence starts from h, z, a = 0 before its first step (a window cut from the middle
of an episode gets its true previous action). Each named sensor group g has an encoder (identity
by default, AIME's choice for vector sensors) and a Gaussian decoder p(o_g | h_t, z_t).

Observations are a dict of groups or a flat vector whose ``layout`` ((name, size), ...) says
which numbers belong to which group; the layout is part of ``config``, so a checkpoint rebuilds
the model and a model of another layout can be refused. Observations are z-scored by buffers
fitted on the training data (``fit_normalizer``); the likelihood is measured in those units.

Loss (``loss``): the negative ELBO, Σ_g -log p(o_g | s_t) + KL(q || p) per step, summed over
time and averaged over sequences (AIME's scale), with the options AIME and DreamerV2 use:
``free_nats`` (a step's KL below it is not penalised), ``kl_balance`` (α·KL(sg(q) || p) +
(1 - α)·KL(q || sg(p)); negative: off) and ``beta_nll`` (AIME's dim-wise reweighting: each
dimension's log-likelihood, and the KL by their mean, weighted by the detached decoder std).
``imagine`` rolls the prior forward from any state under given actions and stays differentiable
in them (AIME phase 2 back-propagates through it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from imitate.models.mlp import mlp
from imitate.utils.running_stats import column_mean_std

Layout = tuple[tuple[str, int], ...]
DECODER_STDS = ("learned", "unit")
LOSS_TERMS = ("elbo", "kl", "rec")  # what ``loss`` optimises: both ELBO terms, or one of them


def as_layout(groups: Sequence[Sequence[Any]]) -> Layout:
    """``groups`` as a checked layout: unique names, each a vector of ≥ 1 numbers."""
    layout = tuple((str(name), size) for name, size in groups)
    if not layout:
        raise ValueError("an observation layout needs at least one sensor group")
    names = [name for name, _ in layout]
    for name, size in layout:
        if not name or "." in name or names.count(name) > 1:
            raise ValueError(f"sensor group names must be unique, non-empty and without '.', got {names}")
        if isinstance(size, (tuple, list)):  # the hook for images: a (C, H, W) group would land here
            raise ValueError(f"sensor group {name!r} has shape {tuple(size)}: image groups are not implemented yet")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"sensor group {name!r} must have a positive integer size, got {size!r}")
    return layout


def layout_text(layout: Layout) -> str:
    """``position:2, velocity:2``: a layout in one short line for error messages."""
    return ", ".join(f"{name}:{size}" for name, size in layout)


def split_groups(x: torch.Tensor, layout: Layout) -> dict[str, torch.Tensor]:
    """The last dimension of ``x`` cut into the layout's groups."""
    parts = torch.split(x, [size for _, size in layout], dim=-1)
    return {name: part for (name, _), part in zip(layout, parts)}


# -- Gaussian pieces (diagonal; (mean, std) pairs) -------------------------------------------------
Gaussian = tuple[torch.Tensor, torch.Tensor]


def gaussian_kl(q: Gaussian, p: Gaussian) -> torch.Tensor:
    """KL(q || p) of diagonal Gaussians, summed over the last dimension."""
    (mq, sq), (mp, sp) = q, p
    return (torch.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5).sum(-1)


def balanced_kl(q: Gaussian, p: Gaussian, balance: float) -> torch.Tensor:
    """KL(q || p) whose gradient moves the prior with weight α = ``balance`` and the posterior
    with 1 - α (DreamerV2's KL balancing); its value is the KL's. ``balance`` < 0: the plain KL."""
    if balance < 0:
        return gaussian_kl(q, p)
    q_sg, p_sg = (q[0].detach(), q[1].detach()), (p[0].detach(), p[1].detach())
    return balance * gaussian_kl(q_sg, p) + (1 - balance) * gaussian_kl(q, p_sg)


def free_nats_kl(kl: torch.Tensor, free_nats: float) -> torch.Tensor:
    """max(KL, free_nats) per element: a KL below ``free_nats`` costs a constant (no gradient)."""
    return kl.clamp_min(free_nats) if free_nats > 0 else kl


def gaussian_log_prob(x: torch.Tensor, dist: Gaussian) -> torch.Tensor:
    """log N(x | mean, std) per element."""
    mean, std = dist
    return -0.5 * ((x - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)


def tanh_gaussian_log_prob(action: torch.Tensor, dist: Gaussian, eps: float = 1e-4) -> torch.Tensor:
    """log p(a) per element of a = tanh(u), u ~ N(mean, std); ``action`` is clamped to ±(1 - eps)
    so that actions on the bounds of [-1, 1] stay finite."""
    u = torch.atanh(action.clamp(-1 + eps, 1 - eps))
    return gaussian_log_prob(u, dist) - torch.log1p(-(torch.tanh(u) ** 2))


def sample(dist: Gaussian, generator: torch.Generator | None) -> torch.Tensor:
    """A reparameterised draw (differentiable in mean and std), by ``generator`` if given."""
    mean, std = dist
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + std * noise


class GaussianHead(nn.Module):
    """A diagonal Gaussian of its input: mean and std by two MLPs (AIME's structure), std =
    softplus(·) + ``min_std``."""

    def __init__(self, in_dim: int, out_dim: int, units: int, layers: int, activation: str, min_std: float):
        super().__init__()
        self.mean = mlp(in_dim, [units] * layers, out_dim, activation)
        self.std = mlp(in_dim, [units] * layers, out_dim, activation)
        self.min_std = min_std

    def forward(self, x: torch.Tensor) -> Gaussian:
        return self.mean(x), F.softplus(self.std(x)) + self.min_std


class VectorDecoder(nn.Module):
    """p(o_g | s) for a vector sensor: mean by an MLP; std fixed at 1 (``unit``) or a second MLP
    (``learned``, AIME's decoder)."""

    def __init__(self, in_dim: int, size: int, units: int, layers: int, activation: str, std: str, min_std: float):
        super().__init__()
        self.head = GaussianHead(in_dim, size, units, layers, activation, min_std) if std == "learned" else None
        self.mean = mlp(in_dim, [units] * layers, size, activation) if self.head is None else None

    def forward(self, feature: torch.Tensor) -> Gaussian:
        if self.head is not None:
            return self.head(feature)
        assert self.mean is not None
        mean = self.mean(feature)
        return mean, torch.ones_like(mean)


class State(NamedTuple):
    """An RSSM state: deterministic ``deter`` (..., H) and stochastic ``stoch`` (..., Z)."""

    deter: torch.Tensor
    stoch: torch.Tensor

    def at(self, t: int) -> State:
        """The state at time ``t`` of a (B, T, ·) sequence of states."""
        return State(self.deter[:, t], self.stoch[:, t])

    @property
    def feature(self) -> torch.Tensor:
        return torch.cat([self.deter, self.stoch], dim=-1)


class Filtered(NamedTuple):
    """``observe``'s result, each (B, T, ·): states from the posterior, both distributions, and
    the action before each step."""

    states: State
    posterior: Gaussian
    prior: Gaussian
    actions: torch.Tensor


class RSSM(nn.Module):
    """The world model; ``config`` (JSON-able) rebuilds it (``from_config``)."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(
        self,
        layout: Sequence[Sequence[Any]],
        act_dim: int,
        deter: int = 64,
        stoch: int = 16,
        units: int = 64,
        layers: int = 2,
        embed: int = 0,
        activation: str = "elu",
        min_std: float = 0.01,
        decoder_std: str = "learned",
        idm: bool = False,
    ):
        super().__init__()
        if decoder_std not in DECODER_STDS:
            raise ValueError(f"decoder_std must be one of {DECODER_STDS}, got {decoder_std!r}")
        self.layout = as_layout(layout)
        self.config = {
            "layout": [[name, size] for name, size in self.layout],
            "act_dim": act_dim,
            "deter": deter,
            "stoch": stoch,
            "units": units,
            "layers": layers,
            "embed": embed,
            "activation": activation,
            "min_std": min_std,
            "decoder_std": decoder_std,
            "idm": idm,
        }
        self.act_dim, self.deter_dim, self.stoch_dim = act_dim, deter, stoch
        self.obs_dim = sum(size for _, size in self.layout)
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_std", torch.ones(self.obs_dim))
        hidden = [units] * layers
        self.encoders = nn.ModuleDict(
            {name: mlp(size, hidden, embed, activation) if embed else nn.Identity() for name, size in self.layout}
        )
        embed_dim = embed * len(self.layout) if embed else self.obs_dim
        self.cell = nn.GRUCell(stoch + act_dim, deter)
        self.prior_net = GaussianHead(deter, stoch, units, layers, activation, min_std)
        self.posterior_net = GaussianHead(deter + embed_dim, stoch, units, layers, activation, min_std)
        self.decoders = nn.ModuleDict(
            {
                name: VectorDecoder(deter + stoch, size, units, layers, activation, decoder_std, min_std)
                for name, size in self.layout
            }
        )
        # AIME's inverse dynamics model: a_{t-1} (tanh-Gaussian) from s_{t-1} and the embedding
        # of o_t (not from s_t, whose h_t is computed from a_{t-1}); built last so that the
        # other weights are initialised as without it
        self.idm = GaussianHead(deter + stoch + embed_dim, act_dim, units, layers, activation, min_std) if idm else None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RSSM:
        return cls(**{**config, "layout": [tuple(g) for g in config["layout"]]})

    # -- observations ----------------------------------------------------------------------------
    @torch.no_grad()
    def fit_normalizer(self, obs: torch.Tensor) -> None:
        """z-scoring of each observation number, fitted on (N, obs_dim) training observations."""
        mean, std = column_mean_std(obs)
        self.obs_mean.copy_(mean)
        self.obs_std.copy_(std)

    def flatten(self, obs: torch.Tensor | Mapping[str, torch.Tensor]) -> torch.Tensor:
        """A dict of groups (in any order) or a flat (..., obs_dim) vector, as the flat vector."""
        if isinstance(obs, Mapping):
            if set(obs) != {name for name, _ in self.layout}:
                raise ValueError(
                    f"observation groups {sorted(obs)} do not match the layout ({layout_text(self.layout)})"
                )
            obs = torch.cat([obs[name] for name, _ in self.layout], dim=-1)
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(
                f"observations have {obs.shape[-1]} numbers, the layout ({layout_text(self.layout)}) {self.obs_dim}"
            )
        return obs

    def normalize(self, obs: torch.Tensor | Mapping[str, torch.Tensor]) -> torch.Tensor:
        return (self.flatten(obs) - self.obs_mean) / self.obs_std

    def denormalize(self, obs_n: torch.Tensor) -> torch.Tensor:
        return obs_n * self.obs_std + self.obs_mean

    def embed(self, obs_n: torch.Tensor) -> torch.Tensor:
        groups = split_groups(obs_n, self.layout)
        return torch.cat([self.encoders[name](groups[name]) for name, _ in self.layout], dim=-1)

    # -- dynamics --------------------------------------------------------------------------------
    def initial_state(self, batch: int) -> State:
        device = self.obs_mean.device
        return State(
            torch.zeros(batch, self.deter_dim, device=device), torch.zeros(batch, self.stoch_dim, device=device)
        )

    def filter_step(
        self,
        state: State,
        prev_action: torch.Tensor,
        embed: torch.Tensor,
        generator: torch.Generator | None = None,
        use_mean: bool = False,
    ) -> tuple[State, Gaussian]:
        """One posterior step: h from the previous state and action, z from q(z | h, e) (a draw,
        or its mean with ``use_mean``); returns the new state and the posterior."""
        h = self.cell(torch.cat([state.stoch, prev_action], dim=-1), state.deter)
        post = self.posterior_net(torch.cat([h, embed], dim=-1))
        return State(h, post[0] if use_mean else sample(post, generator)), post

    def observe(
        self,
        obs_n: torch.Tensor,
        prev_actions: torch.Tensor | None,
        state: State | None = None,
        generator: torch.Generator | None = None,
        use_mean: bool = False,
        policy: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> Filtered:
        """Filter normalised observations (B, T, obs_dim) with the actions before each step
        (B, T, act_dim) from ``state`` (default: zeros); z_t is drawn from the posterior
        (``use_mean``: its mean). With ``policy`` (AIME phase 2) the action before step t is
        ``policy(feature of the state before t, embedding of o_t)`` instead (the zero state's
        before the first step; the embedding is for IDM guidance), and ``prev_actions`` is not
        read; the actions used come back in ``actions``."""
        batch, steps = obs_n.shape[:2]
        state = self.initial_state(batch) if state is None else state
        embeds = self.embed(obs_n)
        deters, stochs, means, stds, actions = [], [], [], [], []
        for t in range(steps):
            if policy is not None:
                action = policy(state.feature, embeds[:, t])
            else:
                assert prev_actions is not None, "observe needs prev_actions or a policy"
                action = prev_actions[:, t]
            state, post = self.filter_step(state, action, embeds[:, t], generator, use_mean)
            deters.append(state.deter)
            stochs.append(state.stoch)
            means.append(post[0])
            stds.append(post[1])
            actions.append(action)
        deter = torch.stack(deters, dim=1)
        posterior = (torch.stack(means, dim=1), torch.stack(stds, dim=1))
        return Filtered(
            State(deter, torch.stack(stochs, dim=1)), posterior, self.prior_net(deter), torch.stack(actions, dim=1)
        )

    def imagine(
        self, state: State, actions: torch.Tensor, generator: torch.Generator | None = None, use_mean: bool = True
    ) -> State:
        """Roll the prior forward from ``state`` (B, ·) under ``actions`` (B, H, act_dim), the action
        applied from each state in turn; returns the H next states (B, H, ·). z is the prior's
        mean (``use_mean``) or a draw. Differentiable in ``actions`` and ``state``."""
        h, z = state
        deters, stochs = [], []
        for t in range(actions.shape[1]):
            h = self.cell(torch.cat([z, actions[:, t]], dim=-1), h)
            prior = self.prior_net(h)
            z = prior[0] if use_mean else sample(prior, generator)
            deters.append(h)
            stochs.append(z)
        return State(torch.stack(deters, dim=1), torch.stack(stochs, dim=1))

    def decode(self, state: State) -> dict[str, Gaussian]:
        """Each group's Gaussian p(o_g | s), in normalised units."""
        feature = state.feature
        return {name: self.decoders[name](feature) for name, _ in self.layout}

    def decode_mean(self, state: State) -> torch.Tensor:
        """The decoders' means as flat observations in the data's units."""
        dists = self.decode(state)
        return self.denormalize(torch.cat([dists[name][0] for name, _ in self.layout], dim=-1))

    def open_loop(
        self, state: State, actions: torch.Tensor, generator: torch.Generator | None = None, use_mean: bool = True
    ) -> torch.Tensor:
        """``imagine`` then decode: the predicted observations (B, H, obs_dim), data units."""
        return self.decode_mean(self.imagine(state, actions, generator, use_mean))

    def predict(self, obs: torch.Tensor, prev_actions: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Filter the first ``context`` steps of (B, T, obs_dim) observations, then predict the
        rest open loop with the recorded actions. Returns (filtered, predicted), both (B, T,
        obs_dim) in data units: the posterior's reconstruction of every step, and the same for
        the context steps followed by the prior's open-loop prediction (all by means)."""
        filtered = self.observe(self.normalize(obs), prev_actions, use_mean=True)
        recon = self.decode_mean(filtered.states)
        future = self.open_loop(filtered.states.at(context - 1), prev_actions[:, context:])
        return recon, torch.cat([recon[:, :context], future], dim=1)

    # -- inverse dynamics (AIME's IDM) -------------------------------------------------------------
    def idm_dist(self, feature: torch.Tensor, embed: torch.Tensor) -> Gaussian:
        """The IDM's Gaussian before the tanh of a_{t-1}, from s_{t-1}'s feature and e_t."""
        if self.idm is None:
            raise ValueError("this world model has no inverse dynamics model (train it with idm=true)")
        return self.idm(torch.cat([feature, embed], dim=-1))

    def idm_nll(self, states: State, obs_n: torch.Tensor, prev_actions: torch.Tensor) -> torch.Tensor:
        """-log q(a_{t-1} | s_{t-1}, e_t) per sequence and step t = 1 .. T-1, inputs detached."""
        feature = states.feature[:, :-1].detach()
        embed = self.embed(obs_n)[:, 1:].detach()
        dist = self.idm_dist(feature, embed)
        return -tanh_gaussian_log_prob(prev_actions[:, 1:], dist).sum(-1)

    # -- loss ------------------------------------------------------------------------------------
    def loss(
        self,
        obs_n: torch.Tensor,
        prev_actions: torch.Tensor | None,
        generator: torch.Generator | None = None,
        free_nats: float = 0.0,
        kl_balance: float = -1.0,
        kl_scale: float = 1.0,
        beta_nll: bool = False,
        policy: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        terms: str = "elbo",
        idm_weight: float = 1.0,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The negative ELBO of normalised observations (B, T, obs_dim) under the options in the
        module docstring, summed over time and averaged over the batch; and per-step statistics
        of the true (unclamped, unweighted) terms: ``elbo``, ``kl``, ``nll_<group>``, ``mse_<group>``.
        ``policy``: the actions come from it (``observe``; AIME phase 2). ``terms``: ``elbo``
        (both), ``kl`` (the KL term only) or ``rec`` (the reconstruction term only) in the loss.
        A model with an IDM, given recorded actions, adds ``idm_weight`` × its negative
        log-likelihood of each a_{t-1}, t ≥ 1, on detached inputs (AIME's ``idm_mode: detach``:
        it does not shape the model), logged as ``idm_nll`` per step."""
        if terms not in LOSS_TERMS:
            raise ValueError(f"terms must be one of {LOSS_TERMS}, got {terms!r}")
        filtered = self.observe(obs_n, prev_actions, generator=generator, policy=policy)
        dists = self.decode(filtered.states)
        targets = split_groups(obs_n, self.layout)
        log_probs = {name: gaussian_log_prob(targets[name], dists[name]) for name, _ in self.layout}  # (B, T, d)
        kl = gaussian_kl(filtered.posterior, filtered.prior)  # (B, T)
        kl_term = free_nats_kl(balanced_kl(filtered.posterior, filtered.prior, kl_balance), free_nats)
        log_prob = torch.cat([log_probs[name] for name, _ in self.layout], dim=-1)
        if beta_nll:  # AIME's "dim_wise" reweighting (Seitzer et al. 2022), applied to the KL too
            weight = torch.cat([dists[name][1] for name, _ in self.layout], dim=-1).detach()
            log_prob, kl_term = log_prob * weight, kl_term * weight.mean(-1)
        per_step = torch.zeros_like(kl)
        if terms != "kl":
            per_step = per_step - log_prob.sum(-1)
        if terms != "rec":
            per_step = per_step + kl_scale * kl_term
        loss = per_step.sum(1).mean()
        idm_nll = None
        if self.idm is not None and prev_actions is not None and obs_n.shape[1] > 1:
            idm_nll = self.idm_nll(filtered.states, obs_n, prev_actions)  # (B, T - 1)
            loss = loss + idm_weight * idm_nll.sum(1).mean()
        nll = {name: -lp.sum(-1).mean() for name, lp in log_probs.items()}
        stats = {"loss": loss.item() / obs_n.shape[1], "kl": kl.mean().item()}
        if idm_nll is not None:
            stats["idm_nll"] = idm_nll.mean().item()
        stats["elbo"] = -sum(v.item() for v in nll.values()) - stats["kl"]
        for name, _ in self.layout:
            stats[f"nll_{name}"] = nll[name].item()
            stats[f"mse_{name}"] = ((dists[name][0] - targets[name]) ** 2).mean().item()
        return loss, stats
