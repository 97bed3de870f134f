"""The RSSM world model: its loss terms on known distributions (KL, free nats, KL balancing,
β-NLL), observation layouts, differentiable imagination, and learning on a linear-Gaussian
system generated here: the ELBO improves, and after the context the posterior tracks the
observations better than the prior's open-loop prediction."""

from __future__ import annotations

import math

import pytest
import torch

from imitate.models.rssm import (
    RSSM,
    as_layout,
    balanced_kl,
    free_nats_kl,
    gaussian_kl,
    gaussian_log_prob,
    layout_text,
)

LAYOUT = (("position", 2), ("extra", 1))  # two sensor groups: o = C x + noise, 3 numbers


def linear_gaussian(episodes: int, steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x_{t+1} = A x_t + B a_t + w, o_t = C x_t + v: observations (E, T, 3) and the action before
    each step (E, T, 1; zero at t = 0). A is a damped rotation, a ~ U(-1, 1)."""
    g = torch.Generator().manual_seed(seed)
    angle = 0.3
    a_mat = 0.97 * torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    b_mat = torch.tensor([[0.0], [0.5]])
    c_mat = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]])
    x = torch.randn(episodes, 2, generator=g)
    actions = torch.rand(episodes, steps, 1, generator=g) * 2 - 1
    obs = []
    for t in range(steps):
        obs.append(x @ c_mat.T + 0.05 * torch.randn(episodes, 3, generator=g))
        x = x @ a_mat.T + actions[:, t] @ b_mat.T + 0.1 * torch.randn(episodes, 2, generator=g)
    prev = torch.cat([torch.zeros(episodes, 1, 1), actions[:, :-1]], dim=1)
    return torch.stack(obs, dim=1), prev


def small_model(**kw) -> RSSM:
    torch.manual_seed(0)
    return RSSM(LAYOUT, 1, deter=32, stoch=4, units=32, layers=1, **kw)


# -- loss terms on known distributions --------------------------------------------------------
def test_kl_of_identical_gaussians_is_zero_and_matches_torch_otherwise():
    g = torch.Generator().manual_seed(0)
    mean, std = torch.randn(5, 3, generator=g), torch.rand(5, 3, generator=g) + 0.1
    assert torch.allclose(gaussian_kl((mean, std), (mean, std)), torch.zeros(5), atol=1e-6)
    mean_p, std_p = torch.randn(5, 3, generator=g), torch.rand(5, 3, generator=g) + 0.1
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, std), torch.distributions.Normal(mean_p, std_p)
    ).sum(-1)
    assert torch.allclose(gaussian_kl((mean, std), (mean_p, std_p)), reference, atol=1e-5)
    assert (reference > 0).all()


def test_log_prob_matches_torch():
    x, mean, std = torch.tensor([0.3, -1.0]), torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5])
    reference = torch.distributions.Normal(mean, std).log_prob(x)
    assert torch.allclose(gaussian_log_prob(x, (mean, std)), reference, atol=1e-6)


def test_free_nats_clamp_the_value_and_stop_the_gradient_below_them():
    kl = torch.tensor([0.2, 0.9, 3.0], requires_grad=True)
    clamped = free_nats_kl(kl, 1.0)
    assert clamped.tolist() == pytest.approx([1.0, 1.0, 3.0])
    clamped.sum().backward()
    assert kl.grad is not None and kl.grad.tolist() == [0.0, 0.0, 1.0]
    assert free_nats_kl(kl, 0.0) is kl  # zero free nats: the KL itself


def _kl_grads(balance: float) -> tuple[float, torch.Tensor, torch.Tensor]:
    mq = torch.tensor([0.5, -0.2], requires_grad=True)
    mp = torch.tensor([0.0, 0.3], requires_grad=True)
    std = torch.tensor([0.7, 1.2])
    kl = balanced_kl((mq, std), (mp, std * 1.5), balance).sum()
    kl.backward()
    assert mq.grad is not None and mp.grad is not None
    return kl.item(), mq.grad, mp.grad


@pytest.mark.parametrize("alpha", [0.0, 0.8, 1.0])
def test_kl_balance_keeps_the_value_and_splits_the_gradient(alpha):
    value, grad_q, grad_p = _kl_grads(-1.0)  # off: the plain KL
    balanced, bal_q, bal_p = _kl_grads(alpha)
    assert balanced == pytest.approx(value)
    assert torch.allclose(bal_p, alpha * grad_p) and torch.allclose(bal_q, (1 - alpha) * grad_q)
    assert grad_p.abs().sum() > 0 and grad_q.abs().sum() > 0


def test_beta_nll_changes_nothing_with_unit_decoder_std():
    obs, prev = linear_gaussian(4, 6, seed=1)
    model = small_model(decoder_std="unit")
    plain, _ = model.loss(model.normalize(obs), prev, torch.Generator().manual_seed(0))
    weighted, _ = model.loss(model.normalize(obs), prev, torch.Generator().manual_seed(0), beta_nll=True)
    assert plain.item() == pytest.approx(weighted.item())


def test_loss_is_the_negative_elbo_summed_over_time():
    obs, prev = linear_gaussian(4, 6, seed=1)
    model = small_model()
    loss, stats = model.loss(model.normalize(obs), prev, torch.Generator().manual_seed(0))
    assert loss.item() / 6 == pytest.approx(stats["loss"])
    assert stats["loss"] == pytest.approx(-stats["elbo"], rel=1e-5)  # no free nats, no reweighting
    assert stats["elbo"] == pytest.approx(-(stats["nll_position"] + stats["nll_extra"]) - stats["kl"], rel=1e-5)


def test_loss_terms_select_the_kl_or_the_reconstruction():
    obs, prev = linear_gaussian(4, 6, seed=1)
    model = small_model()
    losses = {
        terms: model.loss(model.normalize(obs), prev, torch.Generator().manual_seed(0), terms=terms)
        for terms in ("elbo", "kl", "rec")
    }
    (elbo, stats), (kl, _), (rec, _) = losses["elbo"], losses["kl"], losses["rec"]
    assert kl.item() / 6 == pytest.approx(stats["kl"], rel=1e-5)
    assert rec.item() / 6 == pytest.approx(stats["nll_position"] + stats["nll_extra"], rel=1e-5)
    assert elbo.item() == pytest.approx(kl.item() + rec.item(), rel=1e-5)
    with pytest.raises(ValueError, match="terms must be one of"):
        model.loss(model.normalize(obs), prev, terms="both")


def test_a_policy_in_the_filter_supplies_the_actions_and_receives_the_gradient():
    """AIME phase 2: the action before step t is the policy's on the state before t; a policy
    that replays the recorded actions filters exactly as the recorded actions do, and the ELBO's
    gradient reaches a learnt policy through the frozen model."""
    obs, prev = linear_gaussian(3, 5, seed=3)
    model = small_model().requires_grad_(False)
    obs_n = model.normalize(obs)
    replay = iter(prev.unbind(1))
    replayed = model.observe(obs_n, None, use_mean=True, policy=lambda feature, embed: next(replay))
    recorded = model.observe(obs_n, prev, use_mean=True)
    assert torch.equal(replayed.states.deter, recorded.states.deter) and torch.equal(replayed.actions, prev)
    torch.manual_seed(1)
    policy = torch.nn.Linear(32 + 4, 1)
    seen = []

    def act(feature: torch.Tensor, embed: torch.Tensor) -> torch.Tensor:
        seen.append(feature)
        return torch.tanh(policy(feature))

    loss, _ = model.loss(obs_n, None, torch.Generator().manual_seed(0), policy=act)
    assert torch.equal(seen[0], torch.zeros(3, 36))  # the first action comes from the zero state
    loss.backward()
    assert policy.weight.grad is not None and policy.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


def test_the_idm_learns_from_detached_inputs_only():
    """AIME's IDM (idm_mode detach): its NLL moves its own weights and no other; the rest of the
    model is initialised as without it."""
    obs, prev = linear_gaussian(4, 6, seed=1)
    with_idm, without = small_model(idm=True), small_model()
    assert all(torch.equal(a, b) for a, b in zip(without.state_dict().values(), with_idm.state_dict().values()))
    grads = {}
    for weight in (0.0, 1.0):
        with_idm.zero_grad()
        loss, stats = with_idm.loss(with_idm.normalize(obs), prev, torch.Generator().manual_seed(0), idm_weight=weight)
        loss.backward()
        grads[weight] = {n: p.grad.clone() for n, p in with_idm.named_parameters() if p.grad is not None}
        assert stats["idm_nll"] > 0
    idm = {n for n in grads[1.0] if n.startswith("idm.")}
    assert idm and all(grads[1.0][n].abs().sum() > 0 and grads[0.0][n].abs().sum() == 0 for n in idm)
    assert all(torch.equal(grads[0.0][n], grads[1.0][n]) for n in grads[1.0] if n not in idm)
    with pytest.raises(ValueError, match="no inverse dynamics model"):
        without.idm_dist(torch.zeros(1, 36), torch.zeros(1, 3))


# -- layouts and imagination ---------------------------------------------------------------------
def test_groups_as_a_dict_or_a_flat_vector_are_the_same_observation():
    obs, _ = linear_gaussian(2, 3, seed=0)
    model = small_model()
    as_dict = {"extra": obs[..., 2:], "position": obs[..., :2]}
    assert torch.equal(model.normalize(as_dict), model.normalize(obs))
    with pytest.raises(ValueError, match="do not match the layout"):
        model.normalize({"position": obs[..., :2]})
    with pytest.raises(ValueError, match="image groups are not implemented yet"):
        as_layout([("camera", (3, 64, 64))])
    with pytest.raises(ValueError, match="unique"):
        as_layout([("a", 1), ("a", 2)])
    assert layout_text(as_layout(LAYOUT)) == "position:2, extra:1"
    rebuilt = RSSM.from_config(model.config)
    assert rebuilt.layout == model.layout and rebuilt.config == model.config


def test_imagination_is_differentiable_in_the_actions():
    obs, prev = linear_gaussian(3, 8, seed=2)
    model = small_model().requires_grad_(False)  # frozen, as AIME phase 2 uses it
    filtered = model.observe(model.normalize(obs[:, :4]), prev[:, :4], use_mean=True)
    actions = torch.zeros(3, 4, 1, requires_grad=True)
    predicted = model.open_loop(filtered.states.at(3), actions)
    assert predicted.shape == (3, 4, 3)
    (predicted - obs[:, 4:]).pow(2).sum().backward()
    assert actions.grad is not None and actions.grad.abs().sum() > 0


# -- learning on the linear-Gaussian system -----------------------------------------------------
def _train(model: RSSM, obs: torch.Tensor, prev: torch.Tensor, steps: int) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    obs_n = model.normalize(obs)
    for _ in range(steps):
        idx = torch.randint(len(obs), (16,), generator=g)
        loss, _ = model.loss(obs_n[idx], prev[idx], g, beta_nll=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@torch.no_grad()
def _heldout_elbo(model: RSSM, obs: torch.Tensor, prev: torch.Tensor) -> float:
    return model.loss(model.normalize(obs), prev, torch.Generator().manual_seed(1))[1]["elbo"]


def test_elbo_improves_and_the_posterior_tracks_better_than_the_open_loop_prior():
    train_obs, train_prev = linear_gaussian(64, 20, seed=0)
    test_obs, test_prev = linear_gaussian(32, 20, seed=1)
    model = small_model()
    model.fit_normalizer(train_obs.reshape(-1, 3))
    before = _heldout_elbo(model, test_obs, test_prev)
    _train(model, train_obs, train_prev, steps=150)
    after = _heldout_elbo(model, test_obs, test_prev)
    assert after > before + 3.0, (before, after)  # nats per step
    with torch.no_grad():
        filtered, predicted = model.predict(test_obs, test_prev, context=5)
    filter_mse = (filtered[:, 5:] - test_obs[:, 5:]).pow(2).mean().item()
    open_loop_mse = (predicted[:, 5:] - test_obs[:, 5:]).pow(2).mean().item()
    spread = test_obs[:, 5:].var().item()
    assert filter_mse < 0.25 * open_loop_mse, (filter_mse, open_loop_mse)
    assert open_loop_mse < 0.25 * spread, (open_loop_mse, spread)  # the prior learnt the dynamics too
