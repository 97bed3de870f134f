"""The one offline fit loop: minibatch gradient steps on a fixed dataset, as a run.

NEAR step 1 (``algos/energy.py``) and behavioural cloning (``algos/bc_common.py``: MSE, MDN,
IBC) differ only in their data, their model and one gradient step; each is an
``OfflineMethod``. The loop owns the rest, written once: the minibatch generator, the
iteration count, the running averages it logs as ``<prefix>/<stat>``, one progress bar, NaN/inf
attribution to the iteration (``utils.numerics``), a checkpoint every ``cfg.checkpoint_every``
steps and at the last one, and exact resume: the method's state, the generator, the running
averages and the global RNGs (``restore_rng``) come back from the checkpoint, so a resumed run
draws the very batches the uninterrupted one would.

A method may fit in stages (``OfflineMethod.stages``), each a method of its own with its own
data, step, iteration count and batch size, one after the other in one run: BCO fits an inverse
dynamics model, then BC on the demonstrations it labels (``algos/bco.py``). Iterations count on
across the stages, each stage's running averages start afresh, a checkpoint is also written at the
end of each stage, and the checkpoint is the top method's ``state_dict`` whichever stage is running.

A config driving it has ``seed``, ``iterations``, ``batch_size``, ``checkpoint_every`` and
``progress``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from imitate.utils.numerics import at_iteration
from imitate.utils.progress import progress_bar
from imitate.utils.run import Run, fits_checkpoint, guarded
from imitate.utils.seeding import restore_rng

LOG_EVERY = 100  # iterations between progress.jsonl rows (the last iteration is always logged)


@dataclass
class Stage:
    """One stage of a fit: ``method`` (its ``start``, ``data``, ``step``, ``prefix``, ``shown``)
    for ``iterations`` steps of ``batch_size`` rows."""

    method: OfflineMethod
    iterations: int
    batch_size: int


class OfflineMethod:
    """What one offline method supplies to the loop; subclasses set the class attributes and
    implement the methods (``start`` is optional)."""

    desc = "fit"  # progress-bar label
    prefix = "fit"  # logged keys are f"{prefix}/{stat}"
    shown = "loss"  # the running stat shown on the progress bar
    average = (0.95, 0.05)  # running average r <- a*r + b*x of each stat (a, b given: 1 - a is inexact)
    device: torch.device | str = "cpu"  # where the data lives and the minibatch generator draws

    def start(self) -> None:
        """A fit without a checkpoint begins: fit normalisers on the data, etc."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the method's part of checkpoint ``state`` (the whole checkpoint dict)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The method's part of a checkpoint (models, optimiser); keys the loop does not use."""
        raise NotImplementedError

    def data(self) -> tuple[torch.Tensor, ...]:
        """The tensors minibatches are drawn from (rows in step), once started or restored."""
        raise NotImplementedError

    def step(self, *rows: Any, **kwargs: Any) -> dict[str, float]:
        """``step(*rows, generator=...)``: one gradient step on a minibatch (one tensor per ``data``
        entry); the stats to average. Typed loosely so that a method can name its rows."""
        raise NotImplementedError

    def summary(self, iteration: int, running: dict[str, float]) -> dict[str, Any]:
        """What the run's ``metrics.json`` gets from training."""
        return {"iterations": iteration}

    def stages(self, cfg: Any) -> list[Stage]:
        """The stages of the fit, in order; one by default: this method for ``cfg.iterations``."""
        return [Stage(self, cfg.iterations, cfg.batch_size)]


def minibatches(
    data: tuple[torch.Tensor, ...],
    batch_size: int,
    generator: torch.Generator,
    step: Callable[..., dict[str, float]],
    start: int,
    until: int,
) -> Iterator[tuple[int, dict]]:
    """Iterations ``start + 1 .. until``: draw ``batch_size`` rows (with replacement) by
    ``generator``, take ``step(*rows, generator=generator)``; yields (iteration, stats). A
    NaN/inf error inside a step names its iteration."""
    for iteration in range(start + 1, until + 1):
        idx = torch.randint(len(data[0]), (batch_size,), generator=generator, device=generator.device)
        with at_iteration(iteration):
            stats = step(*(d[idx] for d in data), generator=generator)
        yield iteration, stats


def fit(run: Run, cfg: Any, state: dict | None, method: OfflineMethod, started: float) -> tuple[int, dict[str, float]]:
    """Train ``method`` (stage by stage, ``method.stages``) to the end of its last stage in ``run``,
    from checkpoint ``state`` if given; returns (iteration, the last stage's running averages).
    ``started``: the wall-clock origin of the run's ``train_seconds`` (earlier sessions included)."""
    stages = method.stages(cfg)
    generator = torch.Generator(device=method.device).manual_seed(cfg.seed)
    start, running = 0, {}
    if state is not None:
        with fits_checkpoint():
            method.load_state_dict(state)
            generator.set_state(state["generator"])
        start, running = state["resume"]["iteration"], dict(state.get("running") or {})
    else:
        stages[0].method.start()
    run.begin(cfg, state)  # the checkpoint fits: from here on the run may change
    restore_rng(state)

    def checkpoint() -> None:
        run.save_checkpoint(
            {
                **method.state_dict(),
                "generator": generator.get_state(),
                "iteration": iteration,
                "running": dict(running),
                "train_seconds": time.time() - started,
            },
            iteration=iteration,
            log_step=iteration,
        )

    logger = run.logger()
    total = sum(stage.iterations for stage in stages)
    bar = progress_bar(total, desc=method.desc, initial=start, enabled=cfg.progress)
    a, b = method.average
    iteration = start  # the checkpoint's iteration; the loop moves it on
    try:
        end = 0
        for number, stage in enumerate(stages):
            begin, end = end, end + stage.iterations
            if start >= end:
                continue  # finished before the checkpoint
            part = stage.method
            if number > 0 and start <= begin:  # this stage begins now
                part.start()
                running = {}
            data = part.data()
            for iteration, stats in minibatches(data, stage.batch_size, generator, part.step, max(start, begin), end):
                for k, v in stats.items():
                    running[k] = v if k not in running else a * running[k] + b * v
                bar.update(1)
                if iteration % LOG_EVERY == 0 or iteration == end:
                    logger.log(iteration, {f"{part.prefix}/{k}": v for k, v in running.items()})
                    bar.set_postfix({part.shown: f"{running[part.shown]:.4g}"})
                if iteration % cfg.checkpoint_every == 0 or iteration == end:
                    checkpoint()
    finally:
        bar.close()
        logger.close()
    return iteration, running


def train_run(
    task, algo_name: str, cfg: Any, run: Run | None, state: dict | None, prepare: Callable[[Run], OfflineMethod]
) -> tuple[Run, dict]:
    """An offline method as a new or resumed run. ``prepare(run)`` reads the data and builds the
    model inside the guard (oracle demos are written into the run), so a failure before the
    first checkpoint removes a new run."""
    run = run or Run.create(task.name, algo_name, cfg)
    started = time.time() - (state or {}).get("train_seconds", 0.0)
    with guarded(run):
        method = prepare(run)
        iteration, running = fit(run, cfg, state, method, started)
    return run, {"train_seconds": round(time.time() - started, 1), **method.summary(iteration, running)}
