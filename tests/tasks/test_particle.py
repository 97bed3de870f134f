"""The N-D particle env (PD law, success rule, resets) and its oracle."""

import numpy as np
import pytest
import torch

from imitate.cli import main
from imitate.data.dataset import Demonstrations
from imitate.oracles.particle import oracle_actions, particle_oracle
from imitate.tasks.particle import KP, KV, MAX_EPISODE_STEPS, SUBSTEP_S, SUBSTEPS, ParticleEnv, target_to_action


def test_pd_law_matches_explicit_euler_by_hand():
    env = ParticleEnv(3, seed=1, n_dim=2)
    env.reset()
    env.sim.vel[:] = torch.tensor([[0.3, -0.2], [0.0, 0.0], [-1.0, 0.5]])
    p, v = env.sim.pos.double().numpy().copy(), env.sim.vel.double().numpy().copy()
    action = torch.tensor([[0.5, -0.5], [1.0, 1.0], [-1.0, 0.2]])
    target = (action.double().numpy() + 1) / 2
    for _ in range(SUBSTEPS):  # pos with the old velocity, then velocity
        acc = KP * (target - p) - KV * v
        p, v = p + v * SUBSTEP_S, v + acc * SUBSTEP_S
    obs = env.step(action).obs
    np.testing.assert_allclose(obs[:, :2].numpy(), p, atol=1e-6)
    np.testing.assert_allclose(obs[:, 2:4].numpy(), v, atol=1e-6)


def test_holding_a_set_point_settles_there():
    env = ParticleEnv(64, seed=0, n_dim=3)
    env.reset()
    target = torch.rand(64, 3, generator=torch.Generator().manual_seed(2))
    for _ in range(45):  # 2.25 s: the PD envelope exp(-kv t / 2) has shrunk to 0.4%
        env.step(target_to_action(target))
    assert (env.sim.pos - target).norm(dim=-1).max() < 1e-2  # starts ≤ √3 away
    assert env.sim.vel.norm(dim=-1).max() < 0.05


def test_observation_layout_and_auto_reset():
    env = ParticleEnv(5, seed=0, n_dim=4)
    obs = env.reset()
    assert obs.shape == (5, 16) and env.act_dim == 4
    assert torch.equal(obs[:, 8:12], env.commands["goal1"]) and torch.equal(obs[:, 12:], env.commands["goal2"])
    assert (obs[:, 4:8] == 0).all() and ((obs >= -1e-9) & (obs <= 1)).all()
    for t in range(MAX_EPISODE_STEPS):
        result = env.step(torch.zeros(5, 4))
        assert bool(result.truncated.all()) == (t == MAX_EPISODE_STEPS - 1)
    assert not torch.equal(result.obs, result.final_obs) and (result.obs[:, 4:8] == 0).all()


def test_success_needs_goal_one_visited_and_goal_two_at_the_end():
    def run(policy):
        env = ParticleEnv(256, seed=3, n_dim=2)
        obs, switched = env.reset(), torch.zeros(256, dtype=torch.bool)
        for _ in range(MAX_EPISODE_STEPS):
            action, switched = policy(obs, switched)
            result = env.step(action)
            obs = result.obs
        return result.success.float().mean().item()

    only_goal2 = lambda obs, s: (target_to_action(obs[:, 6:8]), s)  # noqa: E731
    only_goal1 = lambda obs, s: (target_to_action(obs[:, 4:6]), s)  # noqa: E731
    oracle = lambda obs, s: oracle_actions(obs, s, 2)  # noqa: E731
    # Skipping goal 1 succeeds only when goal 1 happens to lie on the way (a few percent).
    assert run(only_goal2) < 0.15
    assert run(only_goal1) < 0.05
    assert run(oracle) >= 0.95


@pytest.mark.parametrize("n_dim", [2, 8])
def test_oracle_success_rate_and_demo_format(n_dim):
    demos = particle_oracle(400, seed=0, n_dim=n_dim)
    assert demos.metadata["oracle_success_rate"] >= 0.95
    assert demos.num_episodes == 400 and demos.obs.shape == (400 * 51, 4 * n_dim)
    assert demos.actions.shape == (400 * 51, n_dim) and np.abs(demos.actions).max() <= 1.0
    # Actions are goal 1 first, goal 2 later: the set-point equals one of the two goals.
    target = (demos.actions + 1) / 2
    g1, g2 = demos.obs[:, 2 * n_dim : 3 * n_dim], demos.obs[:, 3 * n_dim :]
    at_g1 = np.abs(target - g1).max(1) < 1e-6
    at_g2 = np.abs(target - g2).max(1) < 1e-6
    assert (at_g1 | at_g2).all() and at_g1.mean() > 0.3 and at_g2.mean() > 0.3


def test_data_cli_takes_n_dim(tmp_path):
    out = tmp_path / "p4.npz"
    assert main(["data", "particle", "n_dim=4", "--episodes", "50", "--out", str(out), "--no-progress"]) == 0
    demos = Demonstrations.load(out, task="particle")
    assert demos.obs.shape[1] == 16 and demos.actions.shape[1] == 4 and demos.metadata["n_dim"] == 4
    assert main(["data", "particle", "n_dim=0", "--out", str(tmp_path / "bad.npz")]) == 2
    assert not (tmp_path / "bad.npz").exists()


def test_either_order_succeeds_when_both_goals_are_visited_in_any_order():
    """goal_order=either (IBC's multimodal oracle): goal 2 then goal 1 is a success, ending at goal 1."""

    def success(goal_order, reverse):
        env = ParticleEnv(256, seed=3, n_dim=2, goal_order=goal_order)
        obs, switched = env.reset(), torch.zeros(256, dtype=torch.bool)
        for _ in range(MAX_EPISODE_STEPS):
            action, switched = oracle_actions(obs, switched, 2, torch.full((256,), reverse))
            result = env.step(action)
            obs = result.obs
        return result.success.float().mean().item()

    assert success("either", reverse=False) >= 0.95 and success("either", reverse=True) >= 0.95
    assert success("fixed", reverse=False) >= 0.95
    assert success("fixed", reverse=True) < 0.15  # the fixed task wants goal 2 at the end


def test_either_oracle_mixes_the_two_goal_orders():
    demos = particle_oracle(400, seed=0, goal_order="either")
    assert demos.metadata["oracle_success_rate"] >= 0.98 and demos.metadata["goal_order"] == "either"
    ends = np.concatenate([[0], demos.episode_ends[:-1]])  # first row of every episode
    first_target = (demos.actions[ends] + 1) / 2
    to_goal1 = np.abs(first_target - demos.obs[ends, 4:6]).max(1) < 1e-6
    assert 0.4 < to_goal1.mean() < 0.6  # a fair coin per episode


def test_goal_order_is_checked(tmp_path):
    assert main(["data", "particle", "goal_order=sideways", "--out", str(tmp_path / "bad.npz")]) == 2
    with pytest.raises(ValueError, match="goal_order"):
        ParticleEnv(2, goal_order="sideways")
    out = tmp_path / "either.npz"
    assert main(["data", "particle", "goal_order=either", "--episodes", "20", "--out", str(out), "--no-progress"]) == 0
    # Demos of one goal order cannot train a run of the other: a one-line error, no run left behind.
    assert main(["train", "particle", "mse", f"demos={out}", "iterations=1", f"out_dir={tmp_path / 'runs'}"]) == 2
    assert not (tmp_path / "runs").exists()
