"""Config overrides: types, unknown keys, validation, presets."""
import pytest

from imitate.config import ConfigError, NEARConfig, PPOConfig, apply_overrides, parse_overrides
from imitate.runner import resolve_config


def test_overrides_parse_by_type():
    cfg = apply_overrides(NEARConfig(), parse_overrides(
        ["num_envs=64", "lr=1e-3", "norm_obs=false", "hidden=64,32", "energy=runs/x", "fixed_level=3"]), "t")
    assert (cfg.num_envs, cfg.lr, cfg.norm_obs, cfg.hidden, cfg.energy, cfg.fixed_level) == (
        64, 1e-3, False, (64, 32), "runs/x", 3)


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown key 'nope'.*valid keys: .*num_envs"):
        apply_overrides(PPOConfig(), {"nope": "1"}, "t")


@pytest.mark.parametrize("key, value", [("num_envs", "abc"), ("num_envs", "1.5"), ("lr", "fast"),
                                        ("norm_obs", "maybe"), ("hidden", "a,b")])
def test_wrong_type_is_refused_with_valid_keys(key, value):
    with pytest.raises(ConfigError, match=rf"{key} expects .*valid keys"):
        apply_overrides(PPOConfig(), {key: value}, "t")


def test_validation():
    with pytest.raises(ConfigError, match="num_envs must be at least 1"):
        resolve_config("maze", "ppo", {"num_envs": "0"})
    with pytest.raises(ConfigError, match="version"):
        resolve_config("maze", "energy", {"version": "v3"})
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["num_envs"])


def test_preset_then_override():
    cfg = resolve_config("maze", "near", {"seed": "4"})
    assert cfg.seed == 4 and cfg.w_task == 0.5 and cfg.w_energy == 0.5


def test_task_fields_merge_into_run_configs():
    from dataclasses import dataclass

    from imitate.config import PPOConfig, apply_overrides, with_task_fields

    @dataclass
    class Options:
        n_dim: int = 2

        def validate(self):
            if self.n_dim < 1:
                raise ConfigError(f"n_dim must be at least 1, got {self.n_dim}")

    cls = with_task_fields(PPOConfig, Options)
    assert with_task_fields(PPOConfig, Options) is cls  # cached: reopened runs get the same type
    cfg = apply_overrides(cls(), {"n_dim": "4", "lr": "1e-3"}, "test")
    assert (cfg.n_dim, cfg.lr) == (4, 1e-3)
    with pytest.raises(ConfigError, match="n_dim must be at least 1"):
        apply_overrides(cls(), {"n_dim": "0"}, "test").validate()
    with pytest.raises(ConfigError, match="valid keys: .*n_dim"):
        apply_overrides(cls(), {"n_dimm": "3"}, "test")
