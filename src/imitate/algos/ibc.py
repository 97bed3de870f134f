"""Implicit behavioural cloning (Florence et al. 2021): an energy E(o, a) trained with InfoNCE, acting by
optimising the energy over actions.

Everything happens in normalised units: observations z-scored, actions in [-1, 1] (the
dataset's widened min/max box, see ``bc_common``). Higher energy = better action.

- Training (``ibc-dfo``): each demo pair (o, a*) is scored against ``counter_examples`` actions
  drawn uniformly in the box; InfoNCE is the cross-entropy of picking a* among them, with logits
  E / temperature.
- ``ibc-langevin``: the uniform counter-examples are first moved by Langevin MCMC on the current
  energy (harder negatives), and a gradient penalty max(0, ||∂E/∂a||_∞ − margin)² on them keeps
  the energy smooth enough for Langevin to work at inference.
- Inference by derivative-free optimisation (sample uniformly, resample by softmax(E), add noise
  that shrinks each iteration, then argmax), or by Langevin MCMC from uniform samples (step size
  decaying polynomially, injected noise) followed by argmax over the chains.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imitate.algos.bc_common import BCPolicy, evaluate_bc_run, train_bc_run
from imitate.algos.ibc_config import IBCConfig
from imitate.models.ebm import EnergyModel


def uniform_actions(
    batch: int, count: int, act_dim: int, generator: torch.Generator | None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """(batch, count, act_dim) uniform in the normalised action box [-1, 1]."""
    return torch.rand(batch, count, act_dim, generator=generator, device=device) * 2.0 - 1.0


def info_nce(
    energy: nn.Module, obs_n: torch.Tensor, act_n: torch.Tensor, negatives: torch.Tensor, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE loss of the true action (B, A) among negatives (B, K, A); also the true action's rank-0 rate."""
    candidates = torch.cat([act_n[:, None, :], negatives], dim=1)  # (B, 1+K, A)
    logits = energy(obs_n, candidates) / temperature  # (B, 1+K)
    target = torch.zeros(len(obs_n), dtype=torch.long, device=obs_n.device)
    return F.cross_entropy(logits, target), (logits.argmax(1) == 0).float().mean()


def langevin_step_size(t: int, steps: int, init: float, final: float, power: float) -> float:
    """Step size of step t of ``steps``: polynomial decay from ``init`` at the first step (t = 0)
    to ``final`` at the last (t = steps − 1), as IBC's polynomial schedule; one step uses ``init``."""
    if steps <= 1:
        return init
    return (init - final) * (1.0 - t / (steps - 1)) ** power + final


def energy_grad(
    energy: EnergyModel, obs_n: torch.Tensor, actions: torch.Tensor, create_graph: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """E (B, K) and ∂E/∂a (B, K, A) at ``actions``."""
    with torch.enable_grad():
        if not actions.requires_grad:
            actions = actions.detach().requires_grad_(True)
        e = energy(obs_n, actions)
        (grad,) = torch.autograd.grad(e.sum(), actions, create_graph=create_graph)
    return e, grad


def langevin(
    energy: EnergyModel,
    obs_n: torch.Tensor,
    actions: torch.Tensor,
    steps: int,
    generator: torch.Generator | None,
    step_init: float = 0.1,
    step_final: float = 1e-5,
    power: float = 2.0,
    noise: float = 1.0,
    grad_clip: float = 1.0,
    delta_clip: float = 0.1,
) -> torch.Tensor:
    """Langevin MCMC on E from ``actions`` (B, K, A): a ← clip(a + ε_t (½ ∂E/∂a + noise·ξ)).

    The gradient is clipped per component (``grad_clip``), the move per step too (``delta_clip``)
    and the actions stay in the box. Returns detached (B, K, A).
    """
    a = actions.detach()
    for t in range(steps):
        eps = langevin_step_size(t, steps, step_init, step_final, power)
        _, grad = energy_grad(energy, obs_n, a)
        if grad_clip > 0:
            grad = grad.clamp(-grad_clip, grad_clip)
        xi = torch.randn(a.shape, generator=generator, device=a.device)
        delta = (eps * (0.5 * grad + noise * xi)).clamp(-delta_clip, delta_clip)
        a = (a + delta).clamp(-1.0, 1.0).detach()
    return a


def gradient_penalty(
    energy: EnergyModel, obs_n: torch.Tensor, actions: torch.Tensor, margin: float = 1.0
) -> torch.Tensor:
    """mean over samples of max(0, ||∂E/∂a||_∞ − margin)², differentiable in the weights."""
    _, grad = energy_grad(energy, obs_n, actions.detach().requires_grad_(True), create_graph=True)
    return F.relu(grad.abs().amax(-1) - margin).pow(2).mean()


@torch.no_grad()
def dfo(
    energy: nn.Module,
    obs_n: torch.Tensor,
    act_dim: int,
    samples: int = 1024,
    iterations: int = 3,
    noise: float = 0.33,
    shrink: float = 0.5,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    select: str = "argmax",
) -> torch.Tensor:
    """An action of high E(o, a) by derivative-free optimisation, (B, O) → (B, A).

    ``select`` picks from the final population: ``argmax`` (the paper's Algorithm 1) or ``sample``
    ∝ softmax(E / temperature) (an ablation: IBC's released policy takes the argmax; docs/ibc.md).
    ``energy`` is any E(o, a): (B, O), (B, K, A) → (B, K) (ibc-ardfo searches one coordinate)."""
    b, device = len(obs_n), obs_n.device
    a = uniform_actions(b, samples, act_dim, generator, device)
    rows = torch.arange(b, device=device)[:, None]
    for it in range(iterations):
        logits = energy(obs_n, a) / temperature  # (B, S)
        if it == iterations - 1:
            break  # choose among the samples just evaluated, as IBC does: no noise after the last look
        idx = torch.multinomial(torch.softmax(logits, dim=1), samples, replacement=True, generator=generator)
        a = (a[rows, idx] + noise * torch.randn(a.shape, generator=generator, device=device)).clamp(-1.0, 1.0)
        noise *= shrink
    if select == "sample":
        best = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=generator)[:, 0]
    else:
        best = logits.argmax(1)
    return a[rows[:, 0], best]


def configured_dfo(
    energy: nn.Module, obs_n: torch.Tensor, act_dim: int, cfg: IBCConfig, generator: torch.Generator | None
) -> torch.Tensor:
    """``dfo`` with the DFO settings of ``cfg`` (samples, iterations, noise, shrink, temperature, select)."""
    return dfo(
        energy,
        obs_n,
        act_dim,
        cfg.dfo_samples,
        cfg.dfo_iterations,
        cfg.dfo_noise,
        cfg.dfo_shrink,
        cfg.temperature,
        generator,
        cfg.dfo_select,
    )


def langevin_argmax(
    energy: EnergyModel,
    obs_n: torch.Tensor,
    act_dim: int,
    samples: int,
    steps: int,
    generator: torch.Generator | None,
    **kwargs,
) -> torch.Tensor:
    """Langevin inference: run chains from uniform samples, return the best final chain, (B, A)."""
    a = uniform_actions(len(obs_n), samples, act_dim, generator, obs_n.device)
    a = langevin(energy, obs_n, a, steps, generator, **kwargs)
    with torch.no_grad():
        best = energy(obs_n, a).argmax(1)
    return a[torch.arange(len(obs_n), device=obs_n.device), best]


class ImplicitPolicy(BCPolicy):
    """π(o) = argmax_a E(o, a), found by DFO or Langevin (``cfg.inference``)."""

    loss_name = "info_nce_loss"

    def __init__(self, obs_dim: int, act_dim: int, cfg: IBCConfig):
        super().__init__(obs_dim, act_dim)
        self.cfg = cfg
        self.energy = EnergyModel(
            obs_dim, act_dim, cfg.width, cfg.blocks, cfg.activation, cfg.dropout, cfg.spectral_norm
        )

    def _langevin_kwargs(self) -> dict:
        c = self.cfg
        return dict(
            step_init=c.langevin_step_init,
            step_final=c.langevin_step_final,
            power=c.langevin_power,
            noise=c.langevin_noise,
            grad_clip=c.langevin_grad_clip,
            delta_clip=c.langevin_delta_clip,
        )

    def loss(self, obs_n, act_n, generator):
        c = self.cfg
        negatives = uniform_actions(len(obs_n), c.counter_examples, self.act_dim, generator, obs_n.device)
        stats = {}
        penalty = torch.zeros((), device=obs_n.device)
        if c.langevin_negatives:
            self.energy.eval()  # no dropout while sampling
            negatives = langevin(
                self.energy, obs_n, negatives, c.langevin_train_steps, generator, **self._langevin_kwargs()
            )
            self.energy.train()
            penalty = gradient_penalty(self.energy, obs_n, negatives, c.grad_margin)
            stats["grad_penalty"] = penalty.item()
        nce, top1 = info_nce(self.energy, obs_n, act_n, negatives, c.temperature)
        stats.update(info_nce=nce.item(), true_action_top1=top1.item())
        return nce + c.grad_penalty * penalty, stats

    def act_normalized(self, obs_n, generator):
        c = self.cfg
        if c.inference == "langevin":
            return langevin_argmax(
                self.energy,
                obs_n,
                self.act_dim,
                c.langevin_samples,
                c.langevin_steps,
                generator,
                **self._langevin_kwargs(),
            )
        return configured_dfo(self.energy, obs_n, self.act_dim, c, generator)

    @torch.no_grad()
    def energy_grid(self, obs: torch.Tensor, resolution: int = 101) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Energy over a grid of 2-D env actions at one observation (obs_dim,).

        Returns (xs, ys, E (resolution, resolution)) with xs/ys the env-action coordinates of the
        grid, which spans the normalised box [-1, 1]²."""
        if self.act_dim != 2:
            raise ValueError(f"energy_grid needs a 2-D action, this policy has {self.act_dim}")
        u = torch.linspace(-1.0, 1.0, resolution, device=obs.device)
        gy, gx = torch.meshgrid(u, u, indexing="ij")
        grid_n = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=-1)  # (R*R, 2)
        e = self.energy(self.normalizer.obs(obs[None]), grid_n[None]).reshape(resolution, resolution)
        env_grid = self.normalizer.unaction(grid_n)
        return env_grid[:resolution, 0], env_grid[::resolution, 1], e


def build(cfg: IBCConfig, obs_dim: int, act_dim: int) -> ImplicitPolicy:
    return ImplicitPolicy(obs_dim, act_dim, cfg)


def train_ibc_dfo(task, cfg: IBCConfig, run, state):
    return train_bc_run(task, "ibc-dfo", cfg, run, state, build)


def train_ibc_langevin(task, cfg: IBCConfig, run, state):
    return train_bc_run(task, "ibc-langevin", cfg, run, state, build)


def evaluate_run(run, task, cfg: IBCConfig, episodes: int, video: bool = False) -> dict:
    """Success rate over ``episodes`` rollouts, trajectory plot, and for the 2-D particle the energy
    landscape over actions at two observations of an evaluation episode (its start, and where it
    is closest to goal 1: the moment the oracle switches goals)."""
    metrics, policy, result = evaluate_bc_run(run, task, cfg, episodes, build, video)
    if task.name == "particle" and policy.act_dim == 2:
        from imitate.data.history import stack_history
        from imitate.viz.particle import plot_energy_landscape

        traj = torch.as_tensor(result.trajectories[0], device=policy.normalizer.obs_mean.device)
        near_goal1 = int((traj[:, :2] - traj[:, 4:6]).norm(dim=-1).argmin())
        seen = stack_history(traj, [len(traj)], cfg.history)  # what the policy observed at each step
        plot_energy_landscape(
            policy,
            [seen[0], seen[near_goal1]],
            run.plots_dir / "energy_landscape.png",
            title=f"{run.algo}: E(o, a) in evaluation episode 0, at its start and "
            f"at step {near_goal1} (closest to goal 1)",
        )
    return metrics
