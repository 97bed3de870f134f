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
    clip_ratio: float = 0.2  # PPO ratio clip (not `clip`: tasks use that key for a motion clip)
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
    success_bonus: float = 0.0  # added to the reward on success terminations (PPO baseline of NEAR's absorbing success)

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
    # Ours differs from SPEC §1 on purpose (docs/near.md): SPEC's tanh((E - m)/10) with the
    # original constant is `normalise_energy=false energy_scale=10 absorbing_success=false`.
    energy_scale: float = 1.0  # r = tanh((E - m) / energy_scale)  [× rollout energy std if normalise_energy]
    normalise_energy: bool = True  # divide E - m by the recent rollouts' energy std too
    absorbing_success: bool = True  # a success is worth r_energy = 1 for ever after: gamma/(1-gamma)


@dataclass
class BCConfig(RunConfig):
    """Behavioural cloning on (observation, action) demos: MSE regression or a mixture density net."""
    demos: str = ""  # demonstration file with actions; empty: generate oracle demos into the run
    demo_episodes: int = 2000  # oracle episodes when demos is empty
    iterations: int = 10_000  # gradient steps
    batch_size: int = 256
    lr: float = 1e-3
    lr_decay: float = 0.1  # cosine decay of the learning rate to lr * lr_decay at the last step
    weight_decay: float = 0.0
    width: int = 256  # ResNet MLP width
    blocks: int = 2  # pre-activation residual blocks (2 linear layers each)
    activation: str = "relu"
    dropout: float = 0.0
    mdn_components: int = 8  # mdn only
    checkpoint_every: int = 1000  # iterations
    eval_episodes: int = 100  # rollouts at the end of training (success rate)

    def validate(self) -> None:
        super().validate()
        for name in ("demo_episodes", "iterations", "batch_size", "width", "blocks", "mdn_components",
                     "checkpoint_every", "eval_episodes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr <= 0 or not 0 <= self.lr_decay <= 1:
            raise ConfigError(f"lr must be positive and lr_decay in [0, 1], got {self.lr}, {self.lr_decay}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.activation not in ("elu", "relu", "tanh", "silu"):
            raise ConfigError(f"activation must be one of elu, relu, tanh, silu, got {self.activation!r}")


@dataclass
class IBCConfig(BCConfig):
    """Implicit BC (SPEC §5): an energy E(o, a) trained by InfoNCE; actions by DFO or Langevin."""
    counter_examples: int = 64  # negatives per sample, uniform in the normalised action box
    temperature: float = 1.0  # InfoNCE logits are E / temperature
    langevin_negatives: bool = False  # refine counter-examples by Langevin MCMC (+ gradient penalty)
    inference: str = "dfo"  # dfo | langevin
    dfo_samples: int = 1024
    dfo_iterations: int = 3
    dfo_noise: float = 0.33  # initial resampling noise (normalised action units), shrunk each iteration
    dfo_shrink: float = 0.5
    dfo_select: str = "argmax"  # argmax | sample: the action taken from the final DFO population
    langevin_steps: int = 50  # MCMC steps at inference
    langevin_train_steps: int = 25  # MCMC steps for training counter-examples
    langevin_samples: int = 256  # chains per observation at inference
    langevin_step_init: float = 0.1  # step size decays polynomially from init to final
    langevin_step_final: float = 1e-5
    langevin_power: float = 2.0
    langevin_noise: float = 1.0  # scale of the injected Gaussian noise
    langevin_grad_clip: float = 1.0  # per-component clip of dE/da (0: none)
    langevin_delta_clip: float = 0.1  # per-step move clip, normalised action units
    grad_penalty: float = 1.0  # weight of the gradient penalty on Langevin negatives
    grad_margin: float = 1.0  # penalise max(0, ||dE/da||_inf - margin)^2

    def validate(self) -> None:
        super().validate()
        if self.inference not in ("dfo", "langevin"):
            raise ConfigError(f"inference must be 'dfo' or 'langevin', got {self.inference!r}")
        if self.dfo_select not in ("argmax", "sample"):
            raise ConfigError(f"dfo_select must be 'argmax' or 'sample', got {self.dfo_select!r}")
        for name in ("counter_examples", "dfo_samples", "dfo_iterations", "langevin_steps",
                     "langevin_train_steps", "langevin_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.temperature <= 0 or self.langevin_step_init <= 0 or self.langevin_step_final < 0:
            raise ConfigError("temperature and langevin_step_init must be positive, langevin_step_final ≥ 0")


@dataclass
class IBCLangevinConfig(IBCConfig):
    """IBC with Langevin-refined counter-examples and Langevin inference (algo ``ibc-langevin``)."""
    langevin_negatives: bool = True
    inference: str = "langevin"


@dataclass
class AMPConfig(PPOConfig):
    """AMP: PPO on a discriminator's style reward (plus a weighted task reward), SPEC §3."""
    demos: str = ""  # demonstration file; empty: generate oracle demos into the run
    demo_episodes: int = 600  # oracle episodes when demos is empty
    w_task: float = 0.5
    w_style: float = 0.5
    disc_hidden: tuple[int, ...] = (1024, 512)
    disc_lr: float = 1e-4
    disc_batch_size: int = 512  # expert pairs (and as many policy pairs) per discriminator step
    disc_updates: int = 10  # discriminator steps per rollout
    w_gp: float = 10.0  # gradient penalty on expert pairs (10 maze/Push-T, 5 humanoid)
    logit_reg: float = 0.05  # weight of ‖last-layer weights‖²
    disc_weight_decay: float = 1e-4
    replay_size: int = 100_000  # past policy pairs kept for the discriminator
    style_offset: float = 0.0  # r_style = r_amp − style_offset; log 2 ≈ 0.693 centres it (docs/amp_cem.md)
    success_absorbing: bool = False  # on success terminations add w_style·r_style·γ/(1−γ) (docs/amp_cem.md)

    def validate(self) -> None:
        super().validate()
        for name in ("demo_episodes", "disc_batch_size", "disc_updates", "replay_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.disc_hidden or min(self.disc_hidden) < 1:
            raise ConfigError(f"disc_hidden must be positive layer sizes, got {self.disc_hidden}")
        if self.disc_lr <= 0:
            raise ConfigError(f"disc_lr must be positive, got {self.disc_lr}")
        for name in ("w_gp", "logit_reg", "disc_weight_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be ≥ 0, got {getattr(self, name)}")


@dataclass
class CEMConfig(RunConfig):
    """CEM model-predictive control scoring sampled action sequences by a NEAR energy (SPEC §1)."""
    energy: str = ""  # the energy run directory (NEAR step 1) whose model scores plans
    eval_episodes: int = 20  # episodes planned (in parallel) when the run is made; planning is costly
    horizon: int = 8  # actions per planned sequence
    samples: int = 160  # candidate sequences per planning env per iteration
    elite_frac: float = 0.1  # top fraction refitted each iteration
    iterations: int = 3  # CEM refits per real step
    init_std: float = 0.5  # sampling std of a fresh plan (actions live in [-1, 1])
    min_std: float = 0.05
    level: int = -1  # noise level of the energy; -1: the last (smallest σ)
    w_energy: float = 1.0  # score = w_energy·Σ E(pair, σ) + w_task·Σ r_task over the horizon
    w_task: float = 0.0
    max_steps: int = 0  # real steps per episode; 0: the task's episode cap

    def validate(self) -> None:
        super().validate()
        for name in ("eval_episodes", "horizon", "samples", "iterations"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.elite_frac <= 1 or self.elite_frac * self.samples < 1:
            raise ConfigError(f"elite_frac must be in (0, 1] and keep ≥ 1 of {self.samples} samples, "
                              f"got {self.elite_frac}")
        if self.init_std <= 0 or self.min_std < 0:
            raise ConfigError("init_std must be positive and min_std ≥ 0")
        if self.max_steps < 0:
            raise ConfigError(f"max_steps must be ≥ 0, got {self.max_steps}")


_MERGED: dict[tuple[type, type], type] = {}


def with_task_fields(cls: type, task_fields: type | None) -> type:
    """``cls`` extended with a task's own config fields (e.g. ``n_dim``, ``clip``), so that they
    are flat ``key=value`` keys of every run on that task. The merged class is cached so runs
    opened later get the same type."""
    if task_fields is None:
        return cls
    key = (cls, task_fields)
    if key not in _MERGED:
        clash = {f.name for f in fields(task_fields)} & {g.name for g in fields(cls)}
        if clash:  # a silently shadowed option would be ignored: refuse it
            raise ConfigError(f"task options {sorted(clash)} clash with {cls.__name__} fields; rename them")
        hints = typing.get_type_hints(task_fields)
        extra = [(f.name, hints[f.name], dataclasses.field(default=f.default) if f.default is not dataclasses.MISSING
                  else dataclasses.field(default_factory=f.default_factory)) for f in fields(task_fields)
                 if f.name not in {g.name for g in fields(cls)}]
        namespace = {"__module__": cls.__module__}
        merged = dataclasses.make_dataclass(f"{cls.__name__}With{task_fields.__name__}", extra,
                                            bases=(cls,), namespace=namespace)
        if hasattr(task_fields, "validate"):
            def validate(self, _base=cls.validate, _task=task_fields.validate):
                _base(self)
                _task(self)
            merged.validate = validate
        _MERGED[key] = merged
    return _MERGED[key]


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
