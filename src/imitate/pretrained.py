"""Pretrained runs that ship with the package, and ``pretrained:NAME`` wherever a run directory goes.

Each one is a run directory under ``data/pretrained/<task>/<algo>/`` holding what ``imitate eval``
reads: ``config.yaml``, ``checkpoints/latest.pt`` with the weights only (no optimiser, RNG or
simulator state: ``pretrained_build.strip_checkpoint``), ``metrics.json`` as measured from that
stripped checkpoint when it was built, and ``demos.npz`` where evaluation scores the policy
against the demonstrations (the maze's demo distance, AMP's D on expert pairs). docs/pretrained.md
says why they ship as package data, and how each was trained (``imitate pretrained --build``).

The package folder is never written to (it may be read-only): ``pretrained:NAME`` resolves to a
fresh working copy under ``runs/pretrained/<name>/`` of the current directory, where evaluation
writes its metrics, plots and videos. A run that needs another (NEAR's energy model) names it as
``energy: pretrained:maze/energy`` in its shipped config; the copy points at that run's package
folder, which is only read (as ``energy=pretrained:maze/energy`` on the command line is).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitate.config import ConfigError, load_yaml
from imitate.utils.io import save_yaml

PREFIX = "pretrained:"
PRETRAINED_DIR = Path(__file__).parent / "data" / "pretrained"
WORK_DIR = Path("runs") / "pretrained"  # working copies, relative to the current directory


@dataclass(frozen=True)
class Pretrained:
    name: str  # "<task>/<algo>", its folder under PRETRAINED_DIR (docs/pretrained.md says what each is)
    score: str  # what it scores, formatted with its metrics.json
    overrides: tuple[str, ...]  # `imitate train TASK ALGO` + these trained it (docs/pretrained.md)
    demos: bool = False  # ships its demos.npz: evaluation scores against them (maze demo distance, AMP's D)

    @property
    def task(self) -> str:
        return self.name.split("/")[0]

    @property
    def algo(self) -> str:
        return self.name.split("/")[1]

    @property
    def path(self) -> Path:
        return PRETRAINED_DIR / self.name

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.path / "metrics.json").read_text())

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


CATALOG: dict[str, Pretrained] = {
    p.name: p
    for p in (
        Pretrained(
            "maze/energy",
            "energy gap data vs 1-std-off at the smallest σ {energy_gap_smallest_sigma:.1f}",
            ("seed=0", "progress=false"),
            demos=True,
        ),
        Pretrained(
            "maze/near",
            "success {success_rate:.2f} of {episodes} episodes, demo distance {demo_distance:.1f}",
            ("energy=pretrained:maze/energy", "seed=0", "progress=false"),
        ),
        Pretrained(
            "maze/amp",
            "success {success_rate:.2f} of {episodes} episodes, demo distance {demo_distance:.1f}",
            ("seed=0", "progress=false"),
            demos=True,
        ),
        Pretrained(
            "particle/ibc-dfo",
            "success {success_rate:.2f} of {episodes} episodes",
            ("seed=0", "progress=false"),
        ),
        Pretrained(
            "humanoid-walk/deepmimic",
            "tracking reward {reward_tracking:.2f}/step, {episode_length:.0f} of 300 steps, "
            "{success_rate:.2f} without a fall",
            ("total_steps=8192000", "seed=0", "progress=false"),
        ),
    )
}


def get(name: str) -> Pretrained:
    """The catalog entry ``name``; an unknown one is a one-line error listing the known names."""
    if name not in CATALOG:
        raise ConfigError(f"unknown pretrained run {name!r}; known: {', '.join(CATALOG)} (`imitate pretrained`)")
    return CATALOG[name]


def is_pretrained(path: str | Path) -> bool:
    return str(path).startswith(PREFIX)


def installed_path(spec: str | Path, source: Path = PRETRAINED_DIR) -> Path:
    """The package folder of ``pretrained:NAME``, for uses that only read it (``energy=``)."""
    entry = get(str(spec)[len(PREFIX) :])
    path = source / entry.name
    if not (path / "config.yaml").is_file():
        raise ConfigError(f"pretrained run {entry.name!r} is not installed (no {path / 'config.yaml'})")
    return path


def resolve_run_dir(path: str | Path) -> Path:
    """``pretrained:NAME`` as a fresh working copy of that run; any other path as it is."""
    return working_copy(str(path)) if is_pretrained(path) else Path(path)


def working_copy(spec: str, root: Path = WORK_DIR, source: Path = PRETRAINED_DIR) -> Path:
    """A fresh copy of the run ``pretrained:NAME`` of ``source`` as ``root``/NAME, to evaluate
    (which writes metrics, plots, videos); what an earlier evaluation wrote there is replaced. A
    run it names (``energy: pretrained:maze/energy``) is the installed one, read in place."""
    origin = installed_path(spec, source)
    target = root / origin.relative_to(source)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(origin, tmp)
    config = load_yaml(tmp / "config.yaml")
    for key, value in config.items():
        if is_pretrained(value):
            config[key] = str(installed_path(value).resolve())
    save_yaml(config, tmp / "config.yaml")
    if target.exists():  # swap the new copy in; a reader never sees a half-copied run
        old = target.with_name(f".{target.name}.{os.getpid()}.old.tmp")
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, target)
    return target


def listing() -> list[tuple[str, str, str, str, str]]:
    """(name, task, algo, what it scores, size) of every shipped run."""
    rows = []
    for entry in CATALOG.values():
        score = entry.score.format(**entry.metrics()) if entry.path.is_dir() else "(not installed)"
        size = f"{entry.size_bytes() / 1e6:.2f} MB" if entry.path.is_dir() else "-"
        rows.append((entry.name, entry.task, entry.algo, score, size))
    return rows
