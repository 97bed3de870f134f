"""Maze physics: the PD law, solid walls, success and time limit, batching."""

import torch

from imitate.tasks import maze
from imitate.tasks.maze import MazeEnv, target_to_action


def test_pd_law_one_substep_matches_formula():
    """With no walls nearby, one env step equals 100 hand-integrated PD sub-steps."""
    env = MazeEnv(1, seed=0)
    env.reset()
    env.sim.pos[:] = torch.tensor([[250.0, 250.0]])
    env.sim.vel[:] = torch.tensor([[10.0, -5.0]])
    target = torch.tensor([300.0, 220.0])
    p, v = env.sim.pos[0].clone(), env.sim.vel[0].clone()
    for _ in range(maze.SUBSTEPS):
        acc = 0.1 * (100.0 * (target - p) - 20.0 * v)
        v = v + acc * maze.SUBSTEP_S
        p = p + v * maze.SUBSTEP_S
    env.step(target_to_action(target)[None])
    assert torch.allclose(env.sim.pos[0], p, atol=1e-3)
    assert torch.allclose(env.sim.vel[0], v, atol=1e-3)


def test_pd_converges_to_target():
    env = MazeEnv(1, seed=0)
    env.reset()
    env.sim.pos[:] = torch.tensor([[250.0, 250.0]])
    target = torch.tensor([[300.0, 250.0]])
    for _ in range(40):
        env.step(target_to_action(target))
    assert (env.sim.pos - target).norm() < 1.0


def _min_wall_gap(pos: torch.Tensor) -> torch.Tensor:
    walls = torch.tensor(maze.INNER_WALLS)
    closest = torch.maximum(torch.minimum(pos[:, None], walls[:, 2:]), walls[:, :2])
    return (pos[:, None] - closest).norm(dim=-1).min(dim=1).values


def test_walls_are_solid_under_random_actions():
    env = MazeEnv(512, seed=1)
    env.reset()
    g = torch.Generator().manual_seed(0)
    for _ in range(60):
        prev = env.sim.pos.clone()
        result = env.step(torch.rand(512, 2, generator=g) * 2 - 1)
        pos = result.final_obs
        assert (_min_wall_gap(pos) >= maze.AGENT_RADIUS - 1e-3).all()
        assert (pos >= maze.AGENT_RADIUS - 1e-4).all() and (pos <= maze.ARENA_SIZE - maze.AGENT_RADIUS + 1e-4).all()
        assert torch.equal(result.transition[:, :2], prev)


def test_cannot_cross_a_wall_aiming_through_it():
    """Aiming straight through the wall x∈[100,120] from its left side: the disc stops at it."""
    env = MazeEnv(1, seed=0)
    env.reset()
    env.sim.pos[:] = torch.tensor([[70.0, 250.0]])
    for _ in range(30):
        env.step(target_to_action(torch.tensor([[300.0, 250.0]])))
    assert env.sim.pos[0, 0] <= 100.0 - maze.AGENT_RADIUS + 1e-3
    assert abs(float(env.sim.pos[0, 1]) - 250.0) < 1.0


def test_success_terminates_with_reward_and_resets():
    env = MazeEnv(4, seed=0)
    env.reset()
    env.sim.pos[:] = torch.tensor(maze.GOAL) - 5.0
    result = env.step(target_to_action(torch.tensor(maze.GOAL)).expand(4, 2))
    assert result.success.all() and result.terminated.all() and not result.truncated.any()
    assert (result.reward == 1.0).all()
    # Auto-reset: the returned obs is in the start square, the final obs at the goal.
    assert ((result.obs >= maze.START_LOW) & (result.obs < maze.START_HIGH)).all()
    assert ((result.final_obs - torch.tensor(maze.GOAL)).norm(dim=1) < maze.GOAL_RADIUS).all()


def test_time_limit_truncates_at_650():
    env = MazeEnv(2, seed=0)
    obs = env.reset()
    still = target_to_action(obs)
    for t in range(maze.MAX_EPISODE_STEPS):
        result = env.step(still)
        if t < maze.MAX_EPISODE_STEPS - 1:
            assert not result.done.any()
    assert result.truncated.all() and not result.terminated.any() and (result.reward == 0).all()


def test_reset_is_seeded_and_in_start_square():
    a = MazeEnv(1024, seed=3).reset()
    b = MazeEnv(1024, seed=3).reset()
    assert torch.equal(a, b)
    assert ((a >= maze.START_LOW) & (a < maze.START_HIGH)).all()


def test_state_save_restore_is_exact():
    env = MazeEnv(8, seed=0)
    env.reset()
    g = torch.Generator().manual_seed(1)
    actions = [torch.rand(8, 2, generator=g) * 2 - 1 for _ in range(5)]
    env.step(actions[0])
    saved = env.get_state()
    first = [env.step(a).obs for a in actions[1:]]
    env.set_state(saved)
    second = [env.step(a).obs for a in actions[1:]]
    assert all(torch.equal(x, y) for x, y in zip(first, second))


def test_rejects_bad_sizes():
    import pytest

    with pytest.raises(ValueError, match="num_envs"):
        MazeEnv(0)
    env = MazeEnv(2)
    env.reset()
    with pytest.raises(ValueError, match="action must be"):
        env.step(torch.zeros(3, 2))
