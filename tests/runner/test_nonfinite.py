"""A NaN/inf loss or gradient stops a run with one line naming the loss and the iteration; the
last good checkpoint stays, and no checkpoint with a non-finite tensor is ever written."""

import re
from pathlib import Path

import pytest
import torch

from imitate.cli import main
from imitate.utils import numerics
from imitate.utils.run import Run, load_checkpoint

PPO = ["num_envs=8", "rollout_steps=8", "total_steps=640", "minibatches=2", "epochs=1", "hidden=16,16"]
BC = ["iterations=50", "demo_episodes=8", "width=16", "blocks=1"]
# family: (argv, module whose backward_step is poisoned, the loss name, backward calls per iteration)
CASES = {
    "ppo": (["particle", "ppo", *PPO], "imitate.algos.ppo", "ppo_loss", 2),
    "energy": (
        ["block-push", "energy", "iterations=50", "demo_episodes=8", "hidden=16,16"],
        "imitate.models.energy",
        "dsm_loss",
        1,
    ),
    "amp": (
        [
            "maze",
            "amp",
            *PPO,
            "demo_episodes=8",
            "disc.hidden=16,16",
            "disc.batch_size=32",
            "disc.updates=2",
            "replay_size=200",
        ],
        "imitate.rewards.adversarial",
        "amp_discriminator_loss",
        2,
    ),
    "mse": (["particle", "mse", *BC], "imitate.algos.bc_common", "mse_loss", 1),
    "mdn": (["particle", "mdn", *BC], "imitate.algos.bc_common", "mdn_nll_loss", 1),
    "ibc-dfo": (["particle", "ibc-dfo", *BC, "counter_examples=8"], "imitate.algos.bc_common", "info_nce_loss", 1),
    # the first stage of BCO and IIDM (the second is BC's trainer, covered above)
    "bco": (
        ["particle", "bco", *BC, "model_iterations=50", "embodiment_episodes=8"],
        "imitate.algos.dynamics",
        "idm_loss",
        1,
    ),
    "iidm": (
        ["particle", "iidm", *BC, "model_iterations=50", "embodiment_episodes=8"],
        "imitate.algos.dynamics",
        "forward_model_loss",
        1,
    ),
}
FAIL_AT = 3  # the iteration whose update is poisoned


def _poison(monkeypatch, module: str, kind: str, calls_per_iteration: int) -> None:
    """From iteration FAIL_AT on, make the loss (``kind="loss"``) or its gradient NaN."""
    calls = {"n": 0}
    real = numerics.backward_step

    def poisoned(loss, optimizer, params, name, max_norm=None):
        calls["n"] += 1
        params = list(params)
        if calls["n"] <= (FAIL_AT - 1) * calls_per_iteration:
            return real(loss, optimizer, params, name, max_norm)
        if kind == "loss":
            return real(loss * float("nan"), optimizer, params, name, max_norm)
        hook = params[0].register_hook(lambda g: torch.full_like(g, float("nan")))
        try:
            return real(loss, optimizer, params, name, max_norm)
        finally:
            hook.remove()

    monkeypatch.setattr(f"{module}.backward_step", poisoned)


@pytest.mark.parametrize(
    "family,kind",
    [
        ("ppo", "loss"),
        ("ppo", "gradient"),
        ("energy", "loss"),
        ("energy", "gradient"),
        ("amp", "gradient"),
        ("mse", "gradient"),
        ("mdn", "loss"),
        ("ibc-dfo", "loss"),
        ("bco", "gradient"),
        ("iidm", "loss"),
    ],
)
def test_non_finite_stops_with_one_line_and_keeps_the_last_checkpoint(family, kind, monkeypatch, tmp_path, capsys):
    argv, module, loss_name, per_iteration = CASES[family]
    _poison(monkeypatch, module, kind, per_iteration)
    capsys.readouterr()
    assert main(["train", *argv, "checkpoint_every=1", "progress=false", f"out_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    what = f"gradient of {loss_name} is not finite" if kind == "gradient" else rf"{loss_name} is not finite \(nan\)"
    assert len(err.splitlines()) == 1, err
    assert re.fullmatch(
        rf"imitate: error: {what} at iteration {FAIL_AT}; the last checkpoint "
        rf"\(iteration {FAIL_AT - 1}\) is kept",
        err,
    ), err
    (run,) = [p.parent for p in Path(tmp_path).rglob("config.yaml")]
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert state["resume"]["iteration"] == FAIL_AT - 1
    assert numerics.first_non_finite(state, skip=("env",)) is None


def test_failure_before_any_checkpoint_removes_the_new_run(monkeypatch, tmp_path, capsys):
    argv, module, _, _ = CASES["mse"]
    monkeypatch.setattr(
        f"{module}.backward_step", lambda loss, *a, **k: numerics.backward_step(loss * float("nan"), *a, **k)
    )
    assert main(["train", *argv, "progress=false", f"out_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "imitate: error: mse_loss is not finite (nan) at iteration 1; no checkpoint was written, the run is removed"
    )
    assert not list(Path(tmp_path).rglob("config.yaml"))


def test_checkpoint_writer_refuses_non_finite_tensors(tmp_path):
    run = Run(tmp_path, "maze", "ppo")
    run.save_checkpoint({"weights": torch.ones(3)}, iteration=1)
    before = run.checkpoint_path.read_bytes()
    with pytest.raises(FloatingPointError, match=r"refusing to write a checkpoint: weights\.1 is not finite"):
        run.save_checkpoint({"weights": [torch.ones(2), torch.tensor([0.0, float("inf")])]}, iteration=2)
    assert run.checkpoint_path.read_bytes() == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_check_grads_without_clipping_leaves_the_gradient_exact():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    (p * torch.tensor([3.0, 1e-3])).sum().backward()
    grad = p.grad.clone()
    numerics.check_grads([p], "x")
    assert torch.equal(p.grad, grad)
    p.grad[0] = float("nan")
    with pytest.raises(numerics.NonFiniteError, match="gradient of x is not finite"):
        numerics.check_grads([p], "x", max_norm=1.0)
