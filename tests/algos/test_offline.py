"""The offline fit loop (algos/offline.py) on a toy method: an interrupted and resumed fit equals
the uninterrupted one bit for bit, logging and checkpoints follow the config, and a NaN stops
the fit naming its iteration with the last good checkpoint kept (or a new run removed)."""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import torch

from imitate.algos import offline
from imitate.algos.bc_common import BCFit
from imitate.algos.energy import EnergyFit
from imitate.utils.numerics import NonFiniteError, backward_step
from imitate.utils.reproducibility import differences
from imitate.utils.run import Run
from imitate.utils.seeding import seed_everything

TASK = SimpleNamespace(name="toy")


@dataclass
class ToyConfig:
    out_dir: str
    seed: int = 3
    iterations: int = 12
    batch_size: int = 8
    checkpoint_every: int = 5
    progress: bool = False


class Stop(Exception):
    """Stands in for a kill in the middle of training."""


class ToyFit(offline.OfflineMethod):
    """Linear regression with dropout (global RNG) and generator-drawn input noise, by Adam."""

    desc, prefix, shown = "toy", "toy", "loss"

    def __init__(self, stop_at: int | None = None, nan_at: int | None = None):
        torch.manual_seed(0)
        self.x = torch.randn(64, 3)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5])
        self.w = torch.nn.Parameter(torch.zeros(3))
        self.optimizer = torch.optim.Adam([self.w], lr=0.1)
        self.steps, self.stop_at, self.nan_at, self.started = 0, stop_at, nan_at, False

    def start(self):
        self.started = True

    def load_state_dict(self, state):
        self.w.data.copy_(state["w"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = state["resume"]["iteration"]

    def state_dict(self):
        return {"w": self.w.detach().clone(), "optimizer": self.optimizer.state_dict()}

    def data(self):
        return self.x, self.y

    def step(self, x, y, generator):
        self.steps += 1
        if self.steps == self.stop_at:
            raise Stop
        x = torch.nn.functional.dropout(x + 0.01 * torch.randn(x.shape, generator=generator), 0.2)
        loss = (x @ self.w - y).pow(2).mean()
        if self.steps == self.nan_at:
            loss = loss * float("nan")
        backward_step(loss, self.optimizer, [self.w], "toy_loss")
        return {"loss": loss.item(), "w0": self.w[0].item()}

    def summary(self, iteration, running):
        return {"iterations": iteration, "final_loss": running["loss"]}


def _train(cfg, run=None, state=None, **kwargs):
    seed_everything(cfg.seed)  # as the runner does before every train
    return offline.train_run(TASK, "toy", cfg, run, state, lambda run_: ToyFit(**kwargs))


def test_interrupted_and_resumed_fit_equals_the_uninterrupted_one(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "LOG_EVERY", 2)
    whole, stats = _train(ToyConfig(str(tmp_path / "a")))
    assert stats["iterations"] == 12 and stats["final_loss"] > 0
    rows = whole.read_progress()
    assert [r["step"] for r in rows] == [2, 4, 6, 8, 10, 12] and set(rows[0]) == {"step", "toy/loss", "toy/w0"}
    state = whole.load_checkpoint()
    assert state["resume"]["iteration"] == state["iteration"] == 12
    assert {"w", "optimizer", "generator", "running", "train_seconds", "rng"} <= set(state)

    with pytest.raises(Stop):
        _train(ToyConfig(str(tmp_path / "b")), stop_at=8)  # after the checkpoint at 5, rows up to 6 logged
    (path,) = (p.parent for p in (tmp_path / "b").rglob("config.yaml"))
    cut = Run.open(path)
    assert [r["step"] for r in cut.read_progress()] == [2, 4, 6]
    state = cut.load_checkpoint()
    assert state["resume"]["iteration"] == 5
    resumed, _ = _train(ToyConfig(str(tmp_path / "b")), cut, state)
    for run in (whole, resumed):
        run.write_metrics({"task": "toy"})
    assert differences(whole.dir, resumed.dir) == []


def test_nan_stops_at_its_iteration_and_keeps_the_last_checkpoint(tmp_path):
    cfg = ToyConfig(str(tmp_path), checkpoint_every=1)
    with pytest.raises(NonFiniteError) as err:
        _train(cfg, nan_at=3)
    assert str(err.value) == "toy_loss is not finite (nan) at iteration 3; the last checkpoint (iteration 2) is kept"
    (path,) = (p.parent for p in tmp_path.rglob("config.yaml"))
    assert Run.open(path).load_checkpoint()["resume"]["iteration"] == 2


def test_nan_before_the_first_checkpoint_removes_the_new_run(tmp_path):
    with pytest.raises(NonFiniteError, match="at iteration 1; no checkpoint was written, the run is removed"):
        _train(ToyConfig(str(tmp_path)), nan_at=1)
    assert not list(tmp_path.rglob("config.yaml"))


def test_energy_and_bc_are_methods_of_the_one_loop():
    assert issubclass(EnergyFit, offline.OfflineMethod) and issubclass(BCFit, offline.OfflineMethod)
    assert (EnergyFit.prefix, EnergyFit.shown, BCFit.prefix) == ("energy", "dsm_loss", "bc")
