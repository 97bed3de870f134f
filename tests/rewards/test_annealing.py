"""NEAR's adaptive noise annealing and energy reward (docs/methods.md#near)."""

from __future__ import annotations

import math

import pytest
import torch

from imitate.models.energy import NCSN, EnergyTrainer
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.rewards.energy import Annealer, EnergyReward
from imitate.tasks.core.vecenv import StepResult


def feed(annealer: Annealer, values: list[float]) -> list[int]:
    """Observe each value; returns the level after each observation."""
    levels = []
    for v in values:
        annealer.observe(v)
        levels.append(annealer.level)
    return levels


def naive_rule_fires(baseline: float, average: float) -> bool:
    """The original multiplicative test, kept here only to show what it would do."""
    return average >= baseline * 1.02


# --- Annealer -------------------------------------------------------------------------------


def test_advances_after_two_percent_rise():
    a = Annealer(5)
    assert feed(a, [100.0, 100.0, 100.0]) == [0, 0, 0]
    assert a.baseline == pytest.approx(100.0)
    # Averages: (100+100+104)/3 = 101.3 < 102, then (100+104+104)/3 = 102.7 ≥ 102.
    assert feed(a, [104.0, 104.0]) == [0, 1]
    assert a.baseline is None and len(a.history) == 0  # restarts at the new level


def test_does_not_advance_below_two_percent():
    a = Annealer(5)
    assert feed(a, [100.0] * 3 + [101.5] * 30) == [0] * 33  # +1.5% forever
    assert a.average == pytest.approx(101.5)


def test_first_full_average_after_switch_is_new_baseline():
    a = Annealer(5)
    assert feed(a, [100.0] * 3 + [110.0]) == [0, 0, 0, 1]  # (100+100+110)/3 = 103.3
    # At level 1 energies are on another scale; the baseline is re-taken from three new values.
    assert feed(a, [5.0, 5.0]) == [1, 1] and a.baseline is None
    assert feed(a, [5.0]) == [1] and a.baseline == pytest.approx(5.0)
    assert feed(a, [5.05, 5.05]) == [1, 1]  # +0.67% average: no
    assert feed(a, [5.3]) == [2]  # (5.05+5.05+5.3)/3 = 5.13 ≥ 5.1


def test_never_moves_back_and_stops_at_last_level():
    a = Annealer(3)
    levels = feed(a, [1.0] * 3 + [2.0] * 2 + [1.0] * 3 + [2.0] * 2)
    assert levels[-1] == 2
    assert all(b >= c for b, c in zip(levels[1:], levels[:-1]))  # monotone
    assert feed(a, [-50.0, 100.0, 1e6, -1e6, 3.0]) == [2] * 5  # stays at the last level
    assert feed(a, [-1e6] * 10) == [2] * 10


def test_negative_energy_rise_advances():
    a = Annealer(5)
    feed(a, [-100.0] * 3)
    assert a.baseline == pytest.approx(-100.0)
    assert a.threshold() == pytest.approx(-98.0)  # 2% of |−100| better, not −100·1.02 = −102
    assert feed(a, [-97.0]) == [0]  # average −99
    assert feed(a, [-97.0]) == [1]  # average −98


def test_negative_energy_drop_or_flat_does_not_advance():
    for later in (-101.0, -100.0, -99.0):
        a = Annealer(5)
        feed(a, [-100.0] * 3)
        # The multiplicative rule compares with −102 and would switch at once ...
        assert naive_rule_fires(-100.0, later)
        # ... ours does not, however long the plateau lasts.
        assert feed(a, [later] * 20) == [0] * 20, later


def test_zero_baseline_needs_real_improvement():
    a = Annealer(5)
    feed(a, [0.0] * 3)
    assert feed(a, [0.0] * 10) == [0] * 10
    assert feed(a, [0.3]) == [1]


def test_fixed_level_never_moves():
    a = Annealer(50, fixed_level=7)
    assert feed(a, [float(v) for v in range(1, 100, 5)]) == [7] * 20
    with pytest.raises(ValueError, match="out of range"):
        Annealer(10, fixed_level=10)


def test_annealer_state_round_trip():
    a = Annealer(5)
    feed(a, [1.0, 1.0, 1.0, 1.01])
    b = Annealer(5)
    b.load_state_dict(a.state_dict())
    rest = [1.04, 1.04, 0.5, 0.5, 0.5, 0.6, 0.6, 0.6]
    assert feed(b, rest) == feed(a, rest)
    assert b.level == a.level == 2


# --- EnergyReward ---------------------------------------------------------------------------


def fake_step(transition: torch.Tensor, task: torch.Tensor) -> StepResult:
    """A StepResult carrying only what the energy reward reads: transitions and task reward."""
    n = transition.shape[0]
    false = torch.zeros(n, dtype=torch.bool)
    obs = transition[:, 2:]
    return StepResult(
        obs=obs, reward=task, terminated=false, truncated=false, final_obs=obs, success=false, transition=transition
    )


def tiny_model(seed: int = 0) -> NCSN:
    """A small random NCSN over 4-D maze pairs with a normaliser fitted to arena-scale data."""
    torch.manual_seed(seed)
    model = NCSN(4, hidden=(16,), latent_dim=8)
    model.normalizer.update(torch.rand(1000, 4, generator=torch.Generator().manual_seed(seed)) * 512)
    return model


def near_reward(energy: EnergyReward, w_task: float, w_energy: float) -> ComposedReward:
    """NEAR's reward as ``algos.near.make_near_reward`` composes it (without absorbing success)."""
    return ComposedReward({"task": (w_task, TaskReward()), "energy": (w_energy, energy)})


def test_reward_formula_with_provisional_then_window_offset():
    model = tiny_model()
    level = 45  # σ ≈ 0.02: energies of order tens, so tanh is far from 0
    reward = near_reward(EnergyReward(model, fixed_level=level), w_task=0.3, w_energy=0.7)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(64, 4, generator=g) * 512
    task = torch.rand(64, generator=g)
    with torch.no_grad():
        e = model(model.normalizer.normalize(x), torch.full((64,), level))
    assert e.std() > 1.0  # the check below is not vacuous
    total = reward(x[:, :2], None, fake_step(x, task))
    m0 = e.mean()  # no rollout yet: offset is the first batch's mean, held until update
    assert torch.allclose(total, 0.3 * task + 0.7 * torch.tanh((e - m0) / 10.0), atol=1e-5)
    assert torch.allclose(reward.last_terms["energy"], e, atol=1e-5)
    assert torch.equal(reward.last_terms["task"], task)
    # A second batch within the same rollout keeps the same offset.
    total2 = reward(x[:8, :2], None, fake_step(x[:8], task[:8]))
    assert torch.allclose(total2, 0.3 * task[:8] + 0.7 * torch.tanh((e[:8] - m0) / 10.0), atol=1e-5)

    rollout_means = []
    for i in range(4):
        rollout = torch.rand(200, 4, generator=g) * 512 + 20.0 * i
        with torch.no_grad():
            rollout_means.append(model.energy(rollout, level).mean().item())
        stats = reward.update(rollout)
        assert stats["near/mean_energy"] == pytest.approx(rollout_means[-1], rel=1e-5)
        assert stats["near/sigma_level"] == level
        assert stats["near/sigma"] == pytest.approx(float(model.sigmas[level]))
    m = sum(rollout_means[-3:]) / 3  # moving average of the last 3 rollouts
    assert stats["near/offset"] == pytest.approx(m, rel=1e-5)
    total = reward(x[:, :2], None, fake_step(x, task))
    assert torch.allclose(total, 0.3 * task + 0.7 * torch.tanh((e - m) / 10.0), atol=1e-5)
    assert torch.allclose(reward.last_terms["r_energy"], torch.tanh((e - m) / 10.0), atol=1e-5)


def test_reward_anneals_and_resets_offset_on_switch():
    model = tiny_model(2)
    reward = EnergyReward(model)
    g = torch.Generator().manual_seed(3)
    pool = torch.rand(20_000, 4, generator=g) * 512
    with torch.no_grad():
        order = model.energy(pool, 0).argsort()
    low, high = pool[order[:2000]], pool[order[-2000:]]
    with torch.no_grad():
        e_low, e_high = model.energy(low, 0).mean().item(), model.energy(high, 0).mean().item()
    assert e_high > e_low + 0.1 * abs(e_low)  # the rise the annealer should see
    for _ in range(3):
        stats = reward.update(low)
    assert stats["near/sigma_level"] == 0 and reward.annealer.baseline == pytest.approx(e_low)
    stats = reward.update(high)  # window average (2·low + high)/3 ≥ 1.02-better baseline
    assert stats["near/sigma_level"] == 1 and reward.level == 1
    assert stats["near/sigma"] == pytest.approx(float(model.sigmas[1]))
    assert stats["near/offset"] == pytest.approx((2 * e_low + e_high) / 3, rel=1e-5)
    # Energies at the new σ are not comparable with the old ones: the offset history restarts.
    assert len(reward.offset_history) == 0 and reward.offset is None
    # First batch at the new level sets the provisional offset from energies at level 1.
    step = fake_step(low[:32], torch.zeros(32))
    reward(None, None, step)
    with torch.no_grad():
        assert reward.offset == pytest.approx(model.energy(low[:32], 1).mean().item(), rel=1e-5)


def test_reward_state_round_trip():
    reward = EnergyReward(tiny_model(4))
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        reward.update(torch.rand(100, 4, generator=g) * 512)
    other = EnergyReward(tiny_model(5))  # different weights: must come from the state
    other.load_state_dict(reward.state_dict())
    x = torch.rand(16, 4, generator=g) * 512
    step = fake_step(x, torch.ones(16))
    assert torch.equal(other(None, None, step), reward(None, None, step))
    assert other.offset == reward.offset and other.level == reward.level


def test_trained_model_rewards_expert_like_transitions_more():
    """Demos walk the diagonal forward in 15 px steps; backward or off-path steps score lower."""
    g = torch.Generator().manual_seed(0)

    def on_path(n: int) -> torch.Tensor:
        t = torch.rand(n, 1, generator=g)
        return 70.0 + t * 365.0 + 2.0 * torch.randn(n, 2, generator=g)  # (n, 2)

    step = torch.tensor([15.0, 15.0])
    start = on_path(4000)
    demos = torch.cat([start, start + step + 0.5 * torch.randn(4000, 2, generator=g)], 1)
    torch.manual_seed(0)
    trainer = EnergyTrainer(NCSN(4, hidden=(64, 64), latent_dim=32), lr=1e-3)
    trainer.fit_normalizer(demos)
    for _ in range(800):
        trainer.step(demos[torch.randint(len(demos), (128,), generator=g)], g)
    reward = near_reward(EnergyReward(trainer.ema_model(), fixed_level=40), w_task=0.0, w_energy=1.0)

    s = on_path(500)
    expert = torch.cat([s, s + step], 1)
    backward = torch.cat([s, s - step], 1)
    s_off = s + torch.tensor([150.0, -150.0])  # 212 px off the demo diagonal
    off = torch.cat([s_off, s_off + step], 1)
    zeros = torch.zeros(500)
    r_expert = reward(None, None, fake_step(expert, zeros)).mean().item()
    r_backward = reward(None, None, fake_step(backward, zeros)).mean().item()
    r_off = reward(None, None, fake_step(off, zeros)).mean().item()
    assert math.isfinite(r_expert)
    assert r_expert > r_backward + 0.3
    assert r_expert > r_off + 0.3


def test_normalised_reward_has_unit_scale_at_large_sigma():
    """At level 0 (σ = 20) raw energies barely vary, so tanh((E − m)/10) is ~0; dividing by the
    rollouts' energy std gives the term a spread of order one."""
    model = tiny_model(6)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(512, 4, generator=g) * 512
    step = fake_step(x, torch.zeros(512))
    plain = EnergyReward(model, fixed_level=0)(None, None, step)
    normed_reward = EnergyReward(model, fixed_level=0, scale=1.0, normalise=True)
    normed = normed_reward(None, None, step)
    assert plain.std() < 0.05
    assert 0.4 < normed.std() < 1.0
    assert torch.equal(plain.argsort(), normed.argsort())  # same ranking, new scale
    for _ in range(3):
        stats = normed_reward.update(x)
    with torch.no_grad():
        assert stats["near/spread"] == pytest.approx(model.energy(x, 0).std().item(), rel=1e-4)
    restored = EnergyReward(tiny_model(6), fixed_level=0, scale=1.0, normalise=True)
    restored.load_state_dict(normed_reward.state_dict())
    assert restored.spread == normed_reward.spread
