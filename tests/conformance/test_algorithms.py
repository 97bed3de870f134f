"""Every registered algorithm on every task it runs on: a tiny train that is "killed" right
after its first checkpoint, resumed to the end, equal to an uninterrupted run, then evaluated.

The kill is simulated in-process (an exception out of the checkpoint writer, as a SIGKILL after
the write would leave things); tests/runner/test_resume.py kills real subprocesses for four families.
Pairs that need demonstrations on a task without an oracle (BC on the tracking tasks), or actions
from an oracle that records none (BC on the humanoid imitation task), are skipped: they need a
demo file, which no test here makes.
"""

from pathlib import Path

import pytest

from imitate.cli import main
from imitate.registry import ALGOS, STYLE_TASKS, TASKS
from imitate.utils.reproducibility import differences
from imitate.utils.run import Run

PPO = [
    "num_envs=4",
    "rollout_steps=4",
    "total_steps=48",
    "minibatches=1",
    "epochs=1",
    "hidden=16,16",
    "eval_episodes=2",
]
BC = ["iterations=6", "demo_episodes=4", "width=16", "blocks=1", "eval_episodes=2", "batch_size=32"]
# BCO, IIDM: BC plus a dynamics model on a few random-action episodes generated into the run
FROM_OBSERVATION = [*BC, "embodiment_episodes=3", "model_iterations=4", "model_width=8", "model_batch_size=16"]
IBC = [*BC, "counter_examples=4", "dfo_samples=16", "langevin_samples=8", "langevin_steps=2", "langevin_train_steps=2"]
TINY = {
    "ppo": PPO,
    "deepmimic": PPO,
    "near": [*PPO, "fixed_level=-1"],
    "amp": [*PPO, "demo_episodes=4", "disc.hidden=16,16", "disc.batch_size=16", "disc.updates=1", "replay_size=64"],
    "energy": ["iterations=6", "demo_episodes=4", "hidden=16,16", "batch_size=32"],
    "cem": ["eval_episodes=2", "samples=8", "elite_frac=0.25", "horizon=2", "iterations=1", "max_steps=3"],
    "mse": BC,
    "mdn": BC,
    "ibc-dfo": IBC,
    "ibc-langevin": IBC,
    "ibc-ardfo": IBC,
    "bco": FROM_OBSERVATION,
    "iidm": FROM_OBSERVATION,
    "world-model": [
        "iterations=6",
        "demo_episodes=4",
        "deter=8",
        "stoch=4",
        "units=8",
        "batch_size=4",
        "seq_len=6",
        "eval_horizon=5",
    ],
    "aime": ["iterations=6", "demo_episodes=4", "batch_size=4", "seq_len=6", "policy_units=8", "eval_episodes=2"],
}
COMMON = ["checkpoint_every=1", "progress=false"]


def _pairs():
    for algo_name, algo in ALGOS.items():
        for task_name, task in TASKS.items():
            if algo.tasks and task_name not in algo.tasks:
                continue
            if algo.needs_demos and not task.has_oracle:
                continue
            if algo.needs_actions and not task.oracle_actions:
                continue
            needed = ALGOS[algo.requires[1]] if algo.requires else None
            if needed is not None and needed.needs_actions and not task.oracle_actions:
                continue  # the run it requires (AIME's world model) cannot be trained there
            yield algo_name, task_name


PAIRS = sorted(_pairs())


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, the checkpoint already written stays."""


@pytest.fixture(scope="module")
def energy_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("energy")
    runs = {}
    for task in STYLE_TASKS:
        assert main(["train", task, "energy", *TINY["energy"], "progress=false", f"out_dir={root}"]) == 0
        runs[task] = next(p.parent for p in (root / task).rglob("config.yaml"))
    return runs


@pytest.fixture(scope="module")
def world_model_runs(tmp_path_factory):
    """A tiny world model per task AIME runs on here, trained on first use."""
    root, runs = tmp_path_factory.mktemp("world_models"), {}

    def get(task: str) -> Path:
        if task not in runs:
            argv = ["train", task, "world-model", *TINY["world-model"], "progress=false", f"out_dir={root}"]
            assert main(argv) == 0
            runs[task] = next(p.parent for p in (root / task).rglob("config.yaml"))
        return runs[task]

    return get


def _train(task: str, algo: str, out: Path, extra: list[str]) -> Path:
    common = ["progress=false"] if algo == "cem" else COMMON  # CEM trains nothing: no checkpoints
    assert main(["train", task, algo, *TINY[algo], *common, *extra, f"out_dir={out}"]) == 0
    (config,) = (out / task / algo).rglob("config.yaml")
    return config.parent


def test_every_algorithm_is_exercised():
    assert {a for a, _ in PAIRS} == set(ALGOS)
    assert set(TINY) == set(ALGOS)


@pytest.mark.parametrize("algo,task", PAIRS, ids=[f"{a}-{t}" for a, t in PAIRS])
def test_train_kill_resume_eval(algo, task, tmp_path, monkeypatch, energy_runs, world_model_runs):
    extra = [f"energy={energy_runs[task]}"] if ALGOS[algo].needs_energy else []
    if algo == "aime":
        extra = [f"world_model={world_model_runs(task)}"]
    reference = _train(task, algo, tmp_path / "reference", extra)
    if algo == "cem":  # plans at evaluation; nothing to resume
        assert main(["eval", str(reference), "--episodes", "2"]) == 0
        return
    save = Run.save_checkpoint

    def save_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        raise Killed

    monkeypatch.setattr(Run, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        _train(task, algo, tmp_path / "killed", extra)
    monkeypatch.setattr(Run, "save_checkpoint", save)
    (config,) = (tmp_path / "killed").rglob("config.yaml")
    run = config.parent
    assert main(["train", task, algo, f"resume={run}"]) == 0
    assert differences(run, reference) == []
    assert main(["eval", str(run), "--episodes", "2"]) == 0
    assert (run / "metrics.json").is_file()
