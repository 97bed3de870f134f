"""The dynamics models of BCO and IIDM: the inverse model's actions stay inside the action
bounds, the forward model is differentiable in its actions, and each fits a known linear system."""

from __future__ import annotations

import torch

from imitate.algos.dynamics import ForwardDynamics, InverseDynamics


def _linear_system(n: int = 2000):
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(n, 3, generator=g)
    actions = torch.rand(n, 2, generator=g) * 2 - 1
    mix = torch.tensor([[0.5, -0.2, 0.1], [0.0, 0.3, -0.4]])
    return obs, actions, 0.9 * obs + actions @ mix


def _fitted(kind, steps: int = 400):
    """A model of ``kind`` fitted by Adam on the linear system; returns it and the system's data."""
    torch.manual_seed(0)
    obs, actions, next_obs = _linear_system()
    model = kind(3, 2, width=64)
    model.normalizer.fit(obs, actions)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        optimizer.zero_grad()
        model.loss(obs, actions, next_obs).backward()
        optimizer.step()
    return model, obs, actions, next_obs


def test_the_inverse_model_recovers_the_actions_of_a_linear_system_inside_the_bounds():
    model, obs, actions, next_obs = _fitted(InverseDynamics)
    with torch.no_grad():
        assert ((model(obs, next_obs) - actions) ** 2).mean() < 0.02 * actions.var(0).mean()
        far = model(obs * 50, next_obs * -50)
    assert far.abs().max() <= 1.0


def test_the_forward_model_predicts_a_linear_system_and_passes_gradients_to_actions():
    model, obs, actions, next_obs = _fitted(ForwardDynamics)
    with torch.no_grad():
        error = ((model(obs, actions) - model.normalizer.obs(next_obs)) ** 2).mean()
    assert error < 0.02
    model.zero_grad(set_to_none=True)
    model.requires_grad_(False)  # frozen, as IIDM's second stage uses it
    probe = actions[:4].clone().requires_grad_(True)
    model(obs[:4], probe).sum().backward()
    assert probe.grad is not None and probe.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())
