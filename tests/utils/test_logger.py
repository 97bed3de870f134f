"""TensorBoard: a run's event files hold the scalars the README's "What a run leaves" lists, with
the values and steps of ``progress.jsonl``."""

import json
import math
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from imitate.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
PPO_TAGS = [
    "loss/policy",
    "loss/value",
    "loss/entropy",
    "loss/approx_kl",
    "loss/clip_frac",
    "policy/action_std",
    "policy/learning_rate",
    "episode/success_rate",
    "episode/length",
    "episode/return",
    "episode/task_return",
    "episode/count",
    "reward/task",
]
RUNS = {
    # particle episodes last 50 steps: 64 steps per env end one in every env
    "ppo": (
        PPO_TAGS,
        ["num_envs=4", "rollout_steps=16", "total_steps=256", "minibatches=1", "epochs=1", "hidden=16,16"],
    ),
    "mse": (["bc/loss"], ["iterations=6", "demo_episodes=4", "width=16", "blocks=1", "batch_size=32"]),
    "ibc-dfo": (
        ["bc/loss", "bc/info_nce", "bc/true_action_top1"],
        [
            "iterations=6",
            "demo_episodes=4",
            "width=16",
            "blocks=1",
            "batch_size=32",
            "counter_examples=4",
            "dfo_samples=16",
        ],
    ),
    "world-model": (
        ["world_model/loss", "world_model/elbo", "world_model/kl"],
        ["iterations=6", "demo_episodes=4", "deter=8", "stoch=4", "units=8", "batch_size=4", "seq_len=6"],
    ),
}


def _readme_run_section() -> str:
    text = README.read_text()
    start = text.index("## What a run leaves")
    return text[start : text.index("\n## ", start + 1)]


@pytest.mark.parametrize("algo", sorted(RUNS))
def test_event_files_hold_the_readme_scalars(algo, tmp_path):
    tags, overrides = RUNS[algo]
    assert (
        main(["train", "particle", algo, *overrides, "eval_episodes=2", "progress=false", f"out_dir={tmp_path}"]) == 0
    )
    (run,) = (tmp_path / "particle" / algo).iterdir()
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    section = _readme_run_section()
    assert [t for t in tags if f"`{t}`" not in section] == []
    assert [t for t in tags if t not in events.Tags()["scalars"]] == []
    rows = [json.loads(line) for line in (run / "progress.jsonl").read_text().splitlines()]
    for tag in tags:
        logged = [(r["step"], r[tag]) for r in rows if tag in r]
        read = [(e.step, e.value) for e in events.Scalars(tag)]
        assert [s for s, _ in read] == [s for s, _ in logged]
        assert all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) for (_, a), (_, b) in zip(read, logged))
