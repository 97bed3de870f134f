"""The composed reward (rewards/compose.py): weights, per-term logging, the one absorbing-success
rule, update fan-out, per-part state; and the old AMP key name failing with the new one."""

import copy
from types import SimpleNamespace

import pytest
import torch

from imitate.algos.amp import make_amp_reward
from imitate.algos.amp_config import AMPConfig
from imitate.algos.near_config import NEARConfig
from imitate.algos.on_policy import make_task_reward
from imitate.algos.ppo_config import TaskPPOConfig
from imitate.cli import main
from imitate.config import ConfigError, apply_overrides
from imitate.models.energy import NCSN
from imitate.rewards.base import TaskReward
from imitate.rewards.compose import ComposedReward
from imitate.rewards.energy import EnergyReward
from imitate.tasks.core.vecenv import StepResult

GAMMA = 0.9
G = GAMMA / (1 - GAMMA)  # the absorbing state's discounted value per unit of per-step reward


class Part:
    """A learned part with a known value, absorbing value, update and state."""

    def __init__(self, value: torch.Tensor, name: str, absorbing=None):
        self.value, self.name, self.absorbing = value, name, absorbing
        self.seen: list[torch.Tensor] = []
        self.last_terms: dict[str, torch.Tensor] = {}
        if absorbing is not None:
            self.absorbing_value = lambda value: self.absorbing

    def __call__(self, obs, action, step):
        self.last_terms = {f"r_{self.name}": self.value}
        return self.value

    def update(self, transitions):
        self.seen.append(transitions)
        return {f"{self.name}/updates": float(len(self.seen))}

    def state_dict(self):
        return {"updates": len(self.seen)}

    def load_state_dict(self, state):
        self.seen = [torch.zeros(0)] * state["updates"]


def _step(reward, terminated, truncated, success, transition=None):
    t = lambda xs: torch.tensor(xs, dtype=torch.bool)  # noqa: E731
    n = len(reward)
    return StepResult(
        obs=torch.zeros(n, 2),
        reward=torch.tensor(reward),
        terminated=t(terminated),
        truncated=t(truncated),
        final_obs=torch.zeros(n, 2),
        success=t(success),
        transition=torch.zeros(n, 4) if transition is None else transition,
    )


# env 0: success termination; 1: failure termination; 2: success flag on a time-limit cut; 3: running
STEP = _step(
    [1.0, -1.0, 0.5, 0.25], [True, True, False, False], [False, False, True, False], [True, False, True, False]
)
R_A = torch.tensor([0.3, -0.7, 0.9, 0.1])
R_B = torch.tensor([2.0, 1.5, -0.5, 0.25])


def test_weighted_sum_of_parts_and_per_term_logging():
    a, b = Part(R_A, "a"), Part(R_B, "b")
    reward = ComposedReward({"task": (0.2, TaskReward()), "a": (0.5, a), "b": (1.5, b)})
    total = reward(None, None, STEP)
    assert torch.equal(total, 0.2 * STEP.reward + 0.5 * R_A + 1.5 * R_B)
    assert set(reward.last_terms) == {"task", "r_a", "r_b"}
    assert torch.equal(reward.last_terms["task"], STEP.reward)  # terms are logged unweighted
    assert torch.equal(reward.last_terms["r_b"], R_B)
    assert reward.weight("a") == 0.5 and reward.part("b") is b


def test_absorbing_success_pays_only_success_terminations():
    a, b = Part(R_A, "a", absorbing=1.0), Part(R_B, "b", absorbing=R_B)
    on = ComposedReward(
        {"task": (0.2, TaskReward()), "a": (0.5, a), "b": (1.5, b)}, absorbing_success=True, gamma=GAMMA
    )
    base = 0.2 * STEP.reward + 0.5 * R_A + 1.5 * R_B
    finished = torch.tensor([1.0, 0.0, 0.0, 0.0])  # not a failure, not a time limit, not running
    assert torch.equal(on(None, None, STEP), base + 0.5 * G * 1.0 * finished + 1.5 * G * R_B * finished)
    off = ComposedReward({"task": (0.2, TaskReward()), "a": (0.5, a), "b": (1.5, b)}, gamma=GAMMA)
    assert torch.equal(off(None, None, STEP), base)  # off by default
    undiscounted = ComposedReward({"a": (0.5, a)}, absorbing_success=True, gamma=1.0)
    assert torch.equal(undiscounted(None, None, STEP), 0.5 * R_A)  # γ = 1: no finite value, no bonus
    task_only = ComposedReward({"task": (1.0, TaskReward())}, absorbing_success=True, gamma=GAMMA)
    assert torch.equal(task_only(None, None, STEP), STEP.reward)  # the task part pays nothing there


def test_near_composition_is_bit_identical_to_the_former_energy_reward():
    """The formula EnergyReward computed itself before the composition, on a real energy model."""
    torch.manual_seed(0)
    model = NCSN(4, hidden=(16,), latent_dim=8)
    x = torch.rand(4, 4, generator=torch.Generator().manual_seed(1)) * 512
    model.normalizer.update(x)
    step = _step([1.0, -1.0, 0.5, 0.25], STEP.terminated.tolist(), STEP.truncated.tolist(), STEP.success.tolist(), x)
    cfg = NEARConfig(gamma=GAMMA, w_task=0.3, w_energy=0.7)
    energy = EnergyReward(model, fixed_level=45)
    reward = ComposedReward(
        {"task": (cfg.w_task, TaskReward()), "energy": (cfg.w_energy, energy)},
        absorbing_success=cfg.absorbing_success,
        gamma=cfg.gamma,
    )
    total = reward(None, None, step)
    r_energy = reward.last_terms["r_energy"]
    absorbing_value = cfg.gamma / (1 - cfg.gamma)
    mask = (step.terminated & step.success).to(r_energy.dtype)
    former = cfg.w_task * step.reward + cfg.w_energy * r_energy + cfg.w_energy * absorbing_value * mask
    assert torch.equal(total, former)
    assert set(reward.last_terms) == {"task", "energy", "r_energy"}


def test_amp_composition_follows_the_config():
    cfg = apply_overrides(
        AMPConfig(),
        {
            "w_task": "0.3",
            "w_style": "0.7",
            "absorbing_success": "true",
            "gamma": str(GAMMA),
            "disc.hidden": "16,16",
            "style_offset": "0.5",
        },
        "test",
    )
    expert = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    reward = make_amp_reward(SimpleNamespace(name="maze"), cfg, SimpleNamespace(style_dim=2, device="cpu"), expert)
    step = _step(
        [1.0, -1.0, 0.5, 0.25], STEP.terminated.tolist(), STEP.truncated.tolist(), STEP.success.tolist(), expert[:4]
    )
    total = reward(None, None, step)
    style = reward.part("style").style_reward(expert[:4]) - 0.5
    former = 0.3 * step.reward + 0.7 * style * (1.0 + (step.terminated & step.success).float() * G)
    assert torch.allclose(total, former)  # the former AMP formula, up to float rounding
    assert set(reward.last_terms) == {"task", "r_amp"} and (reward.weight("task"), reward.weight("style")) == (0.3, 0.7)


def test_plain_ppo_reward_is_the_task_reward_plus_success_bonus():
    reward = make_task_reward(None, TaskPPOConfig(success_bonus=99.0), None)
    assert reward(None, None, STEP).tolist() == [100.0, -1.0, 0.5, 0.25]
    assert reward.last_terms["success_bonus"].tolist() == [99.0, 0.0, 0.0, 0.0]


def test_update_fans_out_and_state_round_trips_per_part():
    a, b = Part(R_A, "a"), Part(R_B, "b")
    reward = ComposedReward({"task": (1.0, TaskReward()), "a": (0.5, a), "b": (0.5, b)})
    transitions = torch.ones(6, 4)
    assert reward.update(transitions) == {"a/updates": 1.0, "b/updates": 1.0}
    assert a.seen[0] is transitions and b.seen[0] is transitions
    reward.update(transitions)
    state = copy.deepcopy(reward.state_dict())
    assert state == {"task": {}, "a": {"updates": 2}, "b": {"updates": 2}}
    clone_a, clone_b = Part(R_A, "a"), Part(R_B, "b")
    clone = ComposedReward({"task": (1.0, TaskReward()), "a": (0.5, clone_a), "b": (0.5, clone_b)})
    clone.load_state_dict(state)
    assert len(clone_a.seen) == len(clone_b.seen) == 2
    # a checkpoint from before the composition held the one learned part's state flat
    single = ComposedReward({"task": (0.5, TaskReward()), "a": (0.5, Part(R_A, "a"))})
    single.load_state_dict({"updates": 3})
    assert len(single.part("a").seen) == 3


def test_old_absorbing_key_names_the_new_one(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"'success_absorbing' was renamed to 'absorbing_success'"):
        apply_overrides(AMPConfig(), {"success_absorbing": "true"}, "test")
    assert apply_overrides(AMPConfig(), {"absorbing_success": "true"}, "test").absorbing_success is True
    assert NEARConfig().absorbing_success is True and AMPConfig().absorbing_success is False
    assert main(["train", "maze", "amp", "success_absorbing=true", f"out_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'success_absorbing' was renamed to 'absorbing_success'" in err, err
    assert not list(tmp_path.rglob("config.yaml"))
