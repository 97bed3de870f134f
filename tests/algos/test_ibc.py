"""IBC and the explicit baselines: InfoNCE on a bimodal toy, DFO/Langevin optimise a known energy,
NaN-free MDN likelihood, normalisation, the CLI run (train, resume, evaluate), and a learning check."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from imitate.algos.bc import MDNPolicy, MSEPolicy
from imitate.algos.bc_common import BCNormalizer, BCTrainer, learning_rate
from imitate.algos.bc_config import BCConfig
from imitate.algos.ibc import (
    ImplicitPolicy,
    dfo,
    gradient_penalty,
    langevin,
    langevin_argmax,
    langevin_step_size,
)
from imitate.algos.ibc_config import IBCConfig
from imitate.cli import main
from imitate.models.mdn import MDN


def _bimodal_data(n=4096, seed=0):
    """o uniform in [-1, 1]; a = +0.7 or -0.7 with equal odds, whatever o is."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.rand(n, 1, generator=g) * 2 - 1
    sign = torch.randint(0, 2, (n, 1), generator=g) * 2 - 1
    return obs, 0.7 * sign.float()


def test_infonce_prefers_the_modes_where_mse_averages_them():
    obs, act = _bimodal_data()
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cfg = IBCConfig(width=64, blocks=1, batch_size=128, iterations=400, counter_examples=32, lr=3e-3)
    ibc = ImplicitPolicy(1, 1, cfg)
    BCTrainer(ibc, cfg).fit(obs, act, g)
    mse = MSEPolicy(1, 1, width=64, blocks=1)
    BCTrainer(mse, BCConfig(width=64, blocks=1, batch_size=128, iterations=400, lr=3e-3)).fit(obs, act, g)
    test_obs = torch.linspace(-0.9, 0.9, 7)[:, None]
    with torch.no_grad():
        e = ibc.energy(test_obs, torch.tensor([[0.7], [-0.7], [0.0]]).expand(7, 3, 1))  # (7, 3)
        picked = ibc.act_normalized(test_obs, g)
        averaged = mse.act_normalized(test_obs, g)
    assert (e[:, 0] > e[:, 2] + 1).all() and (e[:, 1] > e[:, 2] + 1).all()  # both modes beat the middle
    assert ((picked.abs() - 0.7).abs() < 0.1).all()  # IBC acts at a mode
    assert (averaged.abs() < 0.25).all()  # MSE acts between them, where no demo ever went


class KnownEnergy(nn.Module):
    """Two Gaussian bumps per observation: the higher at t1(o) = 0.5 o, the lower at −t1(o)."""

    def forward(self, obs, actions):  # (B, 2), (B, K, 2) -> (B, K)
        t1 = 0.5 * obs[:, None, :]
        d1 = (actions - t1).pow(2).sum(-1)
        d2 = (actions + t1).pow(2).sum(-1)
        return torch.logsumexp(torch.stack([-d1 / 0.02, -d2 / 0.02 + torch.log(torch.tensor(0.5))]), 0)


def test_dfo_and_langevin_find_the_maximum_of_a_known_energy():
    g = torch.Generator().manual_seed(0)
    obs = torch.rand(32, 2, generator=g) * 1.6 - 0.8
    obs = obs[obs.norm(dim=1) > 0.4]  # keep the two bumps apart
    truth = 0.5 * obs
    found_dfo = dfo(KnownEnergy(), obs, 2, samples=512, iterations=3, generator=g)
    found_lv = langevin_argmax(
        KnownEnergy(),
        obs,
        2,
        samples=64,
        steps=60,
        generator=g,
        step_init=0.1,
        step_final=1e-4,
        grad_clip=0.0,
        delta_clip=0.1,
    )
    assert (found_dfo - truth).norm(dim=1).max() < 0.03
    assert (found_lv - truth).norm(dim=1).max() < 0.03
    # One sample and no resampling cannot do it: the test measures the optimisers.
    blind = dfo(KnownEnergy(), obs, 2, samples=1, iterations=1, generator=g)
    assert (blind - truth).norm(dim=1).max() > 0.1


def test_langevin_step_size_decays_polynomially_from_init_at_the_first_step_to_final_at_the_last():
    sizes = [langevin_step_size(t, 11, 0.1, 1e-5, 2.0) for t in range(11)]
    assert sizes[0] == pytest.approx(0.1)
    assert sizes[10] == pytest.approx(1e-5)  # the last step uses the final size
    assert sizes[5] == pytest.approx((0.1 - 1e-5) * 0.5**2 + 1e-5)  # power 2 at mid-chain: 0.0250075
    assert sizes[1] == pytest.approx((0.1 - 1e-5) * 0.9**2 + 1e-5)
    assert all(a > b for a, b in zip(sizes, sizes[1:]))
    assert langevin_step_size(0, 1, 0.1, 1e-5, 2.0) == 0.1  # a one-step chain


def test_each_langevin_move_is_clipped():
    """A steep energy (slope 100) would move the chain by ε·½·100 = 5 per step at ε = 0.1; the
    move is clipped to langevin_delta_clip, so 3 noise-free steps go exactly 3 × 0.1."""
    steep = type("Steep", (nn.Module,), {"forward": lambda self, o, a: 100.0 * a.sum(-1)})()
    start = torch.full((2, 4, 2), -0.5)
    fixed = dict(step_init=0.1, step_final=0.1, noise=0.0, grad_clip=0.0)  # ε = 0.1 at every step
    moved = langevin(steep, torch.zeros(2, 1), start, 3, None, delta_clip=0.1, **fixed)
    assert torch.allclose(moved, torch.full_like(start, -0.2))
    unclipped = langevin(steep, torch.zeros(2, 1), start, 1, None, delta_clip=10.0, **fixed)
    assert torch.allclose(unclipped, torch.ones_like(start))  # 5 beyond the box: stopped at its edge


def test_learning_rate_schedules_at_known_steps():
    ibc = BCConfig(lr=1e-3, lr_schedule="exponential", lr_decay_steps=100, lr_decay_rate=0.99, iterations=50_000)
    assert learning_rate(ibc, 0) == pytest.approx(1e-3)
    assert learning_rate(ibc, 100) == pytest.approx(0.99e-3)
    assert learning_rate(ibc, 50) == pytest.approx(1e-3 * 0.99**0.5)  # tf.keras' smooth decay between
    assert learning_rate(ibc, 10_000) == pytest.approx(1e-3 * 0.99**100)  # 3.66e-4
    assert learning_rate(ibc, 50_000) == pytest.approx(1e-3 * 0.99**500)
    cosine = BCConfig(lr=1e-3, lr_decay=0.1, iterations=1000)
    assert learning_rate(cosine, 0) == pytest.approx(1e-3)
    assert learning_rate(cosine, 500) == pytest.approx(0.55e-3)
    assert learning_rate(cosine, 1000) == pytest.approx(1e-4)
    policy = MSEPolicy(1, 1, width=8, blocks=1)
    trainer = BCTrainer(policy, ibc)
    obs, act = torch.zeros(4, 1), torch.zeros(4, 1)
    for _ in range(101):
        trainer.step(obs, act, torch.Generator().manual_seed(0))
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.99e-3)  # what step 100 used


def test_dfo_sampling_spreads_like_exp_energy_where_argmax_picks_the_peak():
    """select="sample" (IBC's released evaluation policy) draws ∝ exp(E) from the final population:
    spread around the higher bump (σ 0.1) and sometimes at the lower one; argmax returns the peak."""
    g = torch.Generator().manual_seed(1)
    obs = torch.tensor([[0.8, 0.0]]).expand(2000, 2)
    truth = 0.5 * obs

    def share(actions, centre, radius):
        return ((actions - centre).norm(dim=1) < radius).float().mean().item()

    sampled = dfo(KnownEnergy(), obs, 2, samples=256, generator=g, select="sample")
    assert share(sampled, truth, 0.3) + share(sampled, -truth, 0.3) > 0.95
    assert 0.05 < share(sampled, -truth, 0.3) < 0.5
    assert share(sampled, truth, 0.03) < 0.2  # a draw, not the peak
    best = dfo(KnownEnergy(), obs, 2, samples=256, generator=g, select="argmax")
    assert share(best, truth, 0.03) > 0.85 and share(best, -truth, 0.3) == 0


def test_ibc_rejects_an_unknown_dfo_select(capsys):
    assert main(["train", "particle", "ibc-dfo", "dfo_select=best"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "dfo_select must be one of argmax, sample" in err


def test_gradient_penalty_is_zero_below_the_margin_and_positive_above():
    obs = torch.zeros(4, 2)
    actions = torch.rand(4, 8, 2) * 2 - 1
    flat = type("Flat", (nn.Module,), {"forward": lambda self, o, a: 0.1 * a.sum(-1)})()
    steep = type("Steep", (nn.Module,), {"forward": lambda self, o, a: 5.0 * a.sum(-1)})()
    assert gradient_penalty(flat, obs, actions, margin=1.0).item() == 0.0
    assert gradient_penalty(steep, obs, actions, margin=1.0).item() == pytest.approx(16.0)
    tilted = type("Tilted", (nn.Module,), {"forward": lambda self, o, a: 3.0 * a[..., 0] - 0.5 * a[..., 1]})()
    assert gradient_penalty(tilted, obs, actions, margin=1.0).item() == pytest.approx(4.0)  # (‖(3, −.5)‖∞ − 1)²
    assert gradient_penalty(tilted, obs, actions, margin=2.5).item() == pytest.approx(0.25)


def test_mdn_log_likelihood_is_finite_on_extreme_inputs():
    torch.manual_seed(0)
    mdn = MDN(3, 2, components=4, width=32, blocks=1)
    with torch.no_grad():  # huge weights: logits, means and log-stds far out of range
        for p in mdn.parameters():
            p.mul_(1e3)
    obs = torch.tensor([[1e6, -1e6, 0.0], [0.0, 0.0, 0.0], [1e-30, 3e4, -7e5]])
    act = torch.tensor([[1e6, -1e6], [0.0, 0.0], [-3e3, 1e-20]])
    logp = mdn.log_prob(obs, act)
    assert torch.isfinite(logp).all()
    logp.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in mdn.parameters())


def test_mdn_fits_both_modes():
    obs, act = _bimodal_data()
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    cfg = BCConfig(width=64, blocks=1, batch_size=128, iterations=300, lr=3e-3, mdn_components=4)
    policy = MDNPolicy(1, 1, components=4, width=64, blocks=1)
    BCTrainer(policy, cfg).fit(obs, act, g)
    with torch.no_grad():
        log_w, mean, log_std = policy.mdn(torch.zeros(1, 1))
    heavy = mean[0, log_w[0].exp() > 0.2, 0]
    assert ((heavy.abs() - 0.7).abs() < 0.1).all() and heavy.max() > 0.5 and heavy.min() < -0.5


def test_normalizer_widens_action_bounds_and_z_scores():
    norm = BCNormalizer(2, 1)
    obs = torch.tensor([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    act = torch.tensor([[0.0], [0.5], [1.0]])
    norm.fit(obs, act)
    assert norm.act_low.item() == pytest.approx(-0.05) and norm.act_high.item() == pytest.approx(1.05)
    assert norm.action(act).abs().max() < 1.0 and norm.action(torch.tensor([[-0.05]])).item() == pytest.approx(-1)
    assert torch.allclose(norm.unaction(norm.action(act)), act, atol=1e-6)
    z = norm.obs(obs)
    assert z[:, 0].mean().abs() < 1e-6 and z[:, 1].abs().max() == 0  # constant dim left unscaled


TINY = [
    "iterations=40",
    "demo_episodes=40",
    "width=32",
    "blocks=1",
    "checkpoint_every=20",
    "eval_episodes=100",
    "progress=false",
]


def _runs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("config.yaml"))


def test_cli_mse_tiny_run_resume_and_eval(tmp_path, capsys):
    assert main(["train", "particle", "mse", f"out_dir={tmp_path}", *TINY]) == 0
    (run,) = _runs(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["episodes"] == 100 and 0.0 <= metrics["success_rate"] <= 1.0
    assert metrics["iterations"] == 40 and (run / "plots" / "trajectories.png").is_file()
    assert (run / "demos.npz").is_file() and (run / "progress.jsonl").is_file()
    assert main(["train", "particle", "mse", f"resume={run}", "preset=paper"]) == 2  # a resume keeps its settings
    assert main(["train", "particle", "mse", f"resume={run}", "iterations=60"]) == 0
    assert json.loads((run / "metrics.json").read_text())["iterations"] == 60
    assert main(["eval", str(run), "--episodes", "20"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["episodes"] == 20


def test_cli_ibc_tiny_run_draws_the_energy_landscape(tmp_path):
    assert (
        main(["train", "particle", "ibc-dfo", f"out_dir={tmp_path}", "dfo_samples=64", "counter_examples=8", *TINY])
        == 0
    )
    (run,) = _runs(tmp_path)
    assert (run / "plots" / "energy_landscape.png").is_file()
    assert (
        main(
            [
                "train",
                "particle",
                "ibc-langevin",
                f"out_dir={tmp_path}",
                "n_dim=3",
                "langevin_samples=8",
                "langevin_steps=5",
                "langevin_train_steps=3",
                "counter_examples=8",
                *TINY,
            ]
        )
        == 0
    )
    langevin_run = [r for r in _runs(tmp_path) if "ibc-langevin" in str(r)][0]
    metrics = json.loads((langevin_run / "metrics.json").read_text())
    assert metrics["episodes"] == 100 and "success_rate" in metrics


def test_bc_rejects_demos_of_another_dimension(tmp_path):
    demos = tmp_path / "p4.npz"
    assert main(["data", "particle", "n_dim=4", "--episodes", "10", "--out", str(demos), "--no-progress"]) == 0
    assert main(["train", "particle", "mse", f"demos={demos}", f"out_dir={tmp_path / 'runs'}", *TINY]) == 2
    assert not (tmp_path / "runs").exists() or not _runs(tmp_path / "runs")


def _success(algo: str, root: Path, extra: list[str]) -> float:
    assert main(["train", "particle", algo, f"out_dir={root}", "progress=false", "eval_episodes=200", *extra]) == 0
    run = [r for r in _runs(root) if f"/{algo}/" in str(r)][-1]
    return json.loads((run / "metrics.json").read_text())["success_rate"]


@pytest.mark.slow
def test_short_particle_run_ibc_beats_mse_when_demonstrations_are_multimodal(tmp_path):
    """IBC's multimodal particle (goal_order=either: each demonstration picks its first goal by a
    coin flip), at the 4000-step preset on 2 cores (about 2 min). MSE regresses onto the average of
    the two goals at the start; the implicit policy commits to one. Benchmark seed 0 in docs/ibc.md."""
    demos = tmp_path / "p2_either.npz"
    assert (
        main(["data", "particle", "goal_order=either", "--episodes", "2000", "--out", str(demos), "--no-progress"]) == 0
    )
    common = [f"demos={demos}", "goal_order=either"]
    ibc = _success("ibc-dfo", tmp_path, common)
    mse = _success("mse", tmp_path, common)
    assert ibc > mse + 0.15, (ibc, mse)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known shortfall, docs/ibc.md: on the fixed goal order IBC-DFO does not beat "
    "MSE (1500 steps: 0.545 vs 0.775; 4000 steps, 3 seeds: 0.81 vs 0.86)",
)
def test_short_particle_run_ibc_beats_mse_on_the_fixed_goal_order(tmp_path):
    """The issue's original check on IBC's task (goal 1, then goal 2). Kept, strictly expected
    to fail, so that the day IBC passes it the suite says so."""
    demos = tmp_path / "p2.npz"
    assert main(["data", "particle", "--episodes", "2000", "--out", str(demos), "--no-progress"]) == 0
    common = [f"demos={demos}", "iterations=1500"]
    ibc = _success("ibc-dfo", tmp_path, common)
    mse = _success("mse", tmp_path, common)
    assert ibc > mse + 0.1, (ibc, mse)


@pytest.mark.slow
def test_block_pushing_ibc_langevin_beats_mse(tmp_path):
    """The benchmark's seed-0 block-pushing setting (docs/ibc.md): 300 oracle demos, 3000 steps,
    100 episodes. Measured there: ibc-langevin 0.72, mse 0.43 (about 10 min on 2 cores)."""
    common = [
        "demo_episodes=300",
        "iterations=3000",
        "width=128",
        "blocks=1",
        "counter_examples=32",
        f"out_dir={tmp_path}",
        "progress=false",
    ]
    assert main(["train", "block-push", "mse", *[c for c in common if not c.startswith("counter")]]) == 0
    assert (
        main(
            [
                "train",
                "block-push",
                "ibc-langevin",
                *common,
                "langevin_train_steps=5",
                "temperature=0.1",
                "langevin_samples=64",
                "langevin_steps=30",
            ]
        )
        == 0
    )
    rates = {
        algo: json.loads((next((tmp_path / "block-push" / algo).iterdir()) / "metrics.json").read_text())[
            "success_rate"
        ]
        for algo in ("mse", "ibc-langevin")
    }
    assert rates["ibc-langevin"] > rates["mse"] + 0.15, rates
