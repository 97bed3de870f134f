"""AIME phase 1 as a run: an embodiment data set of (observation, action) episodes → an RSSM
world model (``models/rssm.py``) trained by its ELBO through the offline fit loop.

Minibatches are windows of ``seq_len`` consecutive steps inside training episodes: the loop
draws ``batch_size`` window starts (with replacement, from every start that fits, as AIME
samples them) and ``step`` gathers the windows. A seeded fraction ``holdout`` of whole episodes
is kept out of training; ``imitate eval`` reports the ELBO terms and open-loop prediction errors
on it and plots an open-loop prediction beside the truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imitate.algos.demos import run_demos
from imitate.algos.offline import OfflineMethod, train_run
from imitate.algos.world_model_config import WorldModelConfig
from imitate.data.sequences import longest_episode, obs_layout, previous_actions, split_episodes, window_starts
from imitate.models.rssm import RSSM, Layout, as_layout, layout_text
from imitate.utils.errors import CheckpointError, DatasetError
from imitate.utils.numerics import backward_step
from imitate.utils.run import Run, load_checkpoint

ALGO = "world-model"


MODEL_KEYS = ("deter", "stoch", "units", "layers", "embed", "activation", "min_std", "decoder_std", "idm")


def build_model(cfg: WorldModelConfig, layout: Layout, act_dim: int) -> RSSM:
    return RSSM(layout, act_dim, **{key: getattr(cfg, key) for key in MODEL_KEYS})


def check_layout(model: RSSM, layout: Layout, act_dim: int, where: str = "") -> None:
    """One line when a world model does not fit the data's observation layout or actions."""
    prefix = f"{where}: " if where else ""
    if model.layout != as_layout(layout):
        raise CheckpointError(
            f"{prefix}the world model observes {layout_text(model.layout)}; the data has {layout_text(layout)}"
        )
    if model.act_dim != act_dim:
        raise CheckpointError(f"{prefix}the world model takes {model.act_dim} action numbers; the data has {act_dim}")


class Sequences:
    """A run's data set as tensors: observations, the action before each step, episodes split.

    ``with_actions=False`` (AIME phase 2) drops whatever actions the file holds as soon as it is
    read: ``prev_actions`` is None and nothing downstream can see them."""

    def __init__(self, task, cfg: Any, run: Run, with_actions: bool = True):
        where = cfg.demos or str(run.dir)
        demos = run_demos(task, cfg, run)
        if with_actions and demos.actions is None:
            raise DatasetError(f"{where}: no 'actions' array; the world model learns from (observation, action) data")
        self.layout = obs_layout(demos, where)
        self.obs_names = list(demos.metadata.get("obs_names") or [])
        self.episode_ends = demos.episode_ends
        holdout = getattr(cfg, "holdout", 0.0)  # AIME phase 2 trains on every demonstration
        self.train_episodes, self.heldout_episodes = split_episodes(demos.num_episodes, holdout, cfg.seed)
        self.device = torch.device(cfg.device)
        self.obs = torch.from_numpy(demos.obs).to(self.device)
        self.prev_actions: torch.Tensor | None = None
        self.act_dim = 0
        if with_actions:
            assert demos.actions is not None
            self.prev_actions = torch.from_numpy(previous_actions(demos.actions, demos.episode_ends)).to(self.device)
            self.act_dim = int(demos.actions.shape[1])
        self.where = where

    def train_starts(self, seq_len: int) -> torch.Tensor:
        """Every window start of ``seq_len`` steps inside a training episode; one line if none."""
        starts = self.starts(self.train_episodes, seq_len)
        if len(starts) == 0:
            longest = longest_episode(self.episode_ends, self.train_episodes)
            raise DatasetError(
                f"{self.where}: no training episode has seq_len={seq_len} observations "
                f"(the longest has {longest}); lower seq_len"
            )
        return starts

    def rows(self, episodes: np.ndarray) -> torch.Tensor:
        """Every row of ``episodes`` (for the normaliser)."""
        starts = np.concatenate([[0], self.episode_ends[:-1]])
        idx = np.concatenate([np.arange(starts[e], self.episode_ends[e]) for e in episodes])
        return self.obs[torch.from_numpy(idx).to(self.device)]

    def windows(self, starts: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, length, obs_dim) observations and (B, length, act_dim) previous actions."""
        assert self.prev_actions is not None, "windows of an observation-only data set have no actions"
        idx = starts[:, None] + torch.arange(length, device=starts.device)
        return self.obs[idx], self.prev_actions[idx]

    def starts(self, episodes: np.ndarray, length: int, stride: int = 1) -> torch.Tensor:
        return torch.from_numpy(window_starts(self.episode_ends, episodes, length, stride)).to(self.device)


class WorldModelFit(OfflineMethod):
    """The RSSM on windows of training episodes, for the offline loop (``algos/offline.py``); its
    checkpoint part is the model with its config (layout included) and the optimiser."""

    desc, prefix, shown = "world model", "world_model", "loss"

    def __init__(self, task, cfg: WorldModelConfig, run: Run):
        self.cfg, self.data_set = cfg, Sequences(task, cfg, run)
        self.device = self.data_set.device
        self.train_starts = self.data_set.train_starts(cfg.seq_len)
        torch.manual_seed(cfg.seed)  # weight init: the same seed, the same model
        self.model = build_model(cfg, self.data_set.layout, self.data_set.act_dim).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.obs_n = torch.empty(0)

    def start(self) -> None:
        self.model.fit_normalizer(self.data_set.rows(self.data_set.train_episodes))

    def load_state_dict(self, state: dict) -> None:
        saved = RSSM.from_config(state["model_config"])
        check_layout(saved, self.data_set.layout, self.data_set.act_dim)  # the loop says "checkpoint does not fit"
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "model_config": dict(self.model.config),
            "optimizer": self.optimizer.state_dict(),
        }

    def data(self) -> tuple[torch.Tensor]:
        self.obs_n = self.model.normalize(self.data_set.obs)  # the normaliser is fitted or restored by now
        return (self.train_starts,)

    def step(self, starts: torch.Tensor, generator: torch.Generator) -> dict[str, float]:
        cfg = self.cfg
        assert self.data_set.prev_actions is not None
        idx = starts[:, None] + torch.arange(cfg.seq_len, device=self.device)
        self.model.train()
        loss, stats = self.model.loss(
            self.obs_n[idx],
            self.data_set.prev_actions[idx],
            generator=generator,
            free_nats=cfg.free_nats,
            kl_balance=cfg.kl_balance,
            kl_scale=cfg.kl_scale,
            beta_nll=cfg.beta_nll,
            idm_weight=cfg.idm_weight,
        )
        backward_step(loss, self.optimizer, self.model.parameters(), "world_model_loss", max_norm=cfg.grad_clip)
        return stats

    def summary(self, iteration: int, running: dict[str, float]) -> dict:
        return {
            "iterations": iteration,
            "final_loss": running.get("loss", float("nan")),
            "train_episodes": len(self.data_set.train_episodes),
            "heldout_episodes": len(self.data_set.heldout_episodes),
            "train_windows": len(self.train_starts),
        }


def train_world_model_run(task, cfg: WorldModelConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    """Phase 1 as a run of the offline loop; ``resume=RUN_DIR`` continues exactly."""
    return train_run(task, ALGO, cfg, run, state, lambda run_: WorldModelFit(task, cfg, run_))


def load_world_model(run_dir, layout: Layout | None = None, act_dim: int | None = None) -> RSSM:
    """The trained model of a world-model run, frozen (gradients still flow to its inputs, e.g.
    actions); given ``layout`` and ``act_dim``, one line if it was trained on other data."""
    run = Run.open(run_dir)
    state = load_checkpoint(run.checkpoint_path, expect_algo=ALGO)
    try:
        model = RSSM.from_config(state["model_config"])
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{run.checkpoint_path}: no usable world model ({str(exc).splitlines()[0]})") from None
    if layout is not None:
        check_layout(model, layout, model.act_dim if act_dim is None else act_dim, str(run.checkpoint_path))
    return model.eval().requires_grad_(False)


# -- evaluation ---------------------------------------------------------------------------------
@torch.no_grad()
def heldout_metrics(
    model: RSSM, data: Sequences, episodes: np.ndarray, cfg: WorldModelConfig
) -> tuple[dict[str, Any], tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None]:
    """ELBO terms per step on non-overlapping ``seq_len`` windows of ``episodes`` (shorter when
    no episode is that long), and open-loop errors on windows of context + horizon steps: the
    prior's prediction after the context against the posterior's reconstruction of the same
    steps, in normalised units (1 = one standard deviation of the data). Also returns the first
    open-loop window (truth, filtered, predicted) for the plot."""
    longest = longest_episode(data.episode_ends, episodes)
    length = min(cfg.seq_len, longest)
    starts = data.starts(episodes, length, stride=length)
    obs, prev = data.windows(starts, length)
    generator = torch.Generator(device=data.device).manual_seed(cfg.seed)
    _, stats = model.loss(model.normalize(obs), prev, generator=generator)
    metrics: dict[str, Any] = {f"heldout_{k}": v for k, v in stats.items() if k != "loss"}
    metrics["heldout_window"] = length
    context = min(cfg.eval_context, longest - 1)
    span = min(context + cfg.eval_horizon, longest)
    if context < 1:
        return metrics, None
    starts = data.starts(episodes, span, stride=span)
    obs, prev = data.windows(starts, span)
    filtered, predicted = model.predict(obs, prev, context)
    truth_n = model.normalize(obs)[:, context:]
    metrics["heldout_open_loop_mse"] = ((model.normalize(predicted)[:, context:] - truth_n) ** 2).mean().item()
    metrics["heldout_filtered_mse"] = ((model.normalize(filtered)[:, context:] - truth_n) ** 2).mean().item()
    metrics.update(open_loop_context=context, open_loop_horizon=span - context, open_loop_windows=len(starts))
    return metrics, (obs[0], filtered[0], predicted[0])


def dimension_names(data: Sequences) -> list[str]:
    """A label per observation number: the data set's ``obs_names`` if they fit, else group[i]."""
    if len(data.obs_names) == sum(size for _, size in data.layout):
        return [str(n) for n in data.obs_names]
    return [name if size == 1 else f"{name}[{i}]" for name, size in data.layout for i in range(size)]


def evaluate_world_model_run(run: Run, task, cfg: WorldModelConfig, episodes: int) -> dict[str, Any]:
    """Held-out ELBO terms and open-loop errors (``heldout_metrics``) on at most ``episodes``
    held-out episodes (the training ones when none is held out); ``plots/open_loop.png``."""
    from imitate.viz.world_model import plot_open_loop

    data = Sequences(task, cfg, run)
    model = load_world_model(run.dir, data.layout, data.act_dim).to(data.device)
    held_out = len(data.heldout_episodes) > 0
    chosen = (data.heldout_episodes if held_out else data.train_episodes)[:episodes]
    metrics, window = heldout_metrics(model, data, chosen, cfg)
    metrics.update(eval_split="heldout" if held_out else "train", eval_episodes=len(chosen))
    if window is not None:
        truth, filtered, predicted = (w.cpu().numpy() for w in window)
        plot_open_loop(
            truth,
            predicted,
            filtered,
            metrics["open_loop_context"],
            dimension_names(data),
            run.plots_dir / "open_loop.png",
            title=f"{run.task} world model: open-loop prediction from {metrics['open_loop_context']} filtered steps",
        )
    return metrics
