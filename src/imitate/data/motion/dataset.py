"""Motion data sets: which clips a humanoid imitates, and how often (NEAR's motion files
are lists of ``{file, weight}``).

``motion=`` names one of, in this order:

- a data set shipped with the package: ``walk``, ``run``, ``spinkick``, ``punch``
  (``datasets/<name>.yaml`` beside this module);
- a YAML file (``.yaml``/``.yml``): a list of ``{clip: NAME_or_PATH, weight: W}`` entries, or a
  mapping with that list under ``motions:`` and, optionally, ``task_reward: time|dist|height``,
  the task reward the data set suggests (the humanoid task's ``task_reward=auto`` uses it);
- one clip: a name of ``imitate motion list`` (``humanoid3d_walk``, ``walker/turn_left0``) or a
  clip file (``.txt``), weight 1.

A data set name wins over a clip's short name: ``walk`` is the data set, ``humanoid3d_walk`` the
clip. Relative clip paths inside a YAML file are relative to that file; ``file:`` is read as
``clip:`` and a bare string entry as a clip of weight 1. Weights need not sum to 1
(``MotionLibrary`` normalises them). Every problem is one ``MotionError`` line naming the file and
entry. Clips are only located here; ``MotionDataset.library()`` loads (converts, caches) them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitate.config.files import read_yaml
from imitate.data.motion.clip import MotionError, find_clip, load_clip
from imitate.data.motion.library import MotionLibrary

SHIPPED_DIR = Path(__file__).with_name("datasets")
TASK_REWARDS = ("time", "dist", "height")  # NEAR's humanoid task rewards
_ENTRY_KEYS = {"clip", "file", "weight"}


@dataclass(frozen=True)
class MotionDataset:
    """Clips with weights, as ``motion=`` named them."""

    name: str  # what motion= said
    clips: tuple[str, ...]  # each clip as the list gives it (a name or a path)
    paths: tuple[Path, ...]  # the clip files they resolve to
    weights: tuple[float, ...]  # as given, all > 0
    task_reward: str | None = None  # the data set's suggested task reward, if it names one

    def library(self, cache_dir: str | Path | None = None) -> MotionLibrary:
        """The clips loaded into a weighted ``MotionLibrary`` (clip i = entry i)."""
        return MotionLibrary([load_clip(p, cache_dir=cache_dir) for p in self.paths], self.weights)


def shipped_datasets() -> list[str]:
    """Names of the data sets that ship with the package."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def resolve_motion(spec: str | Path) -> MotionDataset:
    """The data set ``motion=spec`` names (see the module docstring); one-line MotionError if none."""
    text = str(spec).strip()
    shipped = shipped_datasets()
    if not text:
        raise MotionError(f"motion is empty: give a data set ({', '.join(shipped)}), a clip or a .yaml list")
    if text in shipped:
        return load_motion_list(SHIPPED_DIR / f"{text}.yaml", name=text)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_motion_list(path)
    if path.is_dir():
        raise MotionError(f"motion={text}: is a directory, not a clip (.txt) or a motion list (.yaml)")
    if path.is_file() and path.suffix.lower() != ".txt":
        raise MotionError(f"motion={text}: not a motion clip (.txt) or a motion list (.yaml)")
    try:
        clip = find_clip(text)
    except MotionError:
        raise MotionError(
            f"unknown motion clip or data set {text!r}; `imitate motion list` shows the clips, "
            f"data sets: {', '.join(shipped)}"
        ) from None
    return MotionDataset(text, (text,), (clip,), (1.0,))


def load_motion_list(path: str | Path, name: str | None = None) -> MotionDataset:
    """A data set from a YAML list of ``{clip, weight}`` entries (or ``{motions: [...]}``)."""
    path = Path(path)
    if not path.is_file():
        raise MotionError(f"motion list not found: {path}")
    data = read_yaml(path, MotionError)
    task_reward = None
    if isinstance(data, dict):
        unknown = sorted(set(map(str, data)) - {"motions", "task_reward"})
        if unknown:
            raise MotionError(f"{path}: unknown keys {unknown}; a motion list has 'motions' and 'task_reward'")
        task_reward = data.get("task_reward")
        if task_reward is not None and task_reward not in TASK_REWARDS:
            raise MotionError(f"{path}: task_reward must be one of {', '.join(TASK_REWARDS)}, got {task_reward!r}")
        data = data.get("motions")
    if not isinstance(data, list):
        raise MotionError(
            f"{path}: a motion list must be a list of {{clip: NAME_or_PATH, weight: W}} entries, "
            f"got {type(data).__name__}"
        )
    if not data:
        raise MotionError(f"{path}: the motion list is empty")
    clips, paths, weights = [], [], []
    for number, entry in enumerate(data, 1):
        ref, weight = _entry(path, number, entry)
        clips.append(ref)
        paths.append(_clip_path(path, number, ref))
        weights.append(weight)
    return MotionDataset(name or str(path), tuple(clips), tuple(paths), tuple(weights), task_reward)


def _entry(path: Path, number: int, entry: Any) -> tuple[str, float]:
    """(clip reference, weight) of one list entry, checked."""
    where = f"{path}: entry {number}"
    if isinstance(entry, str):
        entry = {"clip": entry}
    if not isinstance(entry, dict):
        raise MotionError(f"{where} must be {{clip: NAME_or_PATH, weight: W}}, got {entry!r}")
    unknown = sorted(set(map(str, entry)) - _ENTRY_KEYS)
    if unknown or ("clip" in entry) == ("file" in entry):
        raise MotionError(f"{where} must have one 'clip' (or 'file') and an optional 'weight', got keys {list(entry)}")
    ref = entry.get("clip", entry.get("file"))
    if not isinstance(ref, str) or not ref.strip():
        raise MotionError(f"{where}: clip must be a clip name or path, got {ref!r}")
    raw = entry.get("weight", 1.0)
    weight = _number(raw)
    if weight is None or not math.isfinite(weight) or weight <= 0:
        raise MotionError(f"{where} ({ref}): weight must be a positive number, got {raw!r}")
    return ref.strip(), weight


def _number(raw: Any) -> float | None:
    """``raw`` as a float (YAML reads ``1e-3`` as a string), None if it is not a number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def _clip_path(path: Path, number: int, ref: str) -> Path:
    """The clip file an entry names: a path relative to the list's folder, or a clip name."""
    candidate = Path(ref)
    if not candidate.is_absolute() and (path.parent / candidate).is_file():
        candidate = path.parent / candidate
    if candidate.suffix.lower() in (".yaml", ".yml"):
        raise MotionError(f"{path}: entry {number} ({ref}): entries are clips, not motion lists")
    if candidate.is_file() and candidate.suffix.lower() != ".txt":
        raise MotionError(f"{path}: entry {number} ({ref}): not a motion clip (.txt)")
    try:
        return find_clip(candidate if candidate.is_file() else ref)
    except MotionError:
        raise MotionError(
            f"{path}: entry {number}: unknown motion clip {ref!r}; `imitate motion list` shows the clips"
        ) from None
