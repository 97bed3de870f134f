"""The one run layout (docs/architecture.md#principles).

``<out_dir>/<task>/<algo>/<timestamp>-<seed>/`` holds ``config.yaml`` (resolved, with task and
algo), ``tb/`` (TensorBoard), ``progress.jsonl`` (one line of scalars per iteration, for plots
without TensorBoard), ``checkpoints/latest.pt`` (atomic; with PPO's ``snapshot_every`` also
``checkpoints/step_XXXXXXX.pt``, the run at that env step), ``metrics.json`` and ``plots/``.

Resuming (``resume=RUN``) is exact: a checkpoint carries everything the training loop needs,
including every RNG state, and on resume ``progress.jsonl`` and TensorBoard are cut back to the
checkpoint's step so each iteration appears once. A run directory appears complete or not at
all (it is built under a temp name and renamed), so a run killed before its first checkpoint is
either absent or resumable: resuming it starts training from scratch in the same directory.
Checkpoints are read with ``weights_only=True``: a run directory from elsewhere cannot run code.
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from imitate.config import ConfigError, load_yaml, to_dict
from imitate.utils.errors import CheckpointError
from imitate.utils.io import TEMP_SUFFIX, atomic_torch_save, atomic_write, atomic_write_json, save_yaml
from imitate.utils.numerics import NonFiniteError, first_non_finite
from imitate.utils.safe_state import decode, encode
from imitate.utils.seeding import rng_state

# Simulator state (PPO's "env") may hold inf legitimately (the particle's closest distance so
# far starts at inf); the NaN/inf refusal guards learned values, so it does not look there.
SIMULATOR_KEYS = ("env",)
SNAPSHOT_PREFIX = "step_"  # checkpoints/step_0100000.pt: the run at env step 100,000


@dataclass
class Run:
    dir: Path
    task: str
    algo: str
    created: bool = False  # made by this process (and removed if it fails before a checkpoint)
    checkpoint_iteration: int | None = None  # of the last checkpoint written or resumed from
    purge_step: int | None = field(default=None, repr=False)  # TensorBoard purge on resume

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / "checkpoints" / "latest.pt"

    @property
    def plots_dir(self) -> Path:
        path = self.dir / "plots"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @classmethod
    def create(cls, task: str, algo: str, cfg: Any) -> Run:
        """A new run directory, built under a temp name and renamed into place: a kill leaves
        no run directory without its config."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(cfg.out_dir) / task / algo
        remove_abandoned_run_dirs(base)
        tmp = base / f".{stamp}-{cfg.seed}.{os.getpid()}.tmp"
        (tmp / "checkpoints").mkdir(parents=True)
        cls(tmp, task, algo).save_config(cfg)
        for n in itertools.count():
            path = base / (f"{stamp}-{cfg.seed}" + (f"-{n}" if n else ""))  # -1, -2: runs in the same second
            try:
                os.rename(tmp, path)  # fails if another run took the name
                return cls(path, task, algo, created=True)
            except OSError:
                if not path.exists():
                    raise
        raise AssertionError("unreachable: itertools.count() never ends")

    @classmethod
    def open(cls, path: str | Path) -> Run:
        path = Path(path)
        if not path.is_dir():
            raise ConfigError(f"run directory not found: {path}")
        meta = load_yaml(path / "config.yaml")
        if "task" not in meta or "algo" not in meta:
            raise ConfigError(f"{path / 'config.yaml'} lacks task/algo (is it an imitate run?)")
        return cls(path, meta["task"], meta["algo"])

    def config_dict(self) -> dict[str, Any]:
        meta = load_yaml(self.dir / "config.yaml")
        return {k: v for k, v in meta.items() if k not in ("task", "algo")}

    def save_config(self, cfg: Any) -> None:
        save_yaml({"task": self.task, "algo": self.algo, **to_dict(cfg)}, self.dir / "config.yaml")

    def snapshot_path(self, step: int) -> Path:
        """A snapshot kept beside ``latest.pt`` (PPO's ``snapshot_every``): the run at env step ``step``."""
        return self.dir / "checkpoints" / f"{SNAPSHOT_PREFIX}{step:07d}.pt"

    def snapshots(self) -> dict[int, Path]:
        """{env step: path} of every snapshot the run kept, by step."""
        found = {}
        for path in (self.dir / "checkpoints").glob(f"{SNAPSHOT_PREFIX}*.pt"):
            digits = path.stem[len(SNAPSHOT_PREFIX) :]
            if digits.isdigit():
                found[int(digits)] = path
        return dict(sorted(found.items()))

    def save_checkpoint(self, state: dict[str, Any], iteration: int = 0, log_step: int | None = None) -> None:
        """Write ``state`` (plus the global RNG states) atomically; refuse any NaN/inf tensor, so
        the last good checkpoint is never replaced by a broken one. ``log_step``: the last
        progress step the state includes (resume cuts the logs back to it)."""
        atomic_torch_save(self.checkpoint_path, self._checkpoint(state, iteration, log_step))
        self.checkpoint_iteration = iteration

    def save_snapshot(self, state: dict[str, Any], step: int, iteration: int = 0) -> Path:
        """The same checkpoint kept as ``snapshot_path(step)`` (atomic); ``latest.pt`` is untouched."""
        path = self.snapshot_path(step)
        atomic_torch_save(path, self._checkpoint(state, iteration, step))
        return path

    def _checkpoint(self, state: dict[str, Any], iteration: int, log_step: int | None) -> dict[str, Any]:
        state = encode(
            {
                "task": self.task,
                "algo": self.algo,
                **state,
                "rng": rng_state(),
                "resume": {"iteration": iteration, "log_step": log_step},
            }
        )
        bad = first_non_finite(state, skip=SIMULATOR_KEYS)
        if bad is not None:
            raise NonFiniteError(f"refusing to write a checkpoint: {bad} is not finite", step=iteration)
        return state

    def load_checkpoint(self, expect_task: str | None = None, expect_algo: str | None = None) -> dict[str, Any]:
        return load_checkpoint(self.checkpoint_path, expect_task, expect_algo)

    def begin(self, cfg: Any, state: dict[str, Any] | None) -> None:
        """Commit to training: called once the checkpoint (if any) has been loaded into the fresh
        model and optimiser, so a resume that does not fit has changed nothing. Writes the
        config; on resume also removes temp files a killed writer left and cuts
        ``progress.jsonl`` and TensorBoard back to the checkpoint (all of it without one)."""
        if not self.created:
            remove_stale_temp_files(self.dir)
            resume = (state or {}).get("resume", {})
            self.checkpoint_iteration = resume.get("iteration") if state is not None else None
            last = resume.get("log_step") if state is not None else -1
            if last is not None:
                self.truncate_progress(last)
                self.purge_step = last + 1
        self.save_config(cfg)

    def logger(self):
        """TensorBoard and ``progress.jsonl``; W&B too when the saved config has ``wandb: true``."""
        from imitate.utils.logger import Logger
        from imitate.utils.wandb_mirror import open_mirror

        return Logger(
            self.dir, purge_step=self.purge_step, mirror=open_mirror(self.dir, load_yaml(self.dir / "config.yaml"))
        )

    def truncate_progress(self, last_step: int) -> None:
        """Keep the progress rows up to ``last_step``; a line cut by a kill goes too."""
        path = self.dir / "progress.jsonl"
        if not path.is_file():
            return
        kept = [json.dumps(row) + "\n" for row in self.read_progress() if row.get("step", 0) <= last_step]
        atomic_write(path, lambda f: f.write("".join(kept)), mode="w")

    def kept_message(self) -> str:
        """What a failed run leaves, for the one-line error."""
        if self.checkpoint_iteration is not None:
            return f"the last checkpoint (iteration {self.checkpoint_iteration}) is kept"
        return "no checkpoint was written" + (", the run is removed" if self.created else "")

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.dir / "metrics.json", metrics)

    def read_progress(self) -> list[dict[str, float]]:
        path = self.dir / "progress.jsonl"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash
                continue
            if isinstance(row, dict):
                rows.append(row)
        return rows

    def discard(self) -> None:
        """Remove a run that failed before writing its first checkpoint: no partial runs left."""
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def guarded(run: Run):
    """Remove a run this process created if it fails before writing any checkpoint (a resumed
    run is never removed), so bad input leaves nothing behind; a NaN/inf error is completed
    with which checkpoint is kept. Every training loop runs inside it."""
    try:
        yield run
    except NonFiniteError as exc:
        if exc.kept is None:
            exc.kept = run.kept_message()
        discard_if_new(run)
        raise
    except BaseException:
        discard_if_new(run)
        raise


def discard_if_new(run: Run) -> None:
    """Remove ``run`` if this process created it and it has no checkpoint yet."""
    if run.created and not run.has_checkpoint():
        run.discard()


@contextmanager
def fits_checkpoint():
    """Turn a state-dict mismatch (changed ``hidden=``, another task's sizes) into one line."""
    try:
        yield
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        text = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
        text = text if len(text) <= 300 else text[:297] + "..."
        raise CheckpointError(f"checkpoint does not fit this run: {text}") from None


def remove_stale_temp_files(root: Path) -> list[Path]:
    """Remove the ``.NAME.*.tmp`` files and folders a killed atomic write left under ``root``.

    Only called when a run is resumed: then no other process is writing into it (an
    ``imitate eval`` of a run still training must not delete the trainer's in-flight files)."""
    stale = [p for p in root.rglob(f".*{TEMP_SUFFIX}*") if _is_temp_name(p.name)]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    return stale


def remove_abandoned_run_dirs(base: Path) -> list[Path]:
    """Remove half-made run folders (``.STAMP-SEED.PID.tmp``, see ``Run.create``) whose process
    is gone: a kill between mkdir and rename leaves one. A live PID keeps its folder."""
    abandoned = []
    for p in base.glob(f".*{TEMP_SUFFIX}") if base.is_dir() else ():
        pid = p.name[: -len(TEMP_SUFFIX)].rsplit(".", 1)[-1]
        if p.is_dir() and pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
            abandoned.append(p)
    return abandoned


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _is_temp_name(name: str) -> bool:
    """``.NAME.XXXX.tmp`` or ``.NAME.XXXX.tmp.EXT``: the names ``utils.io.atomic_path`` uses."""
    return name.startswith(".") and (name.endswith(TEMP_SUFFIX) or f"{TEMP_SUFFIX}." in name)


def load_checkpoint(path: Path, expect_task: str | None = None, expect_algo: str | None = None) -> dict[str, Any]:
    """A checkpoint, read with the safe loader (tensors and plain values only, no code)."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = decode(torch.load(path, map_location="cpu", weights_only=True))
    except pickle.UnpicklingError as exc:  # the safe loader's answer to code, and to garbage
        if "Unsupported global" in str(exc):
            raise CheckpointError(
                f"{path}: refused, the checkpoint holds objects other than tensors and plain values (it could run code)"
            ) from None
        raise CheckpointError(f"{path}: unreadable checkpoint (not a torch checkpoint, or corrupt)") from None
    except Exception as exc:  # torch raises many types for a bad file
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or "task" not in state:
        raise CheckpointError(f"{path}: not an imitate checkpoint")
    if expect_task is not None and state["task"] != expect_task:
        raise CheckpointError(f"{path}: checkpoint is for task {state['task']!r}, not {expect_task!r}")
    if expect_algo is not None and state.get("algo") != expect_algo:
        raise CheckpointError(f"{path}: checkpoint is from algo {state.get('algo')!r}, expected {expect_algo!r}")
    return state
