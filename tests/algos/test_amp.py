"""AMP: discriminator, gradient penalty, reward, replay buffer, plug-in state, and the CLI run."""

import copy
import json
import math
from pathlib import Path

import pytest
import torch

from imitate.cli import main
from imitate.models.discriminator import Discriminator, amp_reward
from imitate.rewards.adversarial import AMPReward, ReplayBuffer, discriminator_loss
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.tasks.core.vecenv import StepResult

TINY_AMP = [
    "num_envs=16",
    "rollout_steps=8",
    "total_steps=256",
    "minibatches=2",
    "epochs=1",
    "hidden=32,32",
    "eval_episodes=8",
    "checkpoint_every=1",
    "progress=false",
    "demo_episodes=8",
    "disc.hidden=32,32",
    "disc.batch_size=64",
    "disc.updates=2",
    "replay_size=500",
]


def _toy(n: int, shift: float, seed: int) -> torch.Tensor:
    """(n, 4) pairs: expert around 0, 'policy' around ``shift`` in the first two features."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    x[:, :2] += shift
    return x


def test_discriminator_separates_expert_from_policy():
    expert, policy = _toy(4096, 0.0, 0), _toy(4096, 2.0, 1)
    reward = AMPReward(expert, hidden=(64, 64), lr=1e-3, batch_size=256, updates=50, seed=0)
    before = reward.update(policy)["amp/accuracy"]
    for _ in range(3):
        stats = reward.update(policy)
    fresh_e, fresh_p = _toy(2000, 0.0, 10), _toy(2000, 2.0, 11)
    with torch.no_grad():
        acc = (
            0.5
            * (
                (reward.disc.logits(fresh_e) > 0).float().mean() + (reward.disc.logits(fresh_p) < 0).float().mean()
            ).item()
        )
    assert acc > 0.9, acc
    assert stats["amp/accuracy"] > 0.9 and stats["amp/d_expert"] > stats["amp/d_policy"]
    assert before < stats["amp/accuracy"]
    # and the style reward follows: expert-like pairs earn more
    assert reward.style_reward(fresh_e).mean() > reward.style_reward(fresh_p).mean() + 0.05


def test_gradient_penalty_is_on_expert_pairs():
    torch.manual_seed(0)
    disc = Discriminator(4, (32, 32))
    disc.fit_normalizer(_toy(512, 0.0, 0))
    expert = _toy(64, 0.0, 1)
    _, t1 = discriminator_loss(disc, expert, _toy(64, 3.0, 2))
    _, t2 = discriminator_loss(disc, expert, _toy(64, -5.0, 3) * 4)
    _, t3 = discriminator_loss(disc, _toy(64, 2.0, 4), _toy(64, 3.0, 2))
    assert t1["gp"] > 0
    assert torch.equal(t1["gp"], t2["gp"])  # policy inputs do not enter the penalty
    assert not torch.isclose(t1["gp"], t3["gp"])  # expert inputs do
    assert not torch.isclose(t1["bce"], t2["bce"])


def test_gradient_penalty_flattens_expert_gradients():
    """With a large w_gp the discriminator's input gradient on expert data is pushed down."""
    expert, policy = _toy(2048, 0.0, 0), _toy(2048, 1.0, 1)
    gps = {}
    for w_gp in (0.0, 50.0):
        reward = AMPReward(expert, hidden=(64, 64), lr=1e-3, batch_size=256, updates=150, w_gp=w_gp, seed=0)
        reward.update(policy)
        _, terms = discriminator_loss(reward.disc, expert[:512], policy[:512])
        gps[w_gp] = terms["gp"].item()
    assert gps[50.0] < 0.3 * gps[0.0], gps


def test_amp_reward_finite_and_monotone():
    d = torch.linspace(-100, 100, 2001)
    r = amp_reward(d)
    assert torch.isfinite(r).all()
    assert (r[1:] >= r[:-1]).all()  # non-decreasing in D
    mid = (d > -8) & (d < 8)
    assert (r[mid][1:] > r[mid][:-1]).all()  # strictly increasing where not clamped
    assert r.min() >= 0 and math.isclose(r.max().item(), -math.log(1e-4), rel_tol=1e-5)
    assert math.isclose(amp_reward(torch.tensor(0.0)).item(), math.log(2), rel_tol=1e-6)


def test_replay_buffer_wraps():
    buf = ReplayBuffer(5, 2)
    rows = torch.arange(20.0).reshape(10, 2)  # row i = (2i, 2i+1)
    buf.add(rows[:3])
    assert len(buf) == 3 and buf.head == 3
    buf.add(rows[3:7])  # 7 rows into capacity 5: rows 2..6 remain
    assert len(buf) == 5 and buf.head == 2
    assert sorted(buf.data[:, 0].tolist()) == [4.0, 6.0, 8.0, 10.0, 12.0]
    assert buf.data[0, 0] == 10.0 and buf.data[1, 0] == 12.0  # rows 5, 6 overwrote slots 0, 1
    buf.add(rows)  # more than capacity at once: the last 5
    assert sorted(buf.data[:, 0].tolist()) == [10.0, 12.0, 14.0, 16.0, 18.0]
    g = torch.Generator().manual_seed(0)
    sample = buf.sample(100, g)
    assert sample.shape == (100, 2) and set(sample[:, 0].tolist()) <= {10.0, 12.0, 14.0, 16.0, 18.0}
    other = ReplayBuffer(5, 2)
    other.load_state_dict(buf.state_dict())
    assert torch.equal(other.data, buf.data) and (other.head, len(other)) == (buf.head, len(buf))
    with pytest.raises(ValueError):
        ReplayBuffer(4, 2).load_state_dict(buf.state_dict())
    with pytest.raises(ValueError):
        ReplayBuffer(5, 2).sample(1, g)


def _step(transition, reward, success):
    n = len(transition)
    return StepResult(
        obs=transition[:, 2:],
        reward=reward,
        terminated=success,
        truncated=torch.zeros(n, dtype=torch.bool),
        final_obs=transition[:, 2:],
        success=success,
        transition=transition,
    )


def _amp(expert, style_offset=0.0, absorbing_success=False, **kwargs) -> ComposedReward:
    """AMP's reward as ``algos.amp.make_amp_reward`` composes it: w_task 2, w_style 0.5, γ 0.9."""
    style = AMPReward(expert, style_offset=style_offset, **kwargs)
    return ComposedReward(
        {"task": (2.0, TaskReward()), "style": (0.5, style)}, absorbing_success=absorbing_success, gamma=0.9
    )


def test_reward_weights_absorbing_bonus_and_state_roundtrip():
    expert = _toy(1024, 0.0, 0)
    kwargs = dict(hidden=(32, 32), batch_size=64, updates=3, seed=0)
    reward = _amp(expert, absorbing_success=True, **kwargs)
    reward.update(_toy(256, 2.0, 1))
    x = _toy(4, 1.0, 2)
    success = torch.tensor([True, False, False, True])
    task = success.float()
    r = reward(None, None, _step(x, task, success))
    r_amp = reward.part("style").style_reward(x)
    bonus = 1.0 + success.float() * 0.9 / 0.1
    assert torch.allclose(r, 2.0 * task + 0.5 * r_amp * bonus)
    assert torch.equal(reward.last_terms["r_amp"], r_amp)
    assert torch.equal(reward.last_terms["task"], task)
    centred = _amp(expert, style_offset=math.log(2), **kwargs)
    centred.load_state_dict(copy.deepcopy(reward.state_dict()))
    r_c = centred(None, None, _step(x, task, success))
    assert torch.allclose(r_c, 2.0 * task + 0.5 * (r_amp - math.log(2)))
    # resume: a fresh module loading the state scores identically and continues identically
    clone = _amp(expert, absorbing_success=True, **kwargs)
    clone.load_state_dict(copy.deepcopy(reward.state_dict()))  # as through torch.save/load
    assert torch.allclose(clone.part("style").style_reward(x), r_amp)
    policy = _toy(256, 2.0, 3)
    assert reward.update(policy) == clone.update(policy)
    with pytest.raises(ValueError):
        AMPReward(expert, hidden=(16,)).load_state_dict(reward.part("style").state_dict())


def test_cli_amp_run(tmp_path):
    assert main(["train", "maze", "amp", f"out_dir={tmp_path}", *TINY_AMP]) == 0
    (run,) = sorted(p.parent for p in Path(tmp_path).rglob("config.yaml"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["algo"] == "amp" and 0.0 <= metrics["success_rate"] <= 1.0
    assert metrics["env_steps"] == 256 and math.isfinite(metrics["d_expert_mean"])
    assert (run / "demos.npz").is_file() and (run / "plots" / "discriminator_landscape.png").is_file()
    rows = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines()]
    assert all(k in rows[-1] for k in ("amp/loss", "amp/gp", "amp/d_expert", "amp/d_policy", "amp/accuracy"))
    # resume continues from the checkpoint (discriminator and replay buffer included)
    assert main(["train", "maze", "amp", f"resume={run}", "total_steps=512", "progress=false"]) == 0
    assert json.loads((run / "metrics.json").read_text())["env_steps"] == 512
