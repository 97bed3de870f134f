"""AMP with several discriminators (``discriminators=LABEL:AMP_RUN,...``, issue 14): each term
starts from its run's discriminator, reads its run's mask and demonstrations, and is weighted by
w_style · w_i · s_i; the inputs are checked in one line; labelled terms and stats."""

import dataclasses

import pytest
import torch

from imitate.algos.amp import discriminator_state, load_discriminator, make_amp_reward
from imitate.algos.demos import keep_columns, trained_demos
from imitate.config import ConfigError
from imitate.models.discriminator import amp_reward
from imitate.registry import TASKS
from imitate.rewards.compose import Labelled
from imitate.rewards.gate import GatedShare
from imitate.runner import resolve_config, train
from imitate.tasks.humanoid.masks import pair_columns
from imitate.utils.run import Run

TINY = {
    "demo_episodes": 2,
    "disc.hidden": "8",
    "num_envs": 4,
    "rollout_steps": 8,
    "total_steps": 32,
    "minibatches": 1,
    "epochs": 1,
    "hidden": "8,8",
    "eval_episodes": 1,
    "progress": False,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("amp"))
    walk = train("humanoid", "amp", {**TINY, "motion": "walk", "mask": "lower", "out_dir": out})
    punch = train("humanoid", "amp", {**TINY, "motion": "punch", "mask": "upper", "out_dir": out})
    return str(walk.dir), str(punch.dir)


def test_each_discriminator_keeps_its_run_and_the_weights_carry_the_scales(runs):
    walk, punch = runs
    both = f"walk:{walk},punch:{punch}"
    cfg = resolve_config("humanoid", "amp", {**TINY, "discriminators": both, "style_weights": "3,1"})
    env = TASKS["humanoid"].make_env(2, seed=0, cfg=cfg)
    reward = make_amp_reward(TASKS["humanoid"], cfg, env, None)
    assert list(reward.parts) == ["task", "style_walk", "style_punch"]
    means = {}
    for label, path, mask in (("walk", walk, "lower"), ("punch", punch, "upper")):
        part = reward.part(f"style_{label}").part
        assert tuple(part.columns) == pair_columns(mask)
        trained = discriminator_state(Run.open(path))
        for key, value in trained["disc"].items():  # starts from the run's trained discriminator
            assert torch.equal(part.disc.state_dict()[key], value)
        disc = load_discriminator(Run.open(path))
        expert = keep_columns(trained_demos(TASKS["humanoid"], path).transitions(), pair_columns(mask))
        means[label] = float(amp_reward(disc.logits(expert)).mean())
    s_punch = abs(means["walk"]) / abs(means["punch"])
    assert abs(s_punch - 1) > 1e-3  # so the check below tells a scaled weight from an unscaled one
    assert reward.weight("style_walk") == pytest.approx(cfg.w_style * 0.75)
    assert reward.weight("style_punch") == pytest.approx(cfg.w_style * 0.25 * s_punch, rel=1e-5)
    env.reset(seed=0)
    step = env.step(torch.zeros(2, env.act_dim))
    reward(None, None, step)
    assert {"r_amp_walk", "r_amp_punch", "task"} <= set(reward.last_terms)
    stats = reward.update(step.transition)
    assert {"amp/loss_walk", "amp/loss_punch"} <= set(stats)
    # style_gate wraps every term in its renormalised share; the weights stay; the gate reads goal_distance
    gated = make_amp_reward(TASKS["humanoid"], dataclasses.replace(cfg, style_gate="punch:1.5"), env, None)
    assert all(isinstance(gated.part(f"style_{label}"), GatedShare) for label in ("walk", "punch"))
    assert gated.weight("style_punch") == pytest.approx(reward.weight("style_punch"), rel=1e-5)
    with pytest.raises(ValueError, match="needs a task that reports goal_distance"):
        gated(None, None, step)
    env.close()


def test_composed_discriminator_inputs_are_checked_in_one_line(runs, tmp_path):
    walk, punch = runs
    both = f"walk:{walk},punch:{punch}"
    energy = train("humanoid", "energy", {"iterations": 2, "demo_episodes": 2, "hidden": "8", "out_dir": str(tmp_path)})
    cases = [
        ({"discriminators": both, "style_weights": "1,2,3"}, "style_weights has 3 weights for 2 discriminators"),
        ({"discriminators": both, "mask": "upper"}, "mask=upper names the mask of one discriminator"),
        ({"discriminators": walk}, "label each run, LABEL:AMP_RUN"),
        ({"discriminators": both, "demos": "x.npz"}, "give no demos="),
        ({"discriminators": f"walk:{walk},e:{energy.dir}"}, "is a humanoid/energy run, not a humanoid/amp run"),
        ({"discriminators": both, "style_gate": "kick:1.5"}, "'kick' is not one of several composed runs"),
        ({"discriminators": both, "style_gate": "punch:far"}, "style_gate=punch:far: give LABEL:METRES"),
        ({"discriminators": both, "style_gate": "punch:1.5"}, "task 'humanoid' reports no goal_distance"),
    ]
    for overrides, message in cases:
        with pytest.raises(ConfigError, match=message):
            resolve_config("humanoid", "amp", overrides)


class Part:
    def __init__(self):
        self.last_terms = {}

    def __call__(self, obs, action, step):
        self.last_terms = {"r_amp": torch.ones(2)}
        return torch.ones(2)

    def absorbing_value(self, value):
        return 2 * value

    def update(self, transitions):
        return {"amp/loss": 0.5}

    def state_dict(self):
        return {"x": 1}

    def load_state_dict(self, state):
        self.loaded = state


def test_labelled_renames_terms_and_stats_and_keeps_the_rest():
    part = Part()
    labelled = Labelled("walk", part)
    assert torch.equal(labelled(None, None, None), torch.ones(2))
    assert set(labelled.last_terms) == {"r_amp_walk"}
    assert labelled.update(torch.zeros(1, 1)) == {"amp/loss_walk": 0.5}
    assert torch.equal(labelled.absorbing_value(torch.ones(2)), 2 * torch.ones(2))
    labelled.load_state_dict(labelled.state_dict())
    assert part.loaded == {"x": 1}
