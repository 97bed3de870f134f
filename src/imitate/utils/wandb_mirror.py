"""Weights & Biases, opt-in (``wandb=true``): a mirror of what a run logs, never its record.

The Logger hands every scalar it writes to TensorBoard to ``WandbMirror.log`` too, and the run's
``config.yaml`` is the W&B config; ``imitate eval`` of such a run adds its metrics to the W&B
summary and its video. ``wandb`` is imported here only, and only when a run asks for it.

The W&B run id is kept in the run directory (``wandb_id``), so a resume and a later
``imitate eval`` continue the same W&B run. The x axis is the metric ``step`` (env steps or
iterations, as in TensorBoard) rather than W&B's own step, which must only grow: a resumed run
logs again from its checkpoint's step, and W&B would drop those rows. So after a kill the
iterations between the last checkpoint and the kill appear twice in W&B, where TensorBoard
and ``progress.jsonl`` are cut back.
"""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path
from typing import Any

from imitate.config import ConfigError
from imitate.utils.io import atomic_write

ID_FILE = "wandb_id"
STEP = "step"  # the x axis of every W&B chart, as progress.jsonl names it
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def require_wandb(cfg: Any) -> None:
    """One line naming the extra when ``wandb=true`` and the package is missing."""
    if getattr(cfg, "wandb", False) and importlib.util.find_spec("wandb") is None:
        raise ConfigError("wandb=true needs the wandb package: pip install 'imitate[wandb]'")


def run_id(run_dir: Path) -> str:
    """The run's W&B id: read from ``wandb_id``, or made and written there first."""
    path = Path(run_dir) / ID_FILE
    if path.is_file():
        stored = path.read_text().strip()
        if stored:
            return stored
    new = "".join(secrets.choice(_ID_CHARS) for _ in range(8))  # W&B's own ids look like this
    atomic_write(path, lambda f: f.write(new), mode="w")
    return new


class WandbMirror:
    """One W&B run of one imitate run, open from ``__init__`` to ``close``. ``config`` is the
    run's ``config.yaml`` (task, algo and every field)."""

    def __init__(self, run_dir: Path, config: dict[str, Any]):
        import wandb

        run_dir = Path(run_dir)
        try:
            self.run = wandb.init(
                id=run_id(run_dir),
                resume="allow",
                project=config.get("wandb_project") or None,
                entity=config.get("wandb_entity") or None,
                group=config.get("wandb_group") or None,
                mode=config.get("wandb_mode") or None,  # None: WANDB_MODE, else online
                name=f"{config.get('task')}/{config.get('algo')}/{run_dir.name}",
                config=config,
                settings=wandb.Settings(console="off"),  # our stdout and progress bar stay as they are
            )
        except Exception as exc:  # no login, no network, a bad entity: one line, not a traceback
            text = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError(f"wandb could not start the run ({text}); wandb_mode=offline logs locally") from None
        self.run.define_metric(STEP)
        self.run.define_metric("*", step_metric=STEP)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        self.run.log({STEP: step, **scalars})

    def log_evaluation(self, step: int, metrics: dict[str, Any]) -> None:
        """The numbers of ``metrics`` into the summary as ``eval/<key>``; its video, if any, as
        ``eval/video`` at ``step``."""
        numbers = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        self.run.summary.update({f"eval/{k}": v for k, v in numbers.items()})
        if metrics.get("video"):
            self.log_video(step, "eval/video", Path(metrics["video"]))

    def log_video(self, step: int, key: str, path: Path) -> None:
        """A video file under ``key`` at ``step`` (W&B reads its format from the name)."""
        import wandb

        self.run.log({STEP: step, key: wandb.Video(str(path))})

    def close(self) -> None:
        self.run.finish()


def open_mirror(run_dir: Path, config: dict[str, Any]) -> WandbMirror | None:
    """The run's W&B mirror when its config has ``wandb: true``, else None (wandb not imported)."""
    return WandbMirror(run_dir, config) if config.get("wandb") else None
