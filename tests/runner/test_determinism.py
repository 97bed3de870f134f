"""One seed, one run: every algorithm trained twice in this process (whatever the first run left
in the global RNGs) gives bit-identical ``progress.jsonl``, ``metrics.json`` (wall-clock keys
aside) and checkpoint tensors (``utils.reproducibility``). ``demo`` covers NEAR: step 1 (which
used to build its model before seeding) then PPO on its energy; maze evaluation is the slow
part (650-step episodes), so NEAR is not run a second time on its own."""

from pathlib import Path

import pytest

from imitate.cli import main
from imitate.utils.reproducibility import differences

PPO = [
    "num_envs=8",
    "rollout_steps=8",
    "total_steps=128",
    "minibatches=2",
    "epochs=1",
    "hidden=16,16",
    "eval_episodes=2",
]
ENERGY = ["iterations=30", "demo_episodes=8", "hidden=16,16", "checkpoint_every=10"]
BC = ["iterations=30", "demo_episodes=8", "width=16", "blocks=1", "eval_episodes=4", "checkpoint_every=10"]
AMP = ["demo_episodes=8", "disc.hidden=16,16", "disc.batch_size=32", "disc.updates=2", "replay_size=200"]
CASES = {
    "ppo": ["train", "particle", "ppo", *PPO],
    "energy": ["train", "maze", "energy", *ENERGY],
    "demo": ["demo", *[f"energy.{kv}" for kv in ENERGY], *PPO],
    "amp": ["train", "maze", "amp", *PPO, *AMP],
    "cem": [
        "train",
        "maze",
        "cem",
        "energy={energy}",
        "eval_episodes=1",
        "samples=10",
        "horizon=2",
        "iterations=1",
        "max_steps=3",
    ],
    "ibc-dfo": ["train", "particle", "ibc-dfo", *BC, "counter_examples=8", "dfo_samples=32"],
    "ibc-langevin": [
        "train",
        "particle",
        "ibc-langevin",
        *BC,
        "counter_examples=4",
        "langevin_samples=4",
        "langevin_steps=2",
        "langevin_train_steps=2",
    ],
    "mse": ["train", "particle", "mse", *BC],
    "mdn": ["train", "particle", "mdn", *BC, "mdn_components=2"],
    "bco": ["train", "particle", "bco", *BC, "embodiment_episodes=8", "model_iterations=20", "model_width=16"],
    "iidm": ["train", "maze", "iidm", *BC, "embodiment_episodes=4", "model_iterations=20", "model_width=16"],
    "world-model": [
        "train",
        "pusht",
        "world-model",
        "iterations=30",
        "demo_episodes=4",
        "deter=16",
        "stoch=4",
        "units=16",
        "batch_size=4",
        "seq_len=8",
        "eval_horizon=10",
        "checkpoint_every=10",
    ],
    "aime": [
        "train",
        "pusht",
        "aime",
        "world_model={world_model}",
        "iterations=30",
        "demo_episodes=4",
        "batch_size=4",
        "seq_len=8",
        "policy_units=16",
        "eval_episodes=2",
        "checkpoint_every=10",
    ],
    "deepmimic": [
        "train",
        "humanoid-walk",
        "deepmimic",
        "num_envs=4",
        "rollout_steps=8",
        "total_steps=64",
        "minibatches=1",
        "epochs=1",
        "hidden=16,16",
        "eval_episodes=1",
    ],
}


def _runs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("config.yaml"))


@pytest.fixture(scope="module")
def energy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("energy")
    assert main(["train", "maze", "energy", *ENERGY, "progress=false", f"out_dir={root}"]) == 0
    (run,) = _runs(root)
    return run


@pytest.fixture(scope="module")
def world_model_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("world_model")
    assert main([*CASES["world-model"], "progress=false", f"out_dir={root}"]) == 0
    (run,) = _runs(root)
    return run


@pytest.mark.parametrize("name", list(CASES))
def test_same_seed_same_run(name, energy_run, world_model_run, tmp_path):
    argv = [a.format(energy=energy_run, world_model=world_model_run) for a in CASES[name]]
    roots = [tmp_path / "a", tmp_path / "b"]
    for root in roots:
        assert main([*argv, "progress=false", f"out_dir={root}"]) == 0
    runs_a, runs_b = _runs(roots[0]), _runs(roots[1])
    assert [r.relative_to(roots[0]).parent for r in runs_a] == [r.relative_to(roots[1]).parent for r in runs_b]
    for a, b in zip(runs_a, runs_b):
        assert differences(a, b) == [], a
