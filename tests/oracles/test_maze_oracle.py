"""The maze oracle: exact count of successful, wall-free, replayable and varied planned episodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imitate.oracles.maze import GRID, _static_grid, clearance, geodesic_fields, maze_oracle, random_costs
from imitate.tasks.maze import AGENT_RADIUS, ARENA_SIZE, GOAL, GOAL_RADIUS, INNER_WALLS, START_HIGH, START_LOW, MazeEnv

N = 200


@pytest.fixture(scope="module")
def demos():
    return maze_oracle(N, seed=0)


def _takes_corridor(ep: np.ndarray) -> bool:
    """The left/top corridor route passes between the two left walls, above their bottom ends."""
    return bool(((ep[:, 0] < 100.0) & (ep[:, 1] > 200.0)).any())


def test_count_shapes_and_metadata(demos):
    assert demos.num_episodes == N
    assert demos.obs.shape[1] == 2 and demos.actions.shape == demos.obs.shape
    md = demos.metadata
    assert md["task"] == "maze" and md["source"] == "oracle" and md["obs_names"] == ["x", "y"]
    assert md["seed"] == 0 and md["planner"] and "repeated" in md["actions_note"]
    assert np.abs(demos.actions).max() <= 1.0


def test_every_episode_succeeds_exactly_at_its_last_step(demos):
    goal = np.asarray(GOAL)
    for ep in demos.episodes():
        d = np.linalg.norm(ep - goal, axis=1)
        assert d[-1] < GOAL_RADIUS
        assert (d[:-1] >= GOAL_RADIUS).all()  # the env would have ended the episode earlier


def test_launch_success_rate(demos):
    assert demos.metadata["launched"] >= N
    assert demos.metadata["launch_success_rate"] >= 0.95


def test_episodes_start_in_start_square(demos):
    starts = demos.obs[np.concatenate([[0], demos.episode_ends[:-1]])]
    assert ((starts >= START_LOW) & (starts < START_HIGH)).all()


def test_no_observation_overlaps_a_wall_or_leaves_the_arena(demos):
    obs = demos.obs.astype(np.float64)
    walls = np.asarray(INNER_WALLS)
    gap = np.maximum(np.maximum(walls[:, :2] - obs[:, None], obs[:, None] - walls[:, 2:]), 0.0)
    assert np.linalg.norm(gap, axis=-1).min() >= AGENT_RADIUS - 1e-3
    assert obs.min() >= AGENT_RADIUS - 1e-3 and obs.max() <= ARENA_SIZE - AGENT_RADIUS + 1e-3
    # The planner's margin keeps the disc off the walls almost always (contact would be = radius).
    assert (clearance(obs) < AGENT_RADIUS + 0.5).mean() < 0.01


def test_actions_replay_to_the_recorded_observations(demos):
    """Observation t+1 is where action t took the disc from observation t (padding aside)."""
    eps = demos.episodes()
    acts = np.split(demos.actions, demos.episode_ends[:-1])
    lengths = np.array([len(e) for e in eps])
    env = MazeEnv(N)
    env.reset()
    env.sim.pos.copy_(torch.from_numpy(np.stack([e[0] for e in eps])))
    assert np.array_equal(acts[0][-1], acts[0][-2])  # the padded last action repeats
    for t in range(lengths.max() - 1):
        a = np.stack([ac[min(t, len(ac) - 2)] for ac in acts])
        result = env.step(torch.from_numpy(a))
        live = np.flatnonzero(lengths > t + 1)
        want = np.stack([eps[b][t + 1] for b in live])
        np.testing.assert_allclose(result.final_obs.numpy()[live], want, atol=1e-3)


def test_routes_vary(demos):
    eps = demos.episodes()
    corridor = np.array([_takes_corridor(e) for e in eps])
    assert 0.1 <= corridor.mean() <= 0.9  # both the corridor and the open route are common
    length = np.array([np.linalg.norm(np.diff(e, axis=0), axis=1).sum() for e in eps])
    open_len = length[~corridor]
    assert np.percentile(open_len, 90) - np.percentile(open_len, 10) > 50.0
    steps = np.diff(demos.episode_ends, prepend=0)
    assert steps.max() - steps.min() >= 10  # speeds vary too


def test_same_seed_same_data_different_seed_different_data():
    a, b, c = maze_oracle(12, seed=3), maze_oracle(12, seed=3), maze_oracle(12, seed=4)
    assert np.array_equal(a.obs, b.obs) and np.array_equal(a.actions, b.actions)
    assert np.array_equal(a.episode_ends, b.episode_ends)
    assert a.obs.shape != c.obs.shape or not np.array_equal(a.obs, c.obs)


def test_rejects_non_positive_count():
    with pytest.raises(ValueError):
        maze_oracle(0)


def test_fast_sweeping_matches_plain_relaxation():
    """The sweeping solver equals Jacobi relaxation over all 8 neighbour shifts, run to convergence."""
    costs = random_costs(3, np.random.default_rng(1))
    dist, nxt = geodesic_fields(costs)
    goal = _static_grid()[4]
    c = np.pad(costs, ((1, 1), (1, 1), (0, 0)), constant_values=np.inf)
    diag_blocked = _static_grid()[1]
    ref = np.full_like(c, np.inf)
    ref[goal // GRID + 1, goal % GRID + 1] = 0.0
    dirs = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]
    while True:
        old = ref.copy()
        for i, (dy, dx) in enumerate(dirs):
            shifted = slice(1 + dy, GRID + 1 + dy), slice(1 + dx, GRID + 1 + dx)
            step = 0.5 * (c[1:-1, 1:-1] + c[shifted]) * np.hypot(dy, dx)
            step = np.where(diag_blocked[i][:, :, None], np.inf, step)
            ref[1:-1, 1:-1] = np.minimum(ref[1:-1, 1:-1], old[shifted] + step)
        if np.array_equal(old, ref):
            break
    ref = ref[1:-1, 1:-1].reshape(GRID * GRID, -1)
    assert np.array_equal(np.isinf(ref), np.isinf(dist))
    finite = np.isfinite(ref)
    np.testing.assert_allclose(dist[finite], ref[finite], rtol=1e-4)
    # Following the pointers from the start cell reaches the goal, strictly downhill.
    for b in range(3):
        idx = (70 // 8) * GRID + 70 // 8
        for _ in range(GRID * GRID):
            if idx == goal:
                break
            assert dist[nxt[idx, b], b] < dist[idx, b]
            idx = nxt[idx, b]
        assert idx == goal
