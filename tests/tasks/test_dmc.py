"""AIME's DeepMind Control tasks against dm_control itself: same start, same actions, same
observations and rewards; AIME's cheetah rewards against their formulas; set-ups, action repeat,
time limit and bad input."""

import numpy as np
import pytest
import torch

from imitate.cli import main
from imitate.registry import TASKS as REGISTRY
from imitate.tasks.dmc import AIME_CHEETAH, TASKS, DmcEnv
from imitate.tasks.dmc_options import DmcOptions, sensor_layout

suite = pytest.importorskip("dm_control.suite")


def _dm_control(name: str):
    """dm_control's env of task ``name`` (AIME loads cheetah run for every cheetah task)."""
    domain = TASKS[name].domain
    return suite.load(domain, "run" if domain == "cheetah" else name.split("-", 1)[1], task_kwargs={"random": 0})


def _start_alike(env, dm) -> None:
    """Put dm_control's env in our env 0's start state (its reset_context, as its own reset does)."""
    with dm.physics.reset_context():
        dm.physics.data.qpos[:] = env.sim.qpos[0]
        dm.physics.data.qvel[:] = env.sim.qvel[0]


def _flat(observation) -> np.ndarray:
    return np.concatenate([np.ravel(v) for v in observation.values()])


def _lockstep(name: str, steps: int, zero_warmstart: bool, repeat: int = 2):
    """Our env and dm_control's, from one start state, under the same random actions: yields
    (dm_control's summed reward, its last TimeStep, our StepResult) per env step."""
    env = DmcEnv(name, 2, seed=1, options=DmcOptions(action_repeat=repeat))
    env.reset(seed=1)
    dm = _dm_control(name)
    dm.reset()
    _start_alike(env, dm)
    first = dm.task.get_observation(dm.physics)
    for key, value in env.observation_terms().items():
        np.testing.assert_allclose(value[0].numpy(), np.ravel(first[key]), atol=1e-6)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        action = torch.rand(2, 6, generator=gen) * 2 - 1
        if zero_warmstart:  # our engine restarts the solver's warm start at every env step
            dm.physics.data.qacc_warmstart[:] = 0.0
        reward = 0.0
        for _ in range(repeat):
            ts = dm.step(action[0].double().numpy())
            reward += ts.reward
        yield reward, ts, env.step(action)


@pytest.mark.parametrize("name", ["walker-walk", "cheetah-run"])
def test_a_whole_episode_equals_dm_control(name):
    """500 env steps = dm_control's 1000; dm_control's warm start is restarted as ours is, so the
    two must agree to float32 rounding to the end, where both cut the episode."""
    for t, (reward, ts, step) in enumerate(_lockstep(name, 500, zero_warmstart=True)):
        np.testing.assert_allclose(step.final_obs[0].numpy(), _flat(ts.observation), rtol=1e-6, atol=1e-5)
        assert step.reward[0].item() == pytest.approx(reward, rel=1e-6, abs=1e-6)
        assert bool(step.truncated[0]) == ts.last() == (t == 499)
        assert not step.terminated.any()


@pytest.mark.parametrize("name", ["walker-stand", "walker-walk", "walker-run", "cheetah-run"])
def test_steps_equal_unmodified_dm_control(name):
    """dm_control as it is (its warm start carried between steps): equal for the first 50 env steps
    (docs/dmc.md measures where contact chaos lets the two drift apart)."""
    for reward, ts, step in _lockstep(name, 50, zero_warmstart=False):
        np.testing.assert_allclose(step.final_obs[0].numpy(), _flat(ts.observation), rtol=1e-6, atol=1e-5)
        assert step.reward[0].item() == pytest.approx(reward, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", sorted(f"cheetah-{n}" for n in AIME_CHEETAH))
def test_aime_cheetah_rewards_are_their_formulas(name):
    """AIME's run-backward max(0, min(-v[0]/10, 1)), flip max(0, min(v[2]/5, 1)), flip-backward
    max(0, min(-v[2]/5, 1)) of dm_control's velocity observation after the repeat: not summed."""
    formulas = {
        "cheetah-run-backward": lambda v: max(0.0, min(-v[0] / 10, 1.0)),
        "cheetah-flip": lambda v: max(0.0, min(v[2] / 5, 1.0)),
        "cheetah-flip-backward": lambda v: max(0.0, min(-v[2] / 5, 1.0)),
    }
    rewards = []
    for _, ts, step in _lockstep(name, 40, zero_warmstart=True):
        expected = formulas[name](ts.observation["velocity"])
        assert step.reward[0].item() == pytest.approx(expected, abs=1e-6)
        rewards.append(expected)
    assert max(rewards) > 0  # random actions do move it that way now and then: the check is not vacuous


def test_action_repeat_one_is_dm_controls_own_step():
    for reward, ts, step in _lockstep("walker-walk", 20, zero_warmstart=True, repeat=1):
        assert step.reward[0].item() == pytest.approx(reward, rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(step.final_obs[0].numpy(), _flat(ts.observation), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("repeat, steps", [(1, 1000), (2, 500), (4, 250), (8, 125)])
def test_episode_is_dm_controls_1000_steps(repeat, steps):
    env = DmcEnv("cheetah-flip", 1, options=DmcOptions(action_repeat=repeat))
    assert env.max_episode_steps == steps and env.sim.substeps == repeat


def test_time_limit_truncates_every_copy_at_once():
    env = DmcEnv("walker-stand", 3, seed=0, options=DmcOptions(action_repeat=10))  # 100 env steps
    env.reset(seed=0)
    for t in range(100):
        step = env.step(torch.rand(3, 6) * 2 - 1)
        assert not step.terminated.any()
        assert bool(step.truncated.all()) == (t == 99) and bool(step.truncated.any()) == (t == 99)
    assert not torch.equal(step.obs, step.final_obs)  # a new episode began
    assert (env.steps == 0).all()


@pytest.mark.parametrize("name", sorted(TASKS))
@pytest.mark.parametrize("setup", ["mdp", "lpomdp"])
def test_every_task_builds_steps_and_records_its_sensor_layout(name, setup):
    assert name in REGISTRY
    env = REGISTRY[name].make_env(2, seed=0, cfg=DmcOptions(setup=setup))
    obs = env.reset(seed=0)
    layout = sensor_layout(TASKS[name].domain, setup)
    assert env.obs_layout == layout
    assert obs.shape == (2, sum(size for _, size in layout["policy"])) and env.act_dim == 6
    for _ in range(5):
        step = env.step(torch.rand(2, 6) * 2 - 1)
        assert torch.isfinite(step.obs).all() and torch.isfinite(step.reward).all()
        assert (step.reward >= 0).all()
    terms = env.observation_terms()
    assert list(terms) == [sensor for sensor, _ in layout["policy"]]
    assert torch.equal(torch.cat(list(terms.values()), dim=1), env.observation())


@pytest.mark.parametrize("name", ["walker-walk", "cheetah-run"])
def test_lpomdp_hides_the_velocities_and_keeps_them_as_probes(name):
    mdp, lpomdp = (DmcEnv(name, 2, seed=4, options=DmcOptions(setup=s)) for s in ("mdp", "lpomdp"))
    for env in (mdp, lpomdp):
        env.reset(seed=4)
        env.step(torch.full((2, 6), 0.3))
    full = mdp.observation_terms()
    assert "velocity" in full and "velocity" not in lpomdp.observation_terms()
    for sensor, value in lpomdp.observation_terms().items():
        assert torch.equal(value, full[sensor])
    assert torch.equal(lpomdp.observation("probe"), full["velocity"])
    assert lpomdp.obs_dim == mdp.obs_dim - 9  # both models have 9 joint velocities


def test_walker_starts_are_dm_controls_distribution():
    """Torso upright or not (its pitch in [-π, π]), legs inside their limits, at rest at 1.3 m."""
    env = DmcEnv("walker-walk", 256, seed=0)
    env.reset(seed=0)
    q, model = env.sim.qpos, env.sim.model
    assert (env.sim.qvel == 0).all() and (q[:, :2] == 0).all()  # rootz, rootx at the reference
    assert q[:, 2].min() < -2.5 and q[:, 2].max() > 2.5
    low, high = model.jnt_range[3:].T
    assert ((q[:, 3:] >= low) & (q[:, 3:] <= high)).all()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["setup=pomdp"], "setup must be one of mdp, lpomdp, got 'pomdp'"),
        (["action_repeat=0"], "action_repeat must be in [1, 1000], got 0"),
        (["action_repeat=3"], "action_repeat must divide dm_control's 1000-step episode, got 3"),
    ],
)
def test_bad_options_are_one_line(args, expected, tmp_path, capsys):
    code = main(["train", "walker-walk", "ppo", *args, f"out_dir={tmp_path}"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"imitate: error: {expected}"
    assert not any(tmp_path.iterdir())
