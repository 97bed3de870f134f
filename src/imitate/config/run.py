"""The fields every run has, whatever its algorithm; algorithm configs extend ``RunConfig``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from imitate.config.fields import Checked, ConfigError, NoOptions, option

WANDB_MODES = ("", "online", "offline", "disabled")
# Keys a run passes on to the run it trains first (NEAR's energy model, `imitate demo`'s step 1).
INHERITED_KEYS = (
    "seed",
    "out_dir",
    "device",
    "progress",
    "wandb",
    "wandb_project",
    "wandb_entity",
    "wandb_group",
    "wandb_mode",
)


@dataclass
class RunConfig(Checked):
    """Fields every run has."""

    seed: int = option(0, "random seed of everything in the run", ge=0, le=2**31 - 1)
    out_dir: str = option("runs", "runs land in out_dir/<task>/<algo>/<timestamp>-<seed>/")
    device: str = option("cpu", "torch device: cpu, cuda or cuda:N")
    resume: str = option("", "a run directory to continue from its last checkpoint")
    preset: str = option(
        "", "a named preset, configs/<task>.<preset>.yaml (particle: paper, released), in place of the task's default"
    )
    progress: bool = option(True, "show a progress bar")
    # Weights & Biases: flat keys, not a group, so that wandb=true is the switch (docs/logging.md).
    wandb: bool = option(False, "also log to Weights & Biases: scalars, config, eval videos (imitate[wandb])")
    wandb_project: str = option("imitate", "W&B project")
    wandb_entity: str = option("", "W&B entity (user or team); empty: your default one")
    wandb_group: str = option("", "W&B group, e.g. one per comparison; empty: none")
    wandb_mode: str = option("", "W&B mode: online, offline or disabled; empty: WANDB_MODE, else online")
    task_options: Any = dataclasses.field(
        default_factory=NoOptions,
        metadata={"help": "the task's own options (a group: task_options.KEY=VALUE, or KEY=VALUE where unique)"},
    )

    def check(self) -> None:
        if self.wandb_mode not in WANDB_MODES:
            raise ConfigError(
                f"wandb_mode must be empty or one of {', '.join(WANDB_MODES[1:])}, got {self.wandb_mode!r}"
            )
        if self.device not in ("cpu", "cuda") and not (self.device.startswith("cuda:") and self.device[5:].isdigit()):
            raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")
        if self.device != "cpu":
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(
                    f"device={self.device} but this machine has no CUDA device (torch "
                    f"{torch.__version__} sees none); use device=cpu"
                )
            index = int(self.device[5:] or 0) if ":" in self.device else 0
            if index >= torch.cuda.device_count():
                raise ConfigError(f"device={self.device} but only {torch.cuda.device_count()} CUDA device(s) exist")
