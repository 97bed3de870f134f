"""TaskEnv runs any term table: observation history and masks, flags, per-term rewards, exact
save and restore (the example reach task, varied)."""

import dataclasses

import pytest
import torch

from imitate.tasks.core.env import TaskEnv
from imitate.tasks.core.terms import ObsGroup, ObsTerm, TaskSpec, Termination
from tests.tasks.reach import REACH, ReachEnv


def _with(**changes) -> TaskSpec:
    return dataclasses.replace(REACH, **changes)


def test_history_stacks_oldest_first_and_tiles_the_first_frame_at_reset():
    position = ObsTerm(lambda env, ids: env.sim.pos[ids])
    spec = _with(
        observations={
            "policy": ObsGroup({"position": position}, history=3),
            "style": ObsGroup({"position": position}, history=2),
        }
    )
    env = TaskEnv(spec, 4, seed=0)
    first = env.reset(seed=0)
    assert first.shape == (4, 6) and env.style_dim == 4
    assert torch.equal(first[:, :2], first[:, 2:4]) and torch.equal(first[:, 2:4], first[:, 4:])
    frames = [first[:, 4:]] * 3  # the first frame, tiled
    for _ in range(4):
        step = env.step(torch.rand(4, 2) * 2 - 1)
        frames.append(env.sim.pos.clone())
        assert not step.done.any()
        assert torch.equal(step.obs, torch.cat(frames[-3:], dim=-1))
        # the style pair: the stacked history before the step, then after it
        assert torch.equal(step.transition[:, 4:], torch.cat(frames[-2:], dim=-1))
        assert torch.equal(step.transition[:, :4], torch.cat(frames[-3:-1], dim=-1))


def test_obs_layout_names_each_term_and_observation_terms_split_a_frame():
    env = ReachEnv(3, seed=0)
    env.reset(seed=0)
    assert env.obs_layout["policy"] == (("position", 2), ("velocity", 2), ("goal", 2))
    env.step(torch.rand(3, 2) * 2 - 1)
    terms = env.observation_terms()
    assert list(terms) == ["position", "velocity", "goal"]
    assert torch.equal(terms["position"], env.sim.pos) and torch.equal(terms["goal"], env.commands["goal"])
    masked = TaskEnv(_with(observations={"policy": ObsGroup(REACH.observations["policy"].terms, mask=(0, 4))}), 2)
    with pytest.raises(ValueError, match="masked"):
        masked.observation_terms()


def test_mask_keeps_the_named_feature_indices():
    spec = _with(observations={"policy": ObsGroup(REACH.observations["policy"].terms, mask=(0, 1, 4, 5))})
    env = TaskEnv(spec, 3, seed=1)
    obs = env.reset(seed=1)
    assert env.obs_dim == 4
    assert torch.equal(obs, torch.cat([env.sim.pos, env.commands["goal"]], dim=-1))


def test_flags_follow_the_termination_table():
    env = ReachEnv(8, seed=2)
    env.reset(seed=2)
    env.sim.set_bodies(slice(None), env.commands["goal"][:].clone())  # every mass on its goal
    env.refresh()
    step = env.step(torch.zeros(8, 2) + (env.commands["goal"] * 2 - 1))
    assert step.terminated.all() and step.success.all() and not step.truncated.any()
    assert torch.allclose(step.extras["reward/arrival"], torch.ones(8))
    # a failure outcome vetoes success in the same step
    failing = _with(
        terminations={
            **REACH.terminations,
            "everything_fails": Termination(lambda env: torch.ones(env.num_envs, dtype=torch.bool), outcome="failure"),
        }
    )
    env = TaskEnv(failing, 4, seed=0)
    step = env.step(torch.zeros(4, 2))
    assert step.terminated.all() and not step.success.any()


def test_saved_state_steps_exactly_as_the_original():
    env = ReachEnv(6, seed=3)
    env.reset(seed=3)
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(6, 2, generator=gen) * 2 - 1 for _ in range(80)]
    for a in actions[:20]:
        env.step(a)
    saved = env.get_state()
    copy = ReachEnv(6, seed=99)
    copy.set_state(saved)
    for a in actions[20:]:  # crosses resets (50-step episodes), so the generators are compared too
        x, y = env.step(a), copy.step(a)
        assert torch.equal(x.obs, y.obs) and torch.equal(x.reward, y.reward) and torch.equal(x.done, y.done)
    with pytest.raises(ValueError, match="for 6 envs, this env has 5"):
        ReachEnv(5).set_state(saved)


def test_a_table_without_a_policy_group_or_a_time_out_is_refused():
    with pytest.raises(ValueError, match="no 'policy' observation group"):
        _with(observations={"critic": REACH.observations["policy"]})
    with pytest.raises(ValueError, match="no time-out termination"):
        _with(terminations={"reached": REACH.terminations["reached"]})
