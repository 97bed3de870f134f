"""``LABEL:RUN_DIR,LABEL:RUN_DIR``: the run list of a composed reward (NEAR's ``energy=``, AMP's
``discriminators=``), torch-free so configs can check it."""

from __future__ import annotations

import re

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
