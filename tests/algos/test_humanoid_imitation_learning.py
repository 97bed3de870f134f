"""Learning checks of NEAR and AMP on the humanoid imitation task (issue 13, "Tests"), at CI budgets.

The expert is the task's oracle (walk clip windows as style pairs), the "initial policy" an
untrained PPO actor-critic of the humanoid preset (init log-std −1) sampled on the task. The
learned models are scored on held-out data: clip windows of another oracle seed and rollouts of
another env seed. Each threshold was measured first (numbers in the tests' docstrings) and sits
well above what the untrained model gives, so a model that does not learn fails.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from imitate import runner
from imitate.algos.energy import load_energy_model
from imitate.algos.ppo import PPO
from imitate.models.energy import batched_energy
from imitate.oracles.humanoid import humanoid_oracle
from imitate.registry import TASKS
from imitate.rewards.adversarial import AMPReward

TASK = TASKS["humanoid"]
STYLE_PAIR = 210  # 2 × the 105-d style observation


def _config():
    """The humanoid PPO preset (motion=walk), 64 envs: the policy every check starts from."""
    return runner.resolve_config("humanoid", "ppo", {"num_envs": "64", "seed": "0"}, check_inputs=False)


@torch.no_grad()
def _initial_policy_pairs(env_seed: int, steps: int = 40) -> torch.Tensor:
    """(64·steps, 210) style pairs (s_t, s_t+1) of the untrained, stochastic PPO policy."""
    cfg = _config()
    env = TASK.make_env(cfg.num_envs, seed=env_seed, cfg=cfg)
    policy = PPO(env, cfg).model  # seeded by cfg.seed: the same initial policy for every env seed
    generator = torch.Generator().manual_seed(env_seed)
    obs, pairs = env.reset(seed=env_seed), []
    for _ in range(steps):
        step = env.step(policy.act(obs, deterministic=False, generator=generator))
        pairs.append(step.transition)
        obs = step.obs
    env.close()
    return torch.cat(pairs)


def _expert_pairs(episodes: int, seed: int) -> torch.Tensor:
    """Style pairs of ``episodes`` 2 s walk clip windows (the task's oracle)."""
    return humanoid_oracle(episodes, seed=seed, cfg=_config().task_options).transitions()


def _auc(high: torch.Tensor, low: torch.Tensor) -> float:
    """P(a score of ``high`` > a score of ``low``) over all pairs (ties count half)."""
    h, lo = high.double()[:, None], low.double()[None, :]
    return float(((h > lo).double() + 0.5 * (h == lo).double()).mean())


@pytest.fixture(scope="module")
def policy_pairs():
    """Initial-policy pairs for fitting (env seed 1) and for scoring (env seed 2)."""
    return _initial_policy_pairs(1), _initial_policy_pairs(2)


@pytest.fixture(scope="module")
def expert_pairs():
    """Expert pairs for fitting (oracle seed 0) and held-out ones (oracle seed 1)."""
    return _expert_pairs(40, seed=0), _expert_pairs(40, seed=1)


def test_amp_discriminator_separates_the_expert_from_the_initial_policy(expert_pairs, policy_pairs):
    """AMPReward at the humanoid preset (disc [256, 256], w_gp 5), 10 rollout updates × 10 steps.

    Measured (held-out): before training D(expert) − D(policy) = −0.004, accuracy 0.55; after it
    D 0.68 vs −2.51 (gap 3.2), accuracy 0.9996; AMP reward 1.09 (expert) vs 0.11 (policy)."""
    (expert_fit, expert_test), (policy_fit, policy_test) = expert_pairs, policy_pairs
    assert expert_fit.shape[1] == policy_fit.shape[1] == STYLE_PAIR
    amp = AMPReward(expert_fit, hidden=(256, 256), lr=1e-4, batch_size=256, updates=10, w_gp=5.0, seed=0)

    def held_out():
        with torch.no_grad():
            d_e, d_p = amp.disc.logits(expert_test), amp.disc.logits(policy_test)
        accuracy = 0.5 * float((d_e > 0).float().mean() + (d_p < 0).float().mean())
        return float(d_e.mean() - d_p.mean()), accuracy

    gap_before, acc_before = held_out()
    for _ in range(10):
        stats = amp.update(policy_fit)
    gap, accuracy = held_out()
    assert abs(gap_before) < 0.5 and acc_before < 0.8, (gap_before, acc_before)  # it starts undecided
    assert gap > 2.0 and accuracy > 0.95, (gap, accuracy)
    assert stats["amp/accuracy"] > 0.95 and stats["amp/d_expert"] > stats["amp/d_policy"]
    r_expert, r_policy = amp.style_reward(expert_test).mean(), amp.style_reward(policy_test).mean()
    assert r_expert > r_policy + 0.5, (r_expert, r_policy)


@pytest.fixture(scope="module")
def energy_run(tmp_path_factory):
    """A brief NEAR step 1 on the walk clips: 100 windows, [256, 256], 500 DSM steps (~5 s)."""
    out = tmp_path_factory.mktemp("humanoid-energy")
    overrides = {"iterations": "500", "hidden": "256,256", "demo_episodes": "100", "checkpoint_every": "500"}
    return runner.train("humanoid", "energy", {"out_dir": str(out), "progress": "false", **overrides})


def test_energy_model_scores_walk_pairs_above_the_initial_policy(energy_run, expert_pairs, policy_pairs):
    """Energy ordering at the middle (σ 0.41) and the smallest (σ 0.01) noise level.

    Measured: P(E(expert) > E(policy)) is 1.00 at both levels after 500 steps (mean energies 9.0
    vs −579 at σ 0.41, 373 vs −24,000 at σ 0.01); 0.53 for the untrained network (one DSM step),
    whose mean energies are nearly equal (0.098 vs 0.090 at σ 0.41)."""
    model = load_energy_model(energy_run.dir, "humanoid", STYLE_PAIR)
    expert, policy = expert_pairs[1], policy_pairs[1]  # held out from the energy run's demos too
    for level in (model.num_levels // 2, model.num_levels - 1):
        e_expert, e_policy = batched_energy(model, expert, level), batched_energy(model, policy, level)
        assert _auc(e_expert[::4], e_policy[::4]) > 0.95, level
        assert e_expert.mean() > e_policy.mean(), level


def _energy_trend(energies: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of the per-rollout mean energies over the iterations, and its t value."""
    x = np.arange(len(energies), dtype=np.float64)
    slope, intercept = np.polyfit(x, energies, 1)
    resid = energies - (slope * x + intercept)
    se = np.sqrt(resid.var(ddof=2) / ((x - x.mean()) ** 2).sum())
    return float(slope), float(slope / se)


def test_short_near_run_raises_its_mean_energy(energy_run, tmp_path):
    """NEAR (preset weights 0.5 / 0.5, dist task reward) on 64 envs × 32 steps × 32 iterations
    (65,536 samples, 17 s), the energy read at a fixed middle level (``fixed_level=25``, σ 0.41)
    so that rollouts' energies are comparable (annealing changes σ, and E = f/σ with it).

    Measured (PPO seed 0 / 1 / 2): the rollouts' mean energy climbs from −591 / −588 / −590
    (iterations 2–6) to −572 / −575 / −572 (last 5), slope 0.63 / 0.43 / 0.56 per iteration, t 9.9
    / 5.9 / 9.0. Controls on the same budget fail both checks: lr 1e-9 (no learning) t −1.0, first
    −590 vs last −589; w_energy 0 (the task reward alone) t −1.5, −591 vs −591. The first rollout
    is left out of the first-vs-last comparison: every env starts it from a fresh clip state.

    The exploration is the one these figures were measured with, a log-std learned from −1, not the
    preset's fixed −2.9 (docs/humanoid_imitation.md): with the preset's 0.08 rad of noise the
    rollouts start near the default pose at a higher energy (−356 at iterations 2–6) and this
    budget does not raise it (−363 over the last 5, seed 0)."""
    overrides = {
        "init_log_std": "-1.0",
        "learn_log_std": "true",
        "energy": str(energy_run.dir),
        "num_envs": "64",
        "total_steps": "65536",
        "fixed_level": "25",
        "eval_episodes": "4",
        "checkpoint_every": "100",
    }
    run = runner.train("humanoid", "near", {"out_dir": str(tmp_path), "progress": "false", **overrides})
    rows = [json.loads(line) for line in (run.dir / "progress.jsonl").read_text().splitlines()]
    assert len(rows) == 32 and {r["near/sigma_level"] for r in rows} == {25}
    energy = np.array([r["near/mean_energy"] for r in rows])
    slope, t = _energy_trend(energy)
    assert slope > 0 and t > 3, (slope, t, energy.round(1).tolist())
    assert energy[-5:].mean() > energy[1:6].mean() + 5, energy.round(1).tolist()
