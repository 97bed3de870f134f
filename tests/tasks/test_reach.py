"""The example task of docs/architecture.md: declared in terms (< 80 lines), learned by PPO."""

from pathlib import Path

import torch

from imitate.algos.ppo import PPO
from imitate.algos.ppo_config import PPOConfig
from imitate.eval.rollouts import evaluate_policy
from imitate.rewards.base import TaskReward
from tests.tasks.reach import ReachEnv


def test_the_example_task_is_short():
    assert len(Path(__file__).with_name("reach.py").read_text().splitlines()) < 80


def test_reach_steps_resets_and_reports_terms():
    env = ReachEnv(4, seed=0)
    obs = env.reset(seed=0)
    assert obs.shape == (4, 6)
    goal = env.commands["goal"].clone()
    step = env.step(torch.zeros(4, 2))
    assert set(step.extras) == {"reward/distance", "reward/arrival"}
    assert torch.allclose(step.reward, step.extras["reward/distance"] + step.extras["reward/arrival"])
    assert torch.equal(step.obs[:, 4:], goal)  # no episode ended: the goals are kept
    reward = TaskReward()
    assert torch.equal(reward(obs, torch.zeros(4, 2), step), step.reward)
    assert set(reward.last_terms) == {"task", "task/distance", "task/arrival"}  # each logged on its own


def test_ppo_learns_to_reach():
    torch.manual_seed(0)
    cfg = PPOConfig(
        num_envs=64,
        rollout_steps=25,
        total_steps=64 * 25 * 60,
        hidden=(64, 64),
        lr=1e-3,
        progress=False,
        checkpoint_every=1000,
    )
    ppo = PPO(ReachEnv(cfg.num_envs, seed=0), cfg)
    before = evaluate_policy(ppo.model, ReachEnv(100, seed=1), seed=1).metrics()["success_rate"]
    ppo.train()
    after = evaluate_policy(ppo.model, ReachEnv(100, seed=1), seed=1).metrics()["success_rate"]
    assert after >= 0.8 and after > before + 0.3, (before, after)
