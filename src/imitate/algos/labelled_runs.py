"""``LABEL:RUN_DIR,LABEL:RUN_DIR``: the run list of a composed reward (NEAR's ``energy=``, AMP's
``discriminators=``), and ``LABEL:METRES``, its proximity gate (``energy_gate=``, ``style_gate=``);
torch-free so configs can check them."""

from __future__ import annotations

import re
from typing import Any

from imitate.config import ConfigError

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def labelled_runs(value: str, key: str) -> list[tuple[str, str]]:
    """``key=``'s (label, run directory) pairs: one bare directory (label ``""``), or
    ``LABEL:RUN_DIR`` entries with distinct labels (``pretrained:NAME`` is a directory, not a label)."""
    if not value:
        return []
    out = []
    for entry in (e.strip() for e in value.split(",")):
        label, sep, path = entry.partition(":")
        labelled = bool(sep) and label != "pretrained" and _LABEL.fullmatch(label) is not None and bool(path)
        out.append((label, path) if labelled else ("", entry))
    labels = [label for label, _ in out]
    if len(out) > 1 and (not all(labels) or len(set(labels)) < len(labels)):
        raise ConfigError(f"{key}={value}: several runs need distinct labels: LABEL:RUN_DIR,LABEL:RUN_DIR")
    return out


def gate_option(gate: str, key: str = "energy_gate") -> tuple[str, float]:
    """``key=LABEL:METRES`` as (label, distance in m)."""
    label, _, distance = gate.partition(":")
    try:
        metres = float(distance)
    except ValueError:
        metres = float("nan")
    if not label or not metres > 0:
        raise ConfigError(f"{key}={gate}: give LABEL:METRES with a positive distance, e.g. punch:1.5")
    return label, metres


def check_gate(gate: str, key: str, sources: list[tuple[str, str]], runs_key: str) -> None:
    """A gate names one of several composed runs (``sources``, ``labelled_runs`` of ``runs_key``)."""
    label = gate_option(gate, key)[0]
    if len(sources) < 2 or label not in dict(sources):
        raise ConfigError(
            f"{key}={gate}: {label!r} is not one of several composed runs ({runs_key}=LABEL:RUN_DIR,LABEL:RUN_DIR)"
        )


def composed_sources(cfg: Any) -> list[tuple[str, str, str]]:
    """(label, motion, mask) of each run a composed reward sums (NEAR's ``energy=``, AMP's
    ``discriminators=`` with two or more runs), from each run's own config; empty otherwise."""
    from imitate.utils.run import Run

    out = []
    for key in ("energy", "discriminators"):
        runs = labelled_runs(getattr(cfg, key, "") or "", key)
        if len(runs) < 2:
            continue
        for label, path in runs:
            options = Run.open(path).config_dict().get("task_options", {})
            out.append((label, str(options.get("motion", "")), str(options.get("mask", "all"))))
    return out
