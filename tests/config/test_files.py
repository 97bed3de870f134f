"""Config files: named presets (``preset=NAME``, ``configs/<task>.<name>.yaml``) resolve to the
published settings they name, replace the task's default preset, and bad names fail in one line."""

import pytest

from imitate.config import ConfigError, preset_names
from imitate.runner import resolve_config

# The IBC paper's particle settings (Florence et al. 2021, appendices B and D) and IBC's released
# particle Langevin config, as docs/ibc.md#presets-the-papers-and-the-released-settings lists them.
OPTIMISER = {"lr": 1e-3, "lr_schedule": "exponential", "lr_decay_steps": 100, "lr_decay_rate": 0.99}
LANGEVIN = {
    "langevin_negatives": True,
    "inference": "langevin",
    "langevin_step_init": 0.1,
    "langevin_step_final": 1e-5,
    "langevin_power": 2.0,
    "langevin_delta_clip": 0.1,
    "grad_margin": 1.0,
}
FACTS = {
    ("ibc-langevin", "paper"): {
        **OPTIMISER,
        **LANGEVIN,
        "iterations": 50_000,
        "batch_size": 128,
        "history": 2,
        "width": 128,
        "blocks": 8,  # 16 dense layers
        "spectral_norm": True,
        "dropout": 0.0,
        "counter_examples": 64,
        "langevin_train_steps": 50,
        "langevin_steps": 50,
    },
    ("mse", "paper"): {
        **OPTIMISER,
        "iterations": 100_000,
        "batch_size": 512,
        "history": 2,
        "width": 128,
        "blocks": 8,
        "dropout": 0.1,
        "spectral_norm": False,
    },
    ("ibc-langevin", "released"): {
        **OPTIMISER,
        **LANGEVIN,
        "iterations": 100_000,
        "batch_size": 512,
        "history": 2,
        "width": 256,
        "blocks": 1,  # depth 2
        "counter_examples": 8,
        "langevin_train_steps": 100,
        "langevin_steps": 100,
        "langevin_samples": 512,
    },
}


@pytest.mark.parametrize("algo,name", sorted(FACTS), ids=[f"{a}-{n}" for a, n in sorted(FACTS)])
def test_named_particle_presets_hold_the_published_settings(algo, name):
    cfg = resolve_config("particle", algo, {"preset": name}, check_inputs=False)
    got = {key: getattr(cfg, key) for key in FACTS[algo, name]}
    assert got == FACTS[algo, name]
    assert cfg.preset == name


def test_a_named_preset_replaces_the_default_one_and_overrides_still_win():
    default = resolve_config("particle", "ibc-langevin", {}, check_inputs=False)
    assert (default.temperature, default.langevin_samples) == (0.1, 64)  # configs/particle.yaml
    paper = resolve_config("particle", "ibc-langevin", {"preset": "paper"}, check_inputs=False)
    assert (paper.temperature, paper.lr_decay) == (1.0, 0.1)  # the config's defaults, not particle.yaml's
    mine = resolve_config("particle", "ibc-langevin", {"preset": "paper", "iterations": "20"}, check_inputs=False)
    assert (mine.iterations, mine.width, mine.blocks) == (20, 128, 8)


def test_bad_preset_names_are_refused_in_one_line():
    assert preset_names("particle") == ["paper", "released"]
    with pytest.raises(ConfigError, match=r"task 'particle' has no preset 'papr'; its presets: paper, released"):
        resolve_config("particle", "mse", {"preset": "papr"}, check_inputs=False)
    with pytest.raises(ConfigError, match=r"particle.released.yaml has no section for 'mse'; it has: ibc-langevin"):
        resolve_config("particle", "mse", {"preset": "released"}, check_inputs=False)
    with pytest.raises(ConfigError, match="task 'maze' has no preset 'paper'; it has no named presets"):
        resolve_config("maze", "ppo", {"preset": "paper"}, check_inputs=False)
