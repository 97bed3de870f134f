"""How a pretrained run is made (``imitate pretrained --build NAME``): train it with its catalog
command (or take a finished run, ``--from RUN_DIR``), strip its checkpoint to what evaluation
reads, check that the stripped run evaluates exactly as the full run does, and write it as
package data (``pretrained.PRETRAINED_DIR``, or ``--out DIR``). A run it names
(``energy=pretrained:maze/energy``) is the installed one, in training and in the check alike.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from imitate import pretrained, runner
from imitate.config import ConfigError, load_yaml, parse_overrides
from imitate.utils.io import atomic_torch_save, atomic_write_json, save_yaml
from imitate.utils.run import Run
from imitate.utils.safe_state import encode

MAX_BYTES = 5_000_000  # each shipped run; the wheel carries them all
POLICY = ("ppo/model",)  # a PPO-based run's actor-critic, observation normaliser included
BC_POLICY = ("trainer/policy",)
# What each algorithm's evaluation reads from a checkpoint ("a/b" is state["a"]["b"]); the rest
# (optimisers, RNG and simulator states, replay buffers, annealing) only a resume needs.
EVAL_STATE: dict[str, tuple[str, ...]] = {
    "energy": ("model_config", "ema_model"),
    "ppo": POLICY,
    "near": POLICY,
    "deepmimic": POLICY,
    "amp": (*POLICY, "ppo/reward/style/disc", "ppo/reward/style/disc_config"),
    "ibc-dfo": BC_POLICY,
    "ibc-langevin": BC_POLICY,
    "ibc-ardfo": BC_POLICY,
    "mse": BC_POLICY,
    "mdn": BC_POLICY,
    "bco": (*BC_POLICY, "dynamics/model"),  # the inverse model's held-out error is part of its evaluation
    "iidm": (*BC_POLICY, "dynamics/model"),  # ... and the forward model's
    "world-model": ("model_config", "model"),  # what load_world_model reads
    "aime": ("policy_config", "policy"),  # what load_aime_policy reads; the world model is its own run
}
# Metrics that measure the machine, not the policy: left out of the stripped-vs-full comparison.
TIMING_KEYS = ("eval_seconds", "train_seconds", "video", "video_renderer")


def strip_checkpoint(state: dict[str, Any], algo: str) -> dict[str, Any]:
    """The entries of ``state`` that ``algo``'s evaluation reads, plus task and algo."""
    if algo not in EVAL_STATE:
        raise ConfigError(f"no pretrained form for {algo!r} runs; algos: {', '.join(EVAL_STATE)}")
    kept: dict[str, Any] = {"task": state["task"], "algo": state["algo"]}
    for path in EVAL_STATE[algo]:
        *parents, leaf = path.split("/")
        src, dst = state, kept
        for key in parents:
            src, dst = src[key], dst.setdefault(key, {})
        dst[leaf] = src[leaf]
    return kept


def build(name: str, from_run: str | Path | None = None, out: Path = pretrained.PRETRAINED_DIR) -> dict[str, Any]:
    """Make the pretrained run ``name`` into ``out``/NAME; returns its shipped metrics."""
    entry = pretrained.get(name)
    with tempfile.TemporaryDirectory(prefix="imitate-pretrained-") as tmp:
        full = _full_run(entry, from_run, Path(tmp))
        reference = runner.evaluate(full)
        staged = Path(tmp) / "staged" / entry.name
        _write_stripped(entry, full, staged)
        spec = pretrained.PREFIX + entry.name
        check = pretrained.working_copy(spec, Path(tmp) / "check", source=Path(tmp) / "staged")
        metrics = runner.evaluate(check)
        differ = sorted(k for k in reference if k not in TIMING_KEYS and metrics.get(k) != reference[k])
        if differ:
            raise ConfigError(f"{entry.name}: the stripped run evaluates differently in {', '.join(differ)}")
        atomic_write_json(staged / "metrics.json", {k: v for k, v in metrics.items() if not k.startswith("video")})
        size = sum(p.stat().st_size for p in staged.rglob("*") if p.is_file())
        if size > MAX_BYTES:
            raise ConfigError(
                f"{entry.name}: {size / 1e6:.1f} MB is over the {MAX_BYTES / 1e6:.0f} MB of a pretrained run"
            )
        target = Path(out) / entry.name
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, target)
    return metrics


def _full_run(entry: pretrained.Pretrained, from_run: str | Path | None, tmp: Path) -> Path:
    """The run to package, in ``tmp``: trained now with the catalog command, or a copy of
    ``from_run`` (whose own files evaluation must not touch)."""
    if from_run is None:
        overrides = {**parse_overrides(list(entry.overrides)), "out_dir": str(tmp / "runs")}
        return runner.train(entry.task, entry.algo, overrides).dir
    run = Run.open(from_run)
    if (run.task, run.algo) != (entry.task, entry.algo):
        raise ConfigError(f"{from_run} is a {run.task}/{run.algo} run, not {entry.name}")
    return Path(shutil.copytree(run.dir, tmp / "from", ignore=shutil.ignore_patterns("tb", "plots", "videos")))


def _write_stripped(entry: pretrained.Pretrained, full: Path, staged: Path) -> None:
    """config.yaml (runs it names written back as ``pretrained:NAME``), the stripped checkpoint,
    the training metrics, and demos.npz where the entry ships them."""
    run = Run.open(full)
    state = strip_checkpoint(run.load_checkpoint(entry.task, entry.algo), entry.algo)
    atomic_torch_save(staged / "checkpoints" / "latest.pt", encode(state))
    config = load_yaml(full / "config.yaml")
    named = dict(o.split("=", 1) for o in entry.overrides)
    config.update({k: v for k, v in named.items() if pretrained.is_pretrained(v)}, out_dir="runs", resume="")
    save_yaml(config, staged / "config.yaml")
    trained = json.loads((full / "metrics.json").read_text())
    atomic_write_json(staged / "metrics.json", trained)  # evaluation keeps its training keys
    if entry.demos:
        shutil.copy2(full / "demos.npz", staged / "demos.npz")
