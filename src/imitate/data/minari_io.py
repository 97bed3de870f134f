"""Demonstrations as Minari datasets (Farama's offline-RL format): ours written, any one read.

Minari is an optional extra (``pip install 'imitate[minari]'``), imported only here and only
when a Minari dataset is written or read.

Where a dataset lives: ``minari:ID`` is the dataset ``ID`` (``namespace/name-vN``) under Minari's
root (``MINARI_DATASETS_PATH``, else ``~/.minari/datasets``), as ``minari.load_dataset`` finds
it; any other name is a dataset directory (the folder holding ``data/``). ``imitate data TASK
--format minari`` writes ``minari:imitate/TASK-oracle-v0`` unless ``--out`` names another.
Minari datasets are versioned and never overwritten: an existing one is refused.

How our format (``dataset.py``) maps onto Minari's episodes:

- an episode of L observations is a Minari episode of L - 1 steps; its ``observations`` are all
  L (Minari keeps the final observation too) and its ``actions`` the first L - 1 of ours;
- our last action per episode is not a step. Our oracles repeat the one before it, and reading
  repeats the last step's action; where some episode's last action is not such a repeat, all
  last actions are kept in the metadata (``imitate_last_actions``);
- observation-only demonstrations get an action space of shape (0,) and (L - 1, 0) actions;
- rewards are 0 and each episode ends with ``truncations=True``: our format records neither
  rewards nor why an episode ended;
- our metadata (task, source, oracle or policy, seed, task options such as n_dim, ...) is kept
  verbatim as ``imitate_metadata``, and the task's gymnasium spec with every task option as
  ``env_spec`` (``dataset.recover_environment()`` builds the task), so a round trip is exact.

A dataset written elsewhere (no ``imitate_metadata``) is read with its steps mapped back the same
way; its task is the one its ``env_spec`` names when that is an ``imitate/<Task>-v0`` id with a
``task`` argument, else unknown, and then only the sizes are checked against the run's task.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitate.data.dataset import Demonstrations, check_task
from imitate.utils.errors import DatasetError
from imitate.utils.io import TEMP_SUFFIX

PREFIX = "minari:"
FORMAT = "imitate-minari/1"
MINARI_EXTRA = "Minari datasets need minari and h5py: pip install 'imitate[minari]'"
ROOT_VARIABLE = "MINARI_DATASETS_PATH"
# what a broken dataset raises from minari or h5py (Minari checks its files with assert)
READ_ERRORS = (OSError, ValueError, KeyError, TypeError, AssertionError)


def _minari() -> Any:
    """The minari module, or one line naming the extra."""
    try:
        import h5py  # noqa: F401  (Minari's HDF5 storage)
        import minari
    except ImportError as exc:
        raise DatasetError(f"{MINARI_EXTRA} ({exc.name or 'minari'} not installed)") from None
    return minari


def default_dataset_id(task: str, source: str = "oracle") -> str:
    """``imitate/<task>-<source>-v0``: our namespace, what made the episodes, version 0."""
    return f"imitate/{task}-{source}-v0"


def is_minari_source(source: str | Path) -> bool:
    """``minari:ID``, or a directory (a demonstration file is never one)."""
    return str(source).startswith(PREFIX) or Path(source).is_dir()


def _dataset_id(source: str) -> str:
    dataset_id = source[len(PREFIX) :]
    _minari()
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise DatasetError(
            f"{source}: not a Minari dataset id (namespace/name-vN, e.g. imitate/maze-oracle-v0)"
        ) from None
    return dataset_id


def _root_dir(dataset_id: str) -> Path:
    """Where Minari keeps ``dataset_id``: under ``MINARI_DATASETS_PATH`` or ``~/.minari/datasets``."""
    from minari.storage import get_dataset_path

    return Path(get_dataset_path(dataset_id))


def _data_dir(source: str | Path) -> Path | None:
    """The dataset's ``data`` folder (Minari's metadata.json and main_data.hdf5), if it is there."""
    text = str(source)
    folder = _root_dir(_dataset_id(text)) if text.startswith(PREFIX) else Path(source)
    for data in (folder / "data", folder):
        if (data / "metadata.json").is_file():
            return data
    return None


def minari_exists(source: str | Path) -> bool:
    return is_minari_source(source) and _data_dir(source) is not None


# -- writing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MinariTarget:
    dataset_id: str
    directory: Path  # the dataset's folder (it holds data/)
    in_root: bool  # under Minari's root, where its namespace is registered too

    def __str__(self) -> str:
        return f"{PREFIX}{self.dataset_id} ({self.directory})" if self.in_root else str(self.directory)


def minari_target(out: str | None, default_id: str) -> MinariTarget:
    """Where ``--out`` puts a dataset (None: ``minari:default_id``), checked before any work."""
    out = out or PREFIX + default_id
    if out.startswith(PREFIX):
        dataset_id = _dataset_id(out)
        target = MinariTarget(dataset_id, _root_dir(dataset_id), in_root=True)
    else:
        _minari()
        if out.endswith(".npz"):
            raise DatasetError(f"{out}: --format minari writes a dataset directory, not an .npz file")
        target = MinariTarget(default_id, Path(out), in_root=False)
    if target.directory.exists():
        raise DatasetError(
            f"{target}: already exists; Minari datasets are not overwritten: delete it "
            f"(`minari delete {target.dataset_id}` or rm -r) or give another --out (e.g. a new -vN)"
        )
    return target


@contextmanager
def _datasets_root(root: Path) -> Iterator[None]:
    """Minari writes under ``$MINARI_DATASETS_PATH``: point it at ``root`` for the block."""
    before = os.environ.get(ROOT_VARIABLE)
    os.environ[ROOT_VARIABLE] = str(root.absolute())  # Minari joins relative roots wrongly
    try:
        yield
    finally:
        if before is None:
            del os.environ[ROOT_VARIABLE]
        else:
            os.environ[ROOT_VARIABLE] = before


def _episode_buffers(demos: Demonstrations) -> list[Any]:
    from minari.data_collector import EpisodeBuffer

    ends = demos.episode_ends
    buffers = []
    for i, (start, end) in enumerate(zip(np.r_[0, ends[:-1]], ends)):
        steps = int(end - start - 1)
        actions = demos.actions[start : end - 1] if demos.actions is not None else np.zeros((steps, 0), np.float32)
        buffers.append(
            EpisodeBuffer(
                id=i,
                observations=demos.obs[start:end],
                actions=actions,
                rewards=np.zeros(steps),
                terminations=np.zeros(steps, dtype=bool),
                truncations=np.arange(steps) == steps - 1,
            )
        )
    return buffers


def _last_actions(demos: Demonstrations) -> list[list[float]] | None:
    """Every episode's last action, unless each repeats the one before (our oracles' rule)."""
    if demos.actions is None:
        return None
    last, before = demos.actions[demos.episode_ends - 1], demos.actions[demos.episode_ends - 2]
    return None if np.array_equal(last, before) else last.tolist()


def _spaces(demos: Demonstrations) -> tuple[Any, Any]:
    """Box spaces as our gymnasium envs declare them; actions beyond [-1, 1] widen theirs."""
    import gymnasium as gym

    obs_space = gym.spaces.Box(-np.inf, np.inf, shape=demos.obs.shape[1:], dtype=np.float32)
    actions = demos.actions if demos.actions is not None else np.zeros((0, 0), np.float32)
    bound = 1.0 if actions.size == 0 or np.abs(actions).max() <= 1.0 else np.inf
    return obs_space, gym.spaces.Box(-bound, bound, shape=actions.shape[1:], dtype=np.float32)


def write_minari(demos: Demonstrations, target: MinariTarget, env: Any = None) -> MinariTarget:
    """Write ``demos`` as a Minari dataset at ``target``; ``env``: the task's gymnasium spec.

    Built in a hidden temp folder beside the target and renamed into place, so a reader never
    sees half a dataset and a failure leaves none."""
    minari = _minari()
    from minari.namespace import create_namespace, list_local_namespaces

    task = demos.task or "unknown task"
    obs_space, action_space = _spaces(demos)
    target.directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(
        tempfile.mkdtemp(dir=target.directory.parent, prefix=f".{target.directory.name}.", suffix=TEMP_SUFFIX)
    )
    try:
        with _datasets_root(scratch), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one warning for every optional field (author, permalink, ...)
            dataset = minari.create_dataset_from_buffers(
                target.dataset_id,
                _episode_buffers(demos),
                env=env,
                observation_space=obs_space,
                action_space=action_space,
                algorithm_name=f"imitate {task} {demos.metadata.get('source', 'demonstrations')}",
                description=f"{demos.num_episodes} {task} episodes written by imitate; "
                "their metadata is imitate_metadata",
            )
        extra: dict[str, Any] = {"imitate_format": FORMAT, "imitate_metadata": demos.metadata}
        last = _last_actions(demos)
        if last is not None:
            extra["imitate_last_actions"] = last
        dataset.storage.update_metadata(extra)
        namespace = dataset.spec.namespace
        if target.in_root and namespace is not None:
            with _datasets_root(_root_dir("")):
                if namespace not in list_local_namespaces():
                    create_namespace(namespace)
        os.rename(scratch / target.dataset_id, target.directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


# -- reading ----------------------------------------------------------------------------------
def _open(source: str | Path) -> Any:
    data = _data_dir(source)  # a plain directory is refused before minari is needed
    if data is None:
        if str(source).startswith(PREFIX):
            dataset_id = str(source)[len(PREFIX) :]
            raise DatasetError(
                f"{source}: no Minari dataset {dataset_id!r} under {_root_dir('')} ({ROOT_VARIABLE}); "
                f"`minari list local` lists them, `minari download {dataset_id}` fetches a remote one"
            )
        raise DatasetError(
            f"{source}: a directory, but not a Minari dataset (no data/metadata.json); "
            "demos= takes a .npz file, a Minari dataset directory or minari:ID"
        )
    minari = _minari()
    try:
        return minari.MinariDataset(data)
    except READ_ERRORS as exc:
        raise DatasetError(f"{source}: not a readable Minari dataset ({type(exc).__name__}: {exc})") from None


def _check_spaces(dataset: Any, where: str) -> int:
    """Flat Box observations and actions (what our tasks have); returns the action width."""
    import gymnasium as gym

    for name, space in (("observation", dataset.observation_space), ("action", dataset.action_space)):
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise DatasetError(f"{where}: the {name} space is {space}; imitate reads flat Box observations and actions")
    return int(dataset.action_space.shape[0])


def _foreign_metadata(dataset: Any, source: str) -> dict[str, Any]:
    """What a dataset written elsewhere tells about itself: its id, and its task when its
    env_spec is one of our gymnasium ids (a DataCollector on ``imitate/Maze-v0``)."""
    metadata: dict[str, Any] = {"source": f"Minari dataset {dataset.spec.dataset_id}", "minari_source": source}
    spec = dataset.spec.env_spec
    if spec is not None and spec.id.startswith("imitate/") and "task" in spec.kwargs:
        metadata.update({k: v for k, v in spec.kwargs.items() if k != "device"})
    return metadata


def _episodes(dataset: Any, where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(observations (T+1, d), actions (T, a)) of every episode, as stored."""
    try:
        return [(np.asarray(e.observations), np.asarray(e.actions)) for e in dataset.iterate_episodes()]
    except READ_ERRORS as exc:
        raise DatasetError(f"{where}: not a readable Minari dataset ({type(exc).__name__}: {exc})") from None


def _final_actions(raw: dict, episodes: list, where: str) -> list[np.ndarray]:
    """Each episode's action after its last step: the kept ones, else its last step's, repeated."""
    kept = raw.get("imitate_last_actions")
    if kept is None:
        return [actions[-1:] for _, actions in episodes]
    act_dim = episodes[0][1].shape[1]
    try:
        final = np.asarray(kept, dtype=np.float32).reshape(len(episodes), 1, act_dim)
    except (ValueError, TypeError):
        raise DatasetError(f"{where}: imitate_last_actions does not hold one action per episode") from None
    return list(final)


def load_minari(source: str | Path, task: str | None = None) -> Demonstrations:
    """A Minari dataset as our demonstrations, validated; ``task``: checked as for .npz files."""
    where = str(source)
    dataset = _open(source)
    act_dim = _check_spaces(dataset, where)
    raw = dataset.storage.metadata
    ours = raw.get("imitate_format") == FORMAT
    metadata = raw.get("imitate_metadata") if ours else _foreign_metadata(dataset, where)
    if not isinstance(metadata, dict):
        raise DatasetError(f"{where}: imitate_metadata must be a JSON object, got {type(metadata).__name__}")
    if task is not None and (ours or "task" in metadata):
        check_task(metadata, task, where)
    episodes = _episodes(dataset, where)
    if not episodes:
        raise DatasetError(f"{where}: the Minari dataset has no episodes")
    for i, (obs, _) in enumerate(episodes):
        if len(obs) < 2:
            raise DatasetError(f"{where}: episode {i} has no step; each needs at least one")
    finals = _final_actions(raw if ours else {}, episodes, where)
    actions = [np.concatenate([a, final]) for (_, a), final in zip(episodes, finals)] if act_dim else None
    return Demonstrations.checked(
        obs=np.concatenate([obs for obs, _ in episodes]),
        episode_ends=np.cumsum([len(obs) for obs, _ in episodes]),
        actions=None if actions is None else np.concatenate(actions),
        metadata=metadata,
        where=where,
    )
