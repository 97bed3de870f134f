"""`imitate data TASK --policy ...` on the DeepMind Control tasks: random data, a trained run's
policy (latest or a snapshot), mixtures; what the files hold and the one-line refusals.

Episodes are shortened with ``action_repeat=50`` (dm_control's 1000 control steps in 20 env
steps): the tasks have no other episode-length option.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from imitate.cli import main
from imitate.data.dataset import Demonstrations
from imitate.oracles.collect import chunk_seed, first_episodes
from imitate.registry import get_task
from imitate.tasks.dmc_options import sensor_layout
from tests.fixtures.runs import only_run_dir as _run_dir

SHORT = "action_repeat=50"  # 20 env steps per episode
STEPS = 20
TINY_PPO = [
    SHORT,
    "num_envs=4",
    "rollout_steps=10",
    "total_steps=120",
    "minibatches=2",
    "epochs=1",
    "hidden=16,16",
    "eval_episodes=2",
    "snapshot_every=40",
    "init_log_std=-2",  # draws rarely reach the [-1, 1] clip, so they show the policy's Gaussian
    "progress=false",
]


def _data(*argv: str) -> None:
    assert main(["data", *argv, "--no-progress"]) == 0


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """A tiny PPO run on cheetah-run with snapshots at 40, 80 and 120 env steps."""
    root = tmp_path_factory.mktemp("policy_data")
    assert main(["train", "cheetah-run", "ppo", f"out_dir={root / 'runs'}", *TINY_PPO]) == 0
    return {"root": root, "run": _run_dir(root / "runs")}


def _policy(run: Path, checkpoint: str = "latest.pt"):
    from imitate.algos.ppo import load_policy
    from imitate.runner import run_config
    from imitate.utils.run import Run

    opened = Run.open(run)
    return load_policy(opened, get_task(opened.task), run_config(opened), run / "checkpoints" / checkpoint)


def _mean_actions(model, demos: Demonstrations) -> np.ndarray:
    """The policy's mean action for every row, computed step by step over the episodes as the
    rollout batched them (a matrix product's rounding depends on the batch it is in)."""
    obs = np.stack(demos.episodes())  # (E, L, d): every episode has the same length
    steps = [model.act(torch.from_numpy(obs[:, t]), deterministic=True).numpy() for t in range(obs.shape[1])]
    return np.stack(steps, axis=1).reshape(len(demos.obs), -1)


def _not_last(demos: Demonstrations) -> np.ndarray:
    """Rows whose action was chosen for that row's observation (each episode's last is a repeat)."""
    keep = np.ones(len(demos.obs), dtype=bool)
    keep[demos.episode_ends - 1] = False
    return keep


# -- random data ----------------------------------------------------------------------------------
def test_random_data_shapes_metadata_and_uniform_actions(tmp_path):
    out = tmp_path / "random.npz"
    _data("walker-walk", SHORT, "--policy", "random", "--episodes", "6", "--num-envs", "4", "--out", str(out))
    demos = Demonstrations.load(out, task="walker-walk")
    assert demos.num_episodes == 6
    assert np.array_equal(np.diff(demos.episode_ends, prepend=0), [STEPS + 1] * 6)  # 20 steps, final obs kept
    assert demos.obs.shape == (6 * (STEPS + 1), 24) and demos.actions is not None and demos.actions.shape[1] == 6
    meta = demos.metadata
    assert (meta["task"], meta["source"], meta["policy"], meta["seed"]) == ("walker-walk", "policy", "random", 0)
    assert (meta["setup"], meta["action_repeat"], meta["num_envs"]) == ("mdp", 50, 4)
    assert meta["obs_layout"] == [list(term) for term in sensor_layout("walker", "mdp")["policy"]]
    assert len(meta["obs_names"]) == 24 and meta["obs_names"][14] == "height_0"
    assert meta["episode_end"] == "truncation"
    assert len(meta["episode_returns"]) == 6 and meta["skill_level"] == pytest.approx(np.mean(meta["episode_returns"]))
    assert 0 < meta["skill_level"] < STEPS * 50  # a return of summed dm_control rewards, each in [0, 1]

    actions = demos.actions[_not_last(demos)]
    assert actions.min() >= -1 and actions.max() <= 1
    assert stats.kstest(actions.ravel(), stats.uniform(loc=-1, scale=2).cdf).pvalue > 1e-3
    ends = demos.episode_ends
    assert np.array_equal(demos.actions[ends - 1], demos.actions[ends - 2])  # the format's repeated last action
    assert np.abs(np.corrcoef(actions.T) - np.eye(6)).max() < 0.3  # the motors drawn independently


def test_replaying_the_recorded_actions_gives_the_recorded_observations_and_returns(tmp_path):
    out = tmp_path / "random.npz"
    _data("cheetah-run", SHORT, "--policy", "random", "--episodes", "3", "--seed", "5", "--out", str(out))
    demos = Demonstrations.load(out)
    recorded = np.stack(demos.action_episodes())  # (3, 21, 6)
    task = get_task("cheetah-run")
    env = task.make_env(3, seed=chunk_seed(5, 0), cfg=task_options_short(task))
    step = iter(range(STEPS))
    replay = first_episodes(env, lambda obs: recorded[:, next(step)], STEPS, seed=chunk_seed(5, 0))
    assert np.allclose(np.concatenate(replay.obs), demos.obs, atol=1e-6)
    assert np.allclose(replay.returns, demos.metadata["episode_returns"], atol=1e-9)
    assert replay.truncated.all()


def task_options_short(task):
    from imitate.runner import task_options

    return task_options(task, {"action_repeat": 50})


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(tmp_path):
    paths = [tmp_path / f"{i}.npz" for i in range(3)]
    for path, seed in zip(paths, ("1", "1", "2")):
        _data("cheetah-flip", SHORT, "--policy", "random", "--episodes", "2", "--seed", seed, "--out", str(path))
    a, b, c = (Demonstrations.load(p) for p in paths)
    assert np.array_equal(a.obs, b.obs) and np.array_equal(a.actions, b.actions)
    assert not np.array_equal(a.obs, c.obs) and not np.array_equal(a.actions, c.actions)


# -- a trained run's policy -----------------------------------------------------------------------
def test_deterministic_data_are_the_policys_mean_actions_for_its_observations(world, tmp_path):
    out = tmp_path / "expert.npz"
    run = world["run"]
    _data("cheetah-run", "--policy", str(run), "--deterministic", "--episodes", "3", "--out", str(out))
    demos = Demonstrations.load(out, task="cheetah-run")
    keep = _not_last(demos)
    assert np.array_equal(demos.actions[keep], _mean_actions(_policy(run), demos)[keep])
    meta = demos.metadata
    assert meta["policy"] == f"{run}@120" and meta["policy_run"] == str(run) and meta["policy_algo"] == "ppo"
    assert meta["checkpoint_step"] == 120 and meta["checkpoint"] == str(run / "checkpoints" / "latest.pt")
    assert meta["deterministic"] is True and meta["action_repeat"] == 50  # the run's own task options
    assert meta["skill_level"] == pytest.approx(np.mean(meta["episode_returns"]))


def test_run_data_are_stochastic_by_default_draws_around_the_mean_action(world, tmp_path):
    out = tmp_path / "draws.npz"
    _data("cheetah-run", "--policy", str(world["run"]), "--episodes", "4", "--out", str(out))
    demos = Demonstrations.load(out)
    keep = _not_last(demos)
    model = _policy(world["run"])
    mean = _mean_actions(model, demos)[keep]
    std = model.log_std.detach().exp().numpy()  # per motor
    actions = demos.actions[keep]
    assert (np.abs(actions) < 1).mean() > 0.99
    z = (actions - mean) / std
    assert demos.metadata["deterministic"] is False
    assert abs(z.mean()) < 0.2 and 0.85 < z.std() < 1.15, (z.mean(), z.std())


def test_a_snapshot_step_picks_that_snapshot(world, tmp_path):
    from imitate.utils.run import Run

    run = world["run"]
    assert list(Run.open(run).snapshots()) == [40, 80, 120]
    names = sorted(p.name for p in (run / "checkpoints").iterdir())  # no temp file left: written atomically
    assert names == ["latest.pt", "step_0000040.pt", "step_0000080.pt", "step_0000120.pt"]
    early, latest = tmp_path / "early.npz", tmp_path / "latest.npz"
    _data("cheetah-run", "--policy", f"{run}@40", "--deterministic", "--episodes", "2", "--out", str(early))
    _data("cheetah-run", "--policy", f"{run}@latest", "--deterministic", "--episodes", "2", "--out", str(latest))
    a, b = Demonstrations.load(early), Demonstrations.load(latest)
    assert a.metadata["checkpoint_step"] == 40 and a.metadata["checkpoint"].endswith("step_0000040.pt")
    assert b.metadata["checkpoint_step"] == 120 and b.metadata["checkpoint"].endswith("latest.pt")
    keep = _not_last(a)
    assert np.array_equal(a.actions[keep], _mean_actions(_policy(run, "step_0000040.pt"), a)[keep])
    assert not np.allclose(a.actions[keep], _mean_actions(_policy(run), a)[keep])  # not the latest policy


def test_default_output_names_the_source(world, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _data("cheetah-run", SHORT, "--policy", "random", "--episodes", "1")
    _data("cheetah-run", "--policy", f"{world['run']}@80", "--episodes", "1")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "cheetah-run-ppo-step80.npz",
        "cheetah-run-random.npz",
    ]


# -- mixtures -------------------------------------------------------------------------------------
def test_a_mix_of_random_and_two_skill_levels_takes_equal_shares(world, tmp_path):
    run = world["run"]
    files = [tmp_path / f"{name}.npz" for name in ("random", "early", "late")]
    _data("cheetah-run", SHORT, "--policy", "random", "--episodes", "4", "--out", str(files[0]))
    _data("cheetah-run", "--policy", f"{run}@40", "--episodes", "3", "--out", str(files[1]))
    _data("cheetah-run", "--policy", str(run), "--episodes", "5", "--out", str(files[2]))
    out = tmp_path / "mix.npz"
    _data("cheetah-run", "--mix", ",".join(map(str, files)), "--out", str(out))
    mix = Demonstrations.load(out, task="cheetah-run")
    sources = [Demonstrations.load(f) for f in files]
    assert mix.num_episodes == 9  # 3 × the smallest data set's 3
    meta = mix.metadata
    assert meta["episode_component"] == [0] * 3 + [1] * 3 + [2] * 3
    assert [c["policy"] for c in meta["components"]] == [s.metadata["policy"] for s in sources]
    episodes = mix.episodes()
    returns = []
    for i, (component, source) in enumerate(zip(meta["components"], sources)):
        taken = component["taken"]
        assert len(taken) == len(set(taken)) == 3 and component["file"] == str(files[i])
        for j, e in enumerate(taken):
            assert np.array_equal(episodes[3 * i + j], source.episodes()[e])
            returns.append(source.metadata["episode_returns"][e])
    assert meta["skill_level"] == pytest.approx(np.mean(returns))
    assert (meta["source"], meta["action_repeat"], meta["obs_layout"]) == (
        "mix",
        50,
        sources[0].metadata["obs_layout"],
    )
    again = tmp_path / "again.npz"
    _data("cheetah-run", "--mix", ",".join(map(str, files)), "--episodes", "6", "--seed", "1", "--out", str(again))
    assert json.loads(json.dumps(Demonstrations.load(again).metadata["episode_component"])) == [0, 0, 1, 1, 2, 2]


# -- Minari ---------------------------------------------------------------------------------------
def test_policy_data_as_minari_end_each_episode_by_truncation(tmp_path):
    pytest.importorskip("minari")
    out = tmp_path / "ds"
    _data(
        "walker-stand",
        "action_repeat=100",
        "--policy",
        "random",
        "--episodes",
        "2",
        "--format",
        "minari",
        "--out",
        str(out),
    )
    import minari

    dataset = minari.MinariDataset(out / "data")
    for episode in dataset.iterate_episodes():
        assert episode.observations.shape == (11, 24) and episode.actions.shape == (10, 6)
        assert not episode.terminations.any() and episode.truncations[-1] and episode.truncations.sum() == 1
    back = Demonstrations.load(out, task="walker-stand")
    assert back.metadata["episode_end"] == "truncation" and back.metadata["policy"] == "random"


# -- bad input ------------------------------------------------------------------------------------
BAD = [
    ("unknown_policy", lambda w: ["cheetah-run", "--policy", "nowhere"], "neither 'random' nor a run directory"),
    ("mix_as_policy", lambda w: ["cheetah-run", "--policy", "mix:a.npz"], "--mix A.npz,B.npz"),
    ("bad_step", lambda w: ["cheetah-run", "--policy", f"{w['run']}@soon"], "must be an env step count"),
    (
        "no_snapshot",
        lambda w: ["cheetah-run", "--policy", f"{w['run']}@50"],
        "no snapshot at step 50; its snapshots: 40, 80, 120",
    ),
    (
        "other_task",
        lambda w: ["walker-walk", "--policy", str(w["run"])],
        "a run of task 'cheetah-run', not 'walker-walk'",
    ),
    ("other_obs", lambda w: ["cheetah-run", "setup=lpomdp", "--policy", str(w["run"])], "trained with setup=mdp"),
    (
        "other_repeat",
        lambda w: ["cheetah-run", "action_repeat=2", "--policy", str(w["run"])],
        "trained with action_repeat=50",
    ),
    (
        "not_on_policy",
        lambda w: ["walker-walk", "--policy", str(w["world_model"])],
        "'world-model' runs have no policy",
    ),
    ("oracle_task", lambda w: ["maze", "--policy", "random"], "makes its demonstrations with its oracle"),
    ("no_policy", lambda w: ["walker-walk"], "its data come from a policy: --policy random"),
    ("deterministic_random", lambda w: ["walker-walk", "--policy", "random", "--deterministic"], "--deterministic"),
    ("zero_envs", lambda w: ["walker-walk", "--policy", "random", "--num-envs", "0"], "--num-envs must be at least 1"),
    ("both", lambda w: ["walker-walk", "--policy", "random", "--mix", "a.npz,b.npz"], "give one of them"),
    ("one_mix", lambda w: ["walker-walk", "--mix", str(w["random"])], "at least two data sets"),
    ("mix_odd", lambda w: ["walker-walk", "--mix", f"{w['random']},{w['random']}", "--episodes", "3"], "multiple of 2"),
    ("mix_other_task", lambda w: ["walker-run", "--mix", f"{w['random']},{w['random']}"], "not 'walker-run'"),
    ("mix_unlike", lambda w: ["walker-walk", "--mix", f"{w['random']},{w['random_r40']}"], "action_repeat 40"),
    (
        "mix_options",
        lambda w: ["walker-walk", SHORT, "--mix", f"{w['random']},{w['random']}"],
        "leave action_repeat out",
    ),
    ("mix_missing", lambda w: ["walker-walk", "--mix", f"{w['random']},nothing.npz"], "not found: nothing.npz"),
]


@pytest.fixture(scope="module")
def bad_world(world) -> dict[str, Path]:
    root = world["root"]
    for name, repeat in (("random", "50"), ("random_r40", "40")):
        _data(
            "walker-walk",
            f"action_repeat={repeat}",
            "--policy",
            "random",
            "--episodes",
            "2",
            "--out",
            str(root / f"{name}.npz"),
        )
    wm = [f"demos={root / 'random.npz'}", SHORT, "iterations=2", "seq_len=4", "eval_context=1", "eval_horizon=2"]
    wm += ["eval_episodes=1", "deter=8", "stoch=4", "checkpoint_every=1", "progress=false"]
    assert main(["train", "walker-walk", "world-model", f"out_dir={root / 'wm'}", *wm]) == 0
    return {
        **world,
        "random": root / "random.npz",
        "random_r40": root / "random_r40.npz",
        "world_model": _run_dir(root / "wm"),
    }


@pytest.mark.parametrize("name, make_argv, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line(name, make_argv, expected, bad_world, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["data", *make_argv(bad_world), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2, f"exit {code}: {err}"
    assert len(err.splitlines()) == 1 and err.startswith("imitate: error:"), err
    assert expected in err, err
    assert not (tmp_path / "data").exists(), "a failed command wrote data"
