"""Configs: dataclasses with defaults, per-task YAML presets, and ``key=value`` overrides.

Keys are flat (``lr=3e-4``, not ``ppo.lr=...``) so every field of a run is one word on the
command line. Overrides are parsed by the field's declared type; an unknown key or a value of
the wrong type raises ``ConfigError`` with the list of valid keys.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config key or value is invalid."""


@dataclass
class RunConfig:
    """Fields every run has."""
    seed: int = 0
    out_dir: str = "runs"  # runs land in out_dir/<task>/<algo>/<timestamp>-<seed>/
    device: str = "cpu"
    resume: str = ""  # a run directory to continue from its last checkpoint
    progress: bool = True  # show a progress bar

    def validate(self) -> None:
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")


@dataclass
class PPOConfig(RunConfig):
    """PPO on batched envs (CleanRL-style; every hyperparameter visible)."""
    num_envs: int = 256
    rollout_steps: int = 32  # env steps per env per iteration
    total_steps: int = 2_000_000  # env steps (all envs) to train for
    lr: float = 3e-4
    anneal_lr: bool = False
    gamma: float = 0.99
    gae_lambda: float = 0.95
    epochs: int = 5
    minibatches: int = 4
    clip: float = 0.2
    value_clip: float = 0.0  # 0 disables value clipping
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "elu"
    init_log_std: float = -0.5
    learn_log_std: bool = True  # False keeps the log-std fixed at init_log_std
    norm_obs: bool = True
    norm_value: bool = True
    checkpoint_every: int = 20  # iterations
    eval_episodes: int = 100  # episodes for the evaluation at the end of training

    def validate(self) -> None:
        super().validate()
        for name in ("num_envs", "rollout_steps", "total_steps", "epochs", "minibatches", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if (self.num_envs * self.rollout_steps) % self.minibatches:
            raise ConfigError(f"num_envs*rollout_steps ({self.num_envs * self.rollout_steps}) must divide into minibatches={self.minibatches}")
        if not 0 < self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ConfigError("gamma must be in (0, 1] and gae_lambda in [0, 1]")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if self.activation not in ("elu", "relu", "tanh", "silu"):
            raise ConfigError(f"activation must be one of elu, relu, tanh, silu, got {self.activation!r}")


@dataclass
class EnergyConfig(RunConfig):
    """NEAR step 1: an NCSN energy model of expert transitions by denoising score matching."""
    demos: str = ""  # demonstration file; empty: generate oracle demos into the run
    demo_episodes: int = 600  # oracle episodes when demos is empty
    version: str = "v2"  # v2: E = f(x)/sigma (default); v1: level embedding (ablation)
    iterations: int = 20_000
    batch_size: int = 128
    lr: float = 1e-4
    ema_decay: float = 0.999
    hidden: tuple[int, ...] = (512, 512)
    checkpoint_every: int = 2000  # iterations

    def validate(self) -> None:
        super().validate()
        if self.version not in ("v1", "v2"):
            raise ConfigError(f"version must be 'v1' or 'v2', got {self.version!r}")
        for name in ("iterations", "batch_size", "demo_episodes", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")


@dataclass
class NEARConfig(PPOConfig):
    """NEAR step 2: PPO on the annealed energy reward (plus a weighted task reward)."""
    energy: str = ""  # the energy run directory from step 1; empty: run step 1 first
    w_task: float = 0.5
    w_energy: float = 0.5
    fixed_level: int = -1  # -1: adaptive annealing; otherwise the noise-level index to use
    energy_scale: float = 10.0  # r = tanh((E - m) / energy_scale)


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def parse_value(key: str, raw: str, tp: Any) -> Any:
    """Parse the string ``raw`` as the annotated type ``tp`` of field ``key``."""
    try:
        if _is_optional(tp):
            if raw.lower() in ("none", "null", ""):
                return None
            tp = next(t for t in typing.get_args(tp) if t is not type(None))
        if tp is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            value = float(raw)
            if not value.is_integer():
                raise ValueError
            return int(value)
        if tp is float:
            return float(raw)
        if tp is str:
            return raw
        if typing.get_origin(tp) is tuple:
            item = typing.get_args(tp)[0]
            return tuple(parse_value(key, part, item) for part in raw.strip("()[] ").split(",") if part.strip())
    except (ValueError, TypeError, StopIteration):
        pass
    name = getattr(tp, "__name__", str(tp))
    raise ConfigError(f"{key} expects {name}, got {raw!r}")


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def apply_overrides(cfg: Any, overrides: dict[str, Any], context: str) -> Any:
    """Return a copy of ``cfg`` with overrides (strings are parsed; other values checked)."""
    types_ = field_types(type(cfg))
    changes = {}
    for key, value in overrides.items():
        if key not in types_:
            raise ConfigError(f"unknown key {key!r} for {context}; valid keys: {', '.join(sorted(types_))}")
        if isinstance(value, str) and types_[key] is not str:
            try:
                value = parse_value(key, value, types_[key])
            except ConfigError as exc:
                raise ConfigError(f"{exc}; valid keys: {', '.join(sorted(types_))}") from None
        elif isinstance(value, list):
            value = tuple(value)
        elif types_[key] is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = types_[key]
        base = typing.get_origin(expected) or expected
        if not _is_optional(expected) and not isinstance(value, base):
            raise ConfigError(f"{key} expects {getattr(expected, '__name__', expected)}, got {value!r}; "
                              f"valid keys: {', '.join(sorted(types_))}")
        changes[key] = value
    return dataclasses.replace(cfg, **changes)


def parse_overrides(args: list[str]) -> dict[str, str]:
    out = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r}")
        out[key.strip()] = value.strip()
    return out


def preset(task: str, algo: str) -> dict[str, Any]:
    """The YAML preset for task/algo (``configs/<task>.yaml``, section ``<algo>``), if any."""
    path = resources.files("imitate") / "configs" / f"{task}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return dict(data.get(algo) or {})


def to_dict(cfg: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}


def save_yaml(data: dict[str, Any], path: Path) -> None:
    from imitate.utils.io import atomic_write
    text = yaml.safe_dump(data, sort_keys=True)
    atomic_write(path, lambda f: f.write(text), mode="w")


def load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"no config.yaml in {path.parent} (is it a run directory?)")
    return yaml.safe_load(path.read_text()) or {}
