"""Demonstrations: trajectories of observations with optional actions and episode boundaries.

On disk a dataset is one ``.npz`` file (format ``imitate-demos/1``):

- ``obs``          float32 (T, obs_dim), all episodes back to back;
- ``actions``      float32 (T, act_dim), optional (observation-only demos omit it);
- ``episode_ends`` int64 (E,), exclusive end index of each episode, increasing, last == T;
- ``metadata``     a JSON string: format, task, source, obs_names, created, and free extras.

Files are written atomically and validated on load; every problem is one ``DatasetError`` line.
``load`` also reads Minari datasets (``minari:ID`` or a dataset directory; ``minari_io.py``).
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from imitate.utils.errors import DatasetError
from imitate.utils.io import atomic_write

FORMAT = "imitate-demos/1"


@dataclass
class Demonstrations:
    obs: np.ndarray  # (T, obs_dim)
    episode_ends: np.ndarray  # (E,)
    actions: np.ndarray | None = None  # (T, act_dim)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.obs = np.asarray(self.obs, dtype=np.float32)
        self.episode_ends = np.asarray(self.episode_ends, dtype=np.int64)
        if self.actions is not None:
            self.actions = np.asarray(self.actions, dtype=np.float32)
        self.validate()

    @classmethod
    def from_episodes(
        cls, episodes: list[np.ndarray], actions: list[np.ndarray] | None = None, **metadata
    ) -> Demonstrations:
        ends = np.cumsum([len(e) for e in episodes])
        return cls(
            obs=np.concatenate(episodes),
            episode_ends=ends,
            actions=None if actions is None else np.concatenate(actions),
            metadata=metadata,
        )

    @property
    def num_episodes(self) -> int:
        return len(self.episode_ends)

    @property
    def task(self) -> str | None:
        return self.metadata.get("task")

    def validate(self, where: str = "dataset") -> None:
        if self.obs.ndim != 2 or len(self.obs) == 0:
            raise DatasetError(f"{where}: 'obs' must be a non-empty (T, obs_dim) array, got shape {self.obs.shape}")
        if not np.isfinite(self.obs).all():
            raise DatasetError(f"{where}: 'obs' contains NaN or inf")
        ends = self.episode_ends
        if ends.ndim != 1 or len(ends) == 0:
            raise DatasetError(f"{where}: 'episode_ends' must be a non-empty 1-D array")
        if (np.diff(ends, prepend=0) < 2).any() or ends[-1] != len(self.obs):
            raise DatasetError(f"{where}: 'episode_ends' must increase by ≥ 2 per episode and end at {len(self.obs)}")
        if self.actions is not None:
            if self.actions.ndim != 2 or len(self.actions) != len(self.obs):
                raise DatasetError(f"{where}: 'actions' must be (T={len(self.obs)}, act_dim), got {self.actions.shape}")
            if not np.isfinite(self.actions).all():
                raise DatasetError(f"{where}: 'actions' contains NaN or inf")

    def episodes(self) -> list[np.ndarray]:
        return np.split(self.obs, self.episode_ends[:-1])

    def action_episodes(self) -> list[np.ndarray] | None:
        """The actions split as ``episodes()`` splits the observations (None without actions)."""
        return None if self.actions is None else np.split(self.actions, self.episode_ends[:-1])

    def transitions(self) -> torch.Tensor:
        """Consecutive observation pairs (s_t, s_t+1) inside episodes: (M, 2 * obs_dim)."""
        pairs = [np.concatenate([e[:-1], e[1:]], axis=1) for e in self.episodes()]
        return torch.from_numpy(np.concatenate(pairs))

    def save(self, path: str | Path) -> Path:
        meta = {"format": FORMAT, **self.metadata}
        arrays = {"obs": self.obs, "episode_ends": self.episode_ends, "metadata": np.array(json.dumps(meta))}
        if self.actions is not None:
            arrays["actions"] = self.actions
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        return atomic_write(path, lambda f: f.write(buffer.getvalue()))

    @classmethod
    def load(cls, path: str | Path, task: str | None = None) -> Demonstrations:
        """Load and validate; ``task`` additionally checks the file was made for that task.
        ``path`` may also name a Minari dataset, ``minari:ID`` or its directory (``minari_io``)."""
        from imitate.data import minari_io

        if minari_io.is_minari_source(path):
            return minari_io.load_minari(path, task)
        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"demonstration file not found: {path} (make one with `imitate data TASK --out {path}`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: not a readable demonstration file ({type(exc).__name__}: {exc})") from None
        for key in ("obs", "episode_ends", "metadata"):
            if key not in arrays:
                raise DatasetError(f"{path}: missing array '{key}' (is this an imitate demonstration file?)")
        try:
            metadata = json.loads(str(arrays["metadata"]))
        except json.JSONDecodeError:
            raise DatasetError(f"{path}: 'metadata' is not valid JSON") from None
        if not isinstance(metadata, dict):
            raise DatasetError(f"{path}: 'metadata' must be a JSON object, got {type(metadata).__name__}")
        if metadata.get("format") != FORMAT:
            raise DatasetError(f"{path}: format {metadata.get('format')!r}, expected {FORMAT!r}")
        if task is not None:
            check_task(metadata, task, str(path))
        if not np.issubdtype(arrays["obs"].dtype, np.floating) or not np.issubdtype(
            arrays["episode_ends"].dtype, np.integer
        ):
            raise DatasetError(f"{path}: 'obs' must be float and 'episode_ends' integer")
        if "actions" in arrays and not (
            np.issubdtype(arrays["actions"].dtype, np.number)
            and not np.issubdtype(arrays["actions"].dtype, np.complexfloating)
        ):
            raise DatasetError(f"{path}: 'actions' must be numeric, got dtype {arrays['actions'].dtype}")
        return cls.checked(arrays["obs"], arrays["episode_ends"], arrays.get("actions"), metadata, where=str(path))

    @classmethod
    def checked(
        cls, obs: np.ndarray, episode_ends: np.ndarray, actions: np.ndarray | None, metadata: dict, where: str
    ) -> Demonstrations:
        """Demonstrations read from ``where``, validated with errors that name it."""
        demos = cls.__new__(cls)
        demos.obs = obs.astype(np.float32)
        demos.episode_ends = episode_ends.astype(np.int64)
        demos.actions = None if actions is None else actions.astype(np.float32)
        demos.metadata = metadata
        demos.validate(where=where)
        return demos


def check_task(metadata: dict, task: str, where: str) -> None:
    """The demonstrations were made for ``task`` (their metadata says so)."""
    if metadata.get("task") != task:
        raise DatasetError(f"{where}: demonstrations are for task {metadata.get('task')!r}, not {task!r}")


def demos_exist(source: str | Path) -> bool:
    """``source`` names demonstrations that are there: a file, or a Minari dataset."""
    from imitate.data import minari_io

    return Path(source).is_file() or minari_io.minari_exists(source)
