"""ONNX export: tiny runs of every algorithm with a policy, trained through the CLI, exported
with ``imitate export`` and run by onnxruntime; the outputs match the torch policy to 1e-5.
The IBC loops of docs/export.md and the MuJoCo snippet of the README are run as written."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from imitate.algos.export import bc_policy
from imitate.cli import main
from imitate.registry import ALGOS, get_task
from imitate.runner import run_config
from imitate.utils.run import Run
from tests.conformance.test_algorithms import COMMON, TINY

ort = pytest.importorskip("onnxruntime")
ROOT = Path(__file__).resolve().parents[2]
# float32 through two runtimes (ONNX Runtime's kernels, torch's): they round differently, and by how
# much depends on the CPU's instruction set (a spectral-norm energy of magnitude 1.1 differed by
# 1.1e-5 on one Xeon, by less on another), so the bound is relative as well as absolute
TOL = 1e-5


def assert_close(mine, theirs) -> None:
    np.testing.assert_allclose(mine, theirs, rtol=TOL, atol=TOL)


# (algo, task, extra overrides): every algorithm whose registry entry exports
CASES = [
    ("ppo", "maze", []),
    ("near", "maze", []),
    ("amp", "pusht", []),
    ("deepmimic", "humanoid-walk", []),
    ("mse", "particle", []),
    ("mse", "block-push", ["history=2"]),
    ("mdn", "particle", []),
    ("ibc-dfo", "particle", []),
    ("ibc-langevin", "particle", []),
    ("ibc-langevin", "particle", ["spectral_norm=true"]),  # the paper preset's spectrally normalised net
    ("ibc-ardfo", "particle", []),
    ("bco", "particle", []),
    ("iidm", "maze", ["history=2"]),
]


def _train(tmp: Path, task: str, algo: str, extra: list[str]) -> Path:
    assert main(["train", task, algo, *TINY[algo], *COMMON, *extra, f"out_dir={tmp}"]) == 0
    (config,) = (tmp / task / algo).rglob("config.yaml")
    return config.parent


@pytest.fixture(scope="module")
def maze_energy(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("energy"), "maze", "energy", [])


def _observations(run: Run, n: int = 48) -> np.ndarray:
    """Observations the policy meets (a random-action rollout), and some far outside them, as
    the policy's input: the frame history a BC run with ``history=K`` is fed."""
    from imitate.algos.bc_common import policy_env

    cfg = run_config(run)
    env = policy_env(get_task(run.task), 8, cfg, seed=3)
    gen = torch.Generator().manual_seed(0)
    obs = [env.reset(seed=3)]
    while len(obs) * 8 < n:
        obs.append(env.step(torch.rand(8, env.act_dim, generator=gen) * 2 - 1).obs)
    seen = torch.cat(obs)[:n]
    return torch.cat([seen, seen[:8] * 50.0]).numpy().astype(np.float32)  # the normaliser's clip


def _export(run: Path, out: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["export", str(run), "--onnx", str(out)]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_algorithm_with_a_policy_is_exported_here():
    assert {a for a, _, _ in CASES} == {name for name, algo in ALGOS.items() if algo.export}
    assert {name for name, algo in ALGOS.items() if not algo.export} == {
        "energy",
        "cem",
        "world-model",
        "aime",
    }


@pytest.mark.parametrize("algo,task,extra", CASES, ids=[f"{a}-{t}{'-' + ''.join(e) if e else ''}" for a, t, e in CASES])
def test_onnx_matches_torch(algo, task, extra, tmp_path, capsys, request):
    if ALGOS[algo].needs_energy:
        extra = [*extra, f"energy={request.getfixturevalue('maze_energy')}"]
    run_dir = _train(tmp_path, task, algo, extra)
    out = tmp_path / "exported" / "policy.onnx"  # a folder that does not exist yet
    printed = _export(run_dir, out, capsys)
    assert printed["onnx"] == str(out) and printed["algo"] == algo
    session = ort.InferenceSession(str(out))
    meta = session.get_modelmeta().custom_metadata_map
    run = Run.open(run_dir)
    cfg = run_config(run)
    obs = _observations(run)
    assert meta["imitate.algo"] == algo and meta["imitate.task"] == task
    assert int(meta["imitate.obs_dim"]) == obs.shape[1]
    with torch.no_grad():
        if ALGOS[algo].export.endswith("export_ibc_ardfo"):
            assert meta["imitate.kind"] == "energy" and json.loads(meta["imitate.inference"])["method"] == "ardfo"
            check_ardfo_energies(session, bc_policy(run, get_task(task), cfg), obs)
            return
        if ALGOS[algo].export.endswith("export_ibc"):
            assert meta["imitate.kind"] == "energy" and printed["kind"] == "energy"
            check_energy(session, bc_policy(run, get_task(task), cfg), obs)
            return
        if ALGOS[algo].export.endswith("export_bc"):
            policy = bc_policy(run, get_task(task), cfg)
            expected = policy.act(torch.from_numpy(obs)).numpy()
            assert int(meta["imitate.history"]) == cfg.history
        else:
            from imitate.algos.ppo import load_policy

            expected = load_policy(run, get_task(task), cfg).act(torch.from_numpy(obs), deterministic=True).numpy()
    (action,) = session.run(["action"], {"obs": obs})
    assert meta["imitate.kind"] == "policy" and action.shape == expected.shape
    assert_close(action, expected)
    assert np.abs(action).max() <= 1.0


def check_energy(session, policy, obs: np.ndarray) -> None:
    """energy, ∂E/∂a (autograd in torch) and env-unit candidates against the torch policy."""
    from imitate.algos.ibc import energy_grad

    gen = torch.Generator().manual_seed(1)
    candidates = torch.rand(len(obs), 7, policy.act_dim, generator=gen) * 2 - 1
    obs_n = policy.normalizer.obs(torch.from_numpy(obs))
    energy, grad = energy_grad(policy.energy, obs_n, candidates)
    env_action = policy.normalizer.unaction(candidates).clamp(-1.0, 1.0)
    got = session.run(["energy", "grad", "env_action"], {"obs": obs, "actions": candidates.numpy()})
    for mine, theirs in zip(got, (energy, grad, env_action)):
        assert mine.shape == tuple(theirs.shape)
        assert_close(mine, theirs.detach().numpy())


def check_ardfo_energies(session, policy, obs: np.ndarray) -> None:
    """Column j of the exported energy is model j on the candidates' first j + 1 coordinates."""
    gen = torch.Generator().manual_seed(1)
    candidates = torch.rand(len(obs), 7, policy.act_dim, generator=gen) * 2 - 1
    obs_n = policy.normalizer.obs(torch.from_numpy(obs))
    energy, env_action = session.run(["energy", "env_action"], {"obs": obs, "actions": candidates.numpy()})
    for j, model in enumerate(policy.energies):
        assert_close(energy[..., j], model(obs_n, candidates[..., : j + 1]).numpy())
    assert_close(env_action, policy.normalizer.unaction(candidates).clamp(-1.0, 1.0).numpy())


@pytest.mark.parametrize("activation", ["relu", "elu", "tanh", "silu"])
def test_energy_gradient_is_autograds(activation):
    from imitate.algos.export import EnergyGradient
    from imitate.algos.ibc import energy_grad
    from imitate.models.ebm import EnergyModel

    torch.manual_seed(0)
    model = EnergyModel(5, 3, width=16, blocks=2, activation=activation).eval()
    obs, actions = torch.randn(4, 5), torch.rand(4, 6, 3) * 2 - 1
    e_ref, g_ref = energy_grad(model, obs, actions)
    with torch.no_grad():
        e, g = EnergyGradient(model)(obs, actions)
    assert torch.allclose(e, e_ref, atol=1e-6) and torch.allclose(g, g_ref, atol=1e-6)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize(
    "algo,loop", [("ibc-dfo", "dfo_action"), ("ibc-langevin", "langevin_action"), ("ibc-ardfo", "ardfo_action")]
)
def test_documented_ibc_loops_find_high_energy_actions(algo, loop, tmp_path, capsys):
    run_dir = _train(tmp_path, "particle", algo, [])
    _export(run_dir, tmp_path / "energy.onnx", capsys)
    session = ort.InferenceSession(str(tmp_path / "energy.onnx"))
    namespace: dict = {}
    for block in _python_blocks(ROOT / "docs" / "export.md"):
        exec(block, namespace)
    obs = _observations(Run.open(run_dir), 16)
    actions = namespace[loop](session, obs, np.random.default_rng(0))
    assert actions.shape == (len(obs), 2) and np.abs(actions).max() <= 1.0
    policy = bc_policy(Run.open(run_dir), get_task("particle"), run_config(Run.open(run_dir)))
    energy = policy.energies[-1] if algo == "ibc-ardfo" else policy.energy  # ARDFO's last scores whole actions
    with torch.no_grad():  # the search beats uniform guessing on the energy it searched
        found = energy(
            policy.normalizer.obs(torch.from_numpy(obs)), policy.normalizer.action(torch.from_numpy(actions))[:, None]
        )
        guess = energy(policy.normalizer.obs(torch.from_numpy(obs)), torch.rand(len(obs), 64, 2) * 2 - 1)
    assert float(found.mean()) > float(guess.mean())


def test_readme_mujoco_snippet_replays_the_env(tmp_path, capsys, monkeypatch):
    """The README's deployment snippet (mujoco + onnxruntime + numpy) steps Push-T as the env does."""
    from imitate.tasks.pusht import PushTEnv, place, pusht_xml

    run_dir = _train(tmp_path, "pusht", "ppo", [])
    _export(run_dir, tmp_path / "policy.onnx", capsys)
    (tmp_path / "pusht.xml").write_text(pusht_xml())
    (snippet,) = [b for b in _python_blocks(ROOT / "README.md") if "mj_step" in b and "onnxruntime" in b]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(snippet, namespace)
    data = namespace["data"]

    session = namespace["policy"]  # ONNX = torch is test_onnx_matches_torch's; here the physics
    env = PushTEnv(1)
    env.reset(seed=0)
    start = namespace["START"]
    place(env, 0, start[:2], start[2:])
    obs = env.observation()
    for _ in range(namespace["STEPS"]):
        (action,) = session.run(["action"], {"obs": obs.numpy()})
        step = env.step(torch.from_numpy(action))
        obs = step.obs
    q = data.qpos
    mine = np.array([q[0], q[1], q[2], q[3], np.sin(q[4]), np.cos(q[4])])
    assert np.abs(mine - step.final_obs[0].numpy()).max() < 1e-4  # the env's observations are float32
    assert np.abs(mine[:2] - start[:2]).max() > 1.0  # the policy moved the pusher


def test_bad_input_is_one_line(tmp_path, capsys, maze_energy):
    def refused(args, *words):
        capsys.readouterr()
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("imitate: error:"), err
        for word in words:
            assert word in err, err

    refused(["export", str(tmp_path / "nope"), "--onnx", str(tmp_path / "p.onnx")], "run directory not found")
    refused(["export", str(maze_energy), "--onnx", str(tmp_path / "p.onnx")], "'energy' runs have no policy", "ppo")
    assert not (tmp_path / "p.onnx").exists()
    run_dir = _train(tmp_path, "particle", "mse", [])
    refused(["export", str(run_dir), "--onnx", str(tmp_path)], "is a directory")
    blocker = tmp_path / "file"
    blocker.write_text("")
    refused(["export", str(run_dir), "--onnx", str(blocker / "p.onnx")], "cannot write there")
    refused(["export", str(run_dir)], "--onnx")


def test_missing_exporter_names_the_extra(tmp_path, capsys, monkeypatch):
    import importlib.util

    run_dir = _train(tmp_path, "particle", "mse", [])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    capsys.readouterr()
    assert main(["export", str(run_dir), "--onnx", str(tmp_path / "p.onnx")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'imitate[onnx]'" in err and "onnxscript" in err and err.count("\n") == 1
