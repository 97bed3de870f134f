"""Every registered task keeps the VecEnv contract: shapes and dtypes, ``final_obs`` taken before
the auto-reset, success only on episode ends, and one seed giving one run."""

import pytest
import torch

from imitate.registry import TASKS

N = 3


def _actions(env, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(env.num_envs, env.act_dim, generator=gen) * 2 - 1


def _run_until_done(env, max_steps: int, seed: int = 0):
    """Steps with random actions until some env finishes; returns the steps taken."""
    gen = torch.Generator().manual_seed(seed)
    steps = []
    for _ in range(max_steps):
        steps.append(env.step(_actions(env, gen)))
        if steps[-1].done.any():
            break
    return steps


@pytest.fixture(scope="module", params=sorted(TASKS))
def task(request):
    return TASKS[request.param]


def test_shapes_and_dtypes(task):
    env = task.make_env(N, seed=0)
    obs = env.reset(seed=0)
    assert obs.shape == (N, env.obs_dim) and obs.dtype == torch.float32
    step = env.step(torch.zeros(N, env.act_dim))
    assert step.obs.shape == step.final_obs.shape == (N, env.obs_dim)
    assert step.reward.shape == (N,) and step.reward.dtype == torch.float32
    for flag in (step.terminated, step.truncated, step.success):
        assert flag.shape == (N,) and flag.dtype == torch.bool
    assert step.transition.shape == (N, 2 * env.style_dim)
    assert torch.isfinite(step.obs).all() and torch.isfinite(step.reward).all()
    with pytest.raises(ValueError, match="action must be"):
        env.step(torch.zeros(N + 1, env.act_dim))


def test_final_obs_is_taken_before_the_reset_and_success_only_ends_episodes(task):
    env = task.make_env(N, seed=1)
    env.reset(seed=1)
    steps = _run_until_done(env, env.max_episode_steps + 1)
    last = steps[-1]
    done = last.done
    assert done.any(), f"{task.name}: no episode ended within its {env.max_episode_steps}-step limit"
    assert not (last.terminated & last.truncated).any()
    assert torch.equal(last.obs[~done], last.final_obs[~done])  # no reset: the same observation
    assert not torch.equal(last.obs[done], last.final_obs[done])  # reset: a new episode's first one
    for step in steps:
        assert not (step.success & ~step.done).any(), f"{task.name}: success outside an episode end"
    # the style pair ends on the pre-reset state, so it continues the previous pair
    if env.style_dim and len(steps) > 1:
        d = env.style_dim
        assert torch.allclose(steps[-1].transition[:, :d], steps[-2].transition[:, d:])


def test_seeded_determinism(task):
    runs = []
    for _ in range(2):
        env = task.make_env(N, seed=5)
        gen = torch.Generator().manual_seed(3)
        out = [env.reset(seed=5)]
        for _ in range(5):
            step = env.step(_actions(env, gen))
            out += [step.obs, step.reward, step.transition]
        runs.append(out)
    for a, b in zip(*runs):
        assert torch.equal(a, b), f"{task.name}: one seed gave two runs"
    other = task.make_env(N, seed=6).reset(seed=6)
    assert not torch.equal(other, runs[0][0]), f"{task.name}: seeds 5 and 6 start alike"
