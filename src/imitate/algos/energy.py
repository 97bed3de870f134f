"""NEAR step 1 as a run: demonstrations → NCSN energy model (denoising score matching)."""

from __future__ import annotations

import torch

from imitate.algos.demos import feature_columns, keep_columns, run_demos
from imitate.algos.energy_config import LEVEL_NAMES, EnergyConfig, named_level
from imitate.algos.offline import OfflineMethod, train_run
from imitate.models.energy import NCSN, EnergyTrainer, batched_energy
from imitate.utils.run import CheckpointError, Run, load_checkpoint


class EnergyFit(OfflineMethod):
    """DSM on expert transition pairs (M, 2·style_dim) for the offline loop (``algos/offline.py``).

    Its checkpoint part is the trainer plus the EMA model and its config: what NEAR, CEM and
    evaluation load from a finished step-1 run (``load_energy_model``). Under a feature mask
    (the humanoid's ``mask=``) the model learns the masked columns and keeps them in its config."""

    desc, prefix, shown, average = "energy (DSM)", "energy", "dsm_loss", (0.98, 0.02)

    def __init__(self, task, cfg: EnergyConfig, run: Run):
        pairs = run_demos(task, cfg, run).transitions()  # (M, 2 * obs_dim)
        columns = feature_columns(cfg)
        self.transitions = keep_columns(pairs, columns)
        torch.manual_seed(cfg.seed)  # weight init: the same seed, the same model
        model = NCSN(
            self.transitions.shape[1], cfg.hidden, version=cfg.version, columns=columns, raw_dim=pairs.shape[1]
        )
        self.trainer = EnergyTrainer(model, lr=cfg.lr, ema_decay=cfg.ema_decay)

    def start(self) -> None:
        self.trainer.fit_normalizer(self.transitions)

    def load_state_dict(self, state: dict) -> None:
        self.trainer.load_state_dict(state["trainer"])
        if isinstance(state.get("running"), float):  # a checkpoint from before the shared loop
            state["running"] = {"dsm_loss": state["running"]}

    def state_dict(self) -> dict:
        ema = self.trainer.ema_model()
        return {"trainer": self.trainer.state_dict(), "model_config": dict(ema.config), "ema_model": ema.state_dict()}

    def data(self) -> tuple[torch.Tensor]:
        return (self.transitions,)

    def step(self, batch: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        return {"dsm_loss": self.trainer.step(batch, generator)}

    def summary(self, iteration: int, running: dict[str, float]) -> dict:
        return {"dsm_loss": float(running.get("dsm_loss", float("nan"))), "iterations": iteration}


def load_energy_model(run_dir, task_name: str, expect_in_dim: int) -> NCSN:
    """The EMA energy model of a finished step-1 run, checked against the task's pairs of
    ``expect_in_dim`` numbers (it reads its masked columns of them, ``NCSN.select``)."""
    run = Run.open(run_dir)
    state = load_checkpoint(run.checkpoint_path, expect_task=task_name, expect_algo="energy")
    model = NCSN.from_config(state["model_config"])
    model.load_state_dict(state["ema_model"])
    if model.raw_dim != expect_in_dim:
        raise CheckpointError(
            f"{run.checkpoint_path}: energy model takes {model.raw_dim} features, "
            f"the task's transitions have {expect_in_dim}"
        )
    model.normalizer.frozen = True
    model.eval().requires_grad_(False)
    return model


@torch.no_grad()
def energy_metrics(model: NCSN, data: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Energy on expert transitions vs the same transitions shifted off the data.

    The shift is 1 standard deviation (normalised units) in a random direction; a useful model
    scores data higher at every level, most sharply at small σ.
    """
    g = torch.Generator().manual_seed(seed)
    data = data[torch.randperm(len(data), generator=g)[:4096]]
    std = torch.sqrt(model.normalizer.var).float()
    direction = torch.randn(data.shape, generator=g)
    direction = direction / direction.norm(dim=1, keepdim=True)
    off = data + direction * std
    out = {}
    for name, level in ((f"{n}_sigma", named_level(n, model.num_levels)) for n in LEVEL_NAMES):
        on_e = batched_energy(model, data, level).mean().item()
        off_e = batched_energy(model, off, level).mean().item()
        out[f"energy_data_{name}"] = on_e
        out[f"energy_off_{name}"] = off_e
        out[f"energy_gap_{name}"] = on_e - off_e
    return out


def train_energy_run(task, cfg: EnergyConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """Step 1 as a run of the offline loop (a given demo file was checked, ``inputs.py``)."""
    return train_run(task, "energy", cfg, run, state, lambda run_: EnergyFit(task, cfg, run_))


def evaluate_energy_run(run: Run, task, cfg: EnergyConfig, episodes: int | None = None) -> dict[str, float]:
    """Landscape (maze) and energy-vs-distance plots, and the data/off-data energy gaps."""
    from imitate.viz.energy import plot_energy_vs_distance, plot_maze_energy_landscape

    state = run.load_checkpoint(run.task, "energy")
    config = state["model_config"]
    model = load_energy_model(run.dir, run.task, config.get("raw_dim", config["in_dim"]))
    data = model.select(run_demos(task, cfg, run).transitions())  # what the model reads
    if task.name == "maze":
        plot_maze_energy_landscape(model, data, run.plots_dir / "energy_landscape.png")
    plot_energy_vs_distance(model, data, run.plots_dir / "energy_vs_distance.png")
    return energy_metrics(model, data, seed=cfg.seed)
