"""Configs: dataclasses with defaults, per-task YAML presets, and ``key=value`` overrides.

Keys are flat (``lr=3e-4``, not ``ppo.lr=...``) so every field of a run is one word on the
command line. Overrides are parsed by the field's declared type; an unknown key or a value of
the wrong type raises ``ConfigError`` with the list of valid keys.

Every field is declared with ``option(default, help, ...bounds)``: its bounds live in the
field's metadata, are checked by one function (``check_fields``) before any work starts, and
are what ``imitate config TASK ALGO`` prints. ``check()`` methods hold only the rules that tie
several fields together.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config key or value is invalid."""


# The noise-level ladders of the NCSN versions (models/energy.py); here so configs can bound
# level indices without importing torch. A test checks they agree with the model.
NCSN_LEVELS = {"v2": 50, "v1": 10}
ACTIVATIONS = ("elu", "relu", "tanh", "silu")


def option(default: Any, help: str = "", *, ge: float | None = None, gt: float | None = None,
           le: float | None = None, lt: float | None = None, choices: tuple[str, ...] | None = None,
           nonempty: bool = False) -> Any:
    """A config field: default, one-line help, and bounds (for tuples: bounds of every item)."""
    meta = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "nonempty": nonempty}
    return dataclasses.field(default=default, metadata=meta)


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


_ONE_SIDED = {"ge": ("≥", "at least"), "gt": (">", "greater than"), "le": ("≤", "at most"), "lt": ("<", "less than")}


def _bounds(m: Any, words: bool) -> str:
    """Declared bounds as ``in (0, 1]``, ``≥ 1`` (``words``: ``at least 1``), ``one of a, b``."""
    if m.get("choices"):
        return "one of " + ", ".join(m["choices"])
    given = [k for k in ("ge", "gt", "le", "lt") if m.get(k) is not None]
    if len(given) == 2:
        lo, hi = given
        return f"in {'[' if lo == 'ge' else '('}{_fmt(m[lo])}, {_fmt(m[hi])}{']' if hi == 'le' else ')'}"
    if given:
        symbol, phrase = _ONE_SIDED[given[0]]
        return f"{phrase if words else symbol} {_fmt(m[given[0]])}"
    return ""


def bounds_text(f: dataclasses.Field) -> str:
    """The field's bounds as ``imitate config`` shows them, e.g. ``≥ 1``, ``in (0, 1]``."""
    return _bounds(f.metadata, words=False)


def _check_value(name: str, value: Any, f: dataclasses.Field) -> None:
    m = f.metadata
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")
    if m.get("choices") and value not in m["choices"]:
        raise ConfigError(f"{name} must be one of {', '.join(m['choices'])}, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    ok = ((m.get("ge") is None or value >= m["ge"]) and (m.get("gt") is None or value > m["gt"])
          and (m.get("le") is None or value <= m["le"]) and (m.get("lt") is None or value < m["lt"]))
    if not ok:
        raise ConfigError(f"{name} must be {_bounds(m, words=True)}, got {_fmt(value)}")


def check_fields(cfg: Any) -> None:
    """Check every field of ``cfg`` against the bounds declared in its metadata."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, tuple):
            if f.metadata.get("nonempty") and not value:
                raise ConfigError(f"{f.name} must not be empty")
            for item in value:
                _check_value(f.name, item, f)
        else:
            _check_value(f.name, value, f)


class Checked:
    """Mixin: ``validate()`` = declared bounds of every field, then the cross-field ``check()``."""

    def validate(self) -> None:
        check_fields(self)
        self.check()

    def check(self) -> None:
        pass


@dataclass
class RunConfig(Checked):
    """Fields every run has."""
    seed: int = option(0, "random seed of everything in the run", ge=0, le=2**31 - 1)
    out_dir: str = option("runs", "runs land in out_dir/<task>/<algo>/<timestamp>-<seed>/")
    device: str = option("cpu", "torch device: cpu, cuda or cuda:N")
    resume: str = option("", "a run directory to continue from its last checkpoint")
    progress: bool = option(True, "show a progress bar")

    def check(self) -> None:
        if self.device not in ("cpu", "cuda") and not (self.device.startswith("cuda:") and self.device[5:].isdigit()):
            raise ConfigError(f"device must be 'cpu' or 'cuda[:N]', got {self.device!r}")
        if self.device != "cpu":
            import torch
            if not torch.cuda.is_available():
                raise ConfigError(f"device={self.device} but this machine has no CUDA device (torch "
                                  f"{torch.__version__} sees none); use device=cpu")
            index = int(self.device[5:] or 0) if ":" in self.device else 0
            if index >= torch.cuda.device_count():
                raise ConfigError(f"device={self.device} but only {torch.cuda.device_count()} CUDA device(s) exist")


@dataclass
class PPOConfig(RunConfig):
    """PPO on batched envs (CleanRL-style; every hyperparameter visible)."""
    num_envs: int = option(256, "envs stepped in parallel", ge=1)
    rollout_steps: int = option(32, "env steps per env per iteration", ge=1)
    total_steps: int = option(2_000_000, "env steps (all envs) to train for", ge=1)
    lr: float = option(3e-4, "Adam learning rate", gt=0)
    anneal_lr: bool = option(False, "decay the learning rate linearly to 0")
    gamma: float = option(0.99, "discount", gt=0, le=1)
    gae_lambda: float = option(0.95, "GAE λ", ge=0, le=1)
    epochs: int = option(5, "passes over each rollout", ge=1)
    minibatches: int = option(4, "minibatches per epoch", ge=1)
    clip_ratio: float = option(0.2, "PPO ratio clip (not `clip`: tasks use that key for a motion clip)", gt=0)
    value_clip: float = option(0.0, "value clipping range; 0 disables it", ge=0)
    ent_coef: float = option(0.0, "entropy bonus weight", ge=0)
    vf_coef: float = option(0.5, "value loss weight", ge=0)
    max_grad_norm: float = option(0.5, "gradient norm clip", gt=0)
    hidden: tuple[int, ...] = option((256, 256), "actor and critic hidden layer sizes", ge=1, nonempty=True)
    activation: str = option("elu", "hidden activation", choices=ACTIVATIONS)
    init_log_std: float = option(-0.5, "initial log-std of the Gaussian policy", ge=-20, le=2)
    learn_log_std: bool = option(True, "False keeps the log-std fixed at init_log_std")
    norm_obs: bool = option(True, "normalise observations by running statistics")
    norm_value: bool = option(True, "normalise value targets by running statistics")
    checkpoint_every: int = option(20, "iterations between checkpoints", ge=1)
    eval_episodes: int = option(100, "episodes for the evaluation at the end of training", ge=1)

    def check(self) -> None:
        super().check()
        batch = self.num_envs * self.rollout_steps
        if batch % self.minibatches or self.minibatches > batch:
            raise ConfigError(f"num_envs*rollout_steps ({batch}) must divide into minibatches={self.minibatches}")


@dataclass
class TaskPPOConfig(PPOConfig):
    """Plain PPO on the task reward (algo ``ppo``), optionally with NEAR's success value added."""
    success_bonus: float = option(0.0, "added to the reward on success terminations (the PPO baseline of "
                                  "NEAR's absorbing success, docs/near.md)", ge=0)


@dataclass
class EnergyConfig(RunConfig):
    """NEAR step 1: an NCSN energy model of expert transitions by denoising score matching."""
    demos: str = option("", "demonstration file; empty: generate oracle demos into the run")
    demo_episodes: int = option(600, "oracle episodes when demos is empty", ge=1)
    version: str = option("v2", "v2: E = f(x)/sigma (default); v1: level embedding (ablation)",
                          choices=tuple(NCSN_LEVELS))
    iterations: int = option(20_000, "gradient steps", ge=1)
    batch_size: int = option(128, "transitions per step", ge=1)
    lr: float = option(1e-4, "Adam learning rate", gt=0)
    ema_decay: float = option(0.999, "decay of the EMA weights used as the model", ge=0, lt=1)
    hidden: tuple[int, ...] = option((512, 512), "encoder/decoder layer sizes", ge=1, nonempty=True)
    checkpoint_every: int = option(2000, "iterations between checkpoints", ge=1)


@dataclass
class NEARConfig(PPOConfig):
    """NEAR step 2: PPO on the annealed energy reward (plus a weighted task reward)."""
    energy: str = option("", "the energy run directory from step 1; empty: run step 1 first")
    w_task: float = option(0.5, "weight of the task reward", ge=0)
    w_energy: float = option(0.5, "weight of the energy reward", ge=0)
    fixed_level: int = option(-1, "-1: adaptive annealing; otherwise the noise-level index to use "
                              f"(< {NCSN_LEVELS['v2']} for v2, < {NCSN_LEVELS['v1']} for v1)",
                              ge=-1, lt=max(NCSN_LEVELS.values()))
    # Ours differs from SPEC §1 on purpose (docs/near.md): SPEC's tanh((E - m)/10) with the
    # original constant is `normalise_energy=false energy_scale=10 absorbing_success=false`.
    energy_scale: float = option(1.0, "r = tanh((E - m) / energy_scale) [× rollout energy std if "
                                 "normalise_energy]", gt=0)
    normalise_energy: bool = option(True, "divide E - m by the recent rollouts' energy std too")
    absorbing_success: bool = option(True, "a success is worth r_energy = 1 for ever after: gamma/(1-gamma)")

    def check(self) -> None:
        super().check()
        if self.w_task + self.w_energy <= 0:
            raise ConfigError("w_task + w_energy must be positive")


@dataclass
class BCConfig(RunConfig):
    """Behavioural cloning on (observation, action) demos: MSE regression or a mixture density net."""
    demos: str = option("", "demonstration file with actions; empty: generate oracle demos into the run")
    demo_episodes: int = option(2000, "oracle episodes when demos is empty", ge=1)
    iterations: int = option(10_000, "gradient steps", ge=1)
    batch_size: int = option(256, "samples per step", ge=1)
    lr: float = option(1e-3, "learning rate", gt=0)
    lr_decay: float = option(0.1, "cosine decay of the learning rate to lr * lr_decay at the last step",
                             ge=0, le=1)
    weight_decay: float = option(0.0, "AdamW weight decay", ge=0)
    width: int = option(256, "ResNet MLP width", ge=1)
    blocks: int = option(2, "pre-activation residual blocks (2 linear layers each)", ge=1)
    activation: str = option("relu", "hidden activation", choices=ACTIVATIONS)
    dropout: float = option(0.0, "dropout probability", ge=0, lt=1)
    mdn_components: int = option(8, "mixture components (mdn only)", ge=1)
    history: int = option(1, "observation frames the policy sees, oldest first; the first frame is tiled "
                          "at reset, as IBC does", ge=1, le=64)
    checkpoint_every: int = option(1000, "iterations between checkpoints", ge=1)
    eval_episodes: int = option(100, "rollouts at the end of training (success rate)", ge=1)


@dataclass
class IBCConfig(BCConfig):
    """Implicit BC (SPEC §5): an energy E(o, a) trained by InfoNCE; actions by DFO or Langevin."""
    counter_examples: int = option(64, "negatives per sample, uniform in the normalised action box", ge=1)
    temperature: float = option(1.0, "InfoNCE logits are E / temperature", gt=0)
    langevin_negatives: bool = option(False, "refine counter-examples by Langevin MCMC (+ gradient penalty)")
    inference: str = option("dfo", "how actions are chosen", choices=("dfo", "langevin"))
    dfo_samples: int = option(1024, "DFO population", ge=1)
    dfo_iterations: int = option(3, "DFO resampling rounds", ge=1)
    dfo_noise: float = option(0.33, "initial resampling noise (normalised action units), shrunk each iteration",
                              ge=0)
    dfo_shrink: float = option(0.5, "factor applied to the DFO noise each iteration", gt=0, le=1)
    dfo_select: str = option("argmax", "the action taken from the final DFO population",
                             choices=("argmax", "sample"))
    langevin_steps: int = option(50, "MCMC steps at inference", ge=1)
    langevin_train_steps: int = option(25, "MCMC steps for training counter-examples", ge=1)
    langevin_samples: int = option(256, "chains per observation at inference", ge=1)
    langevin_step_init: float = option(0.1, "step size decays polynomially from init to final", gt=0)
    langevin_step_final: float = option(1e-5, "final Langevin step size", ge=0)
    langevin_power: float = option(2.0, "power of the step-size decay", ge=0)
    langevin_noise: float = option(1.0, "scale of the injected Gaussian noise", ge=0)
    langevin_grad_clip: float = option(1.0, "per-component clip of dE/da (0: none)", ge=0)
    langevin_delta_clip: float = option(0.1, "per-step move clip, normalised action units", ge=0)
    grad_penalty: float = option(1.0, "weight of the gradient penalty on Langevin negatives", ge=0)
    grad_margin: float = option(1.0, "penalise max(0, ||dE/da||_inf - margin)^2", ge=0)


@dataclass
class IBCLangevinConfig(IBCConfig):
    """IBC with Langevin-refined counter-examples and Langevin inference (algo ``ibc-langevin``)."""
    langevin_negatives: bool = option(True, "refine counter-examples by Langevin MCMC (+ gradient penalty)")
    inference: str = option("langevin", "how actions are chosen", choices=("dfo", "langevin"))


@dataclass
class AMPConfig(PPOConfig):
    """AMP: PPO on a discriminator's style reward (plus a weighted task reward), SPEC §3."""
    demos: str = option("", "demonstration file; empty: generate oracle demos into the run")
    demo_episodes: int = option(600, "oracle episodes when demos is empty", ge=1)
    w_task: float = option(0.5, "weight of the task reward", ge=0)
    w_style: float = option(0.5, "weight of the style reward", ge=0)
    disc_hidden: tuple[int, ...] = option((1024, 512), "discriminator layer sizes", ge=1, nonempty=True)
    disc_lr: float = option(1e-4, "discriminator learning rate", gt=0)
    disc_batch_size: int = option(512, "expert pairs (and as many policy pairs) per discriminator step", ge=1)
    disc_updates: int = option(10, "discriminator steps per rollout", ge=1)
    w_gp: float = option(10.0, "gradient penalty on expert pairs (10 maze/Push-T, 5 humanoid)", ge=0)
    logit_reg: float = option(0.05, "weight of ‖last-layer weights‖²", ge=0)
    disc_weight_decay: float = option(1e-4, "discriminator weight decay", ge=0)
    replay_size: int = option(100_000, "past policy pairs kept for the discriminator", ge=1)
    style_offset: float = option(0.0, "r_style = r_amp − style_offset; log 2 ≈ 0.693 centres it (docs/amp_cem.md)")
    absorbing_success: bool = option(False, "on success terminations add w_style·r_style·γ/(1−γ) (docs/amp_cem.md)")

    def check(self) -> None:
        super().check()
        if self.w_task + self.w_style <= 0:
            raise ConfigError("w_task + w_style must be positive")


@dataclass
class CEMConfig(RunConfig):
    """CEM model-predictive control scoring sampled action sequences by a NEAR energy (SPEC §1)."""
    energy: str = option("", "the energy run directory (NEAR step 1) whose model scores plans")
    eval_episodes: int = option(20, "episodes planned (in parallel) when the run is made; planning is costly", ge=1)
    horizon: int = option(8, "actions per planned sequence", ge=1)
    samples: int = option(160, "candidate sequences per planning env per iteration", ge=1)
    elite_frac: float = option(0.1, "top fraction refitted each iteration", gt=0, le=1)
    iterations: int = option(3, "CEM refits per real step", ge=1)
    init_std: float = option(0.5, "sampling std of a fresh plan (actions live in [-1, 1])", gt=0)
    min_std: float = option(0.05, "floor of the sampling std", ge=0)
    level: int = option(-1, "noise level of the energy; -1: the last (smallest σ)", ge=-1,
                        lt=max(NCSN_LEVELS.values()))
    w_energy: float = option(1.0, "score = w_energy·Σ E(pair, σ) + w_task·Σ r_task over the horizon", ge=0)
    w_task: float = option(0.0, "weight of the task reward in the plan score", ge=0)
    max_steps: int = option(0, "real steps per episode; 0: the task's episode cap", ge=0)

    def check(self) -> None:
        super().check()
        if self.elite_frac * self.samples < 1:
            raise ConfigError(f"elite_frac must keep ≥ 1 of {self.samples} samples, got {self.elite_frac}")


_MERGED: dict[tuple[type, type], type] = {}


def _task_check(task_fields: type) -> Any:
    """The cross-field rule of a task options class (``check``, or a plain ``validate``)."""
    if issubclass(task_fields, Checked):
        return task_fields.check
    return getattr(task_fields, "validate", lambda self: None)


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
        extra = [(f.name, hints[f.name], dataclasses.field(default=f.default, metadata=f.metadata)
                  if f.default is not dataclasses.MISSING
                  else dataclasses.field(default_factory=f.default_factory, metadata=f.metadata))
                 for f in fields(task_fields)]

        def check(self, _base=cls.check, _task=_task_check(task_fields)):
            _base(self)
            _task(self)
        merged = dataclasses.make_dataclass(f"{cls.__name__}With{task_fields.__name__}", extra, bases=(cls,),
                                            namespace={"__module__": cls.__module__, "check": check})
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
    except (ValueError, TypeError, StopIteration, OverflowError):
        pass
    name = getattr(tp, "__name__", str(tp))
    raise ConfigError(f"{key} expects {name}, got {raw!r}")


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is tuple:
        return f"{typing.get_args(tp)[0].__name__},..."
    return getattr(tp, "__name__", str(tp))


def _check_type(key: str, value: Any, expected: Any) -> Any:
    """``value`` (from YAML or code) as the field's type, or a ConfigError."""
    if isinstance(value, list):
        value = tuple(value)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    base = typing.get_origin(expected) or expected
    ok = _is_optional(expected) or (isinstance(value, base) and not (base is int and isinstance(value, bool)))
    if ok and base is tuple:
        item = typing.get_args(expected)[0]
        value = tuple(float(v) if item is float and isinstance(v, int) and not isinstance(v, bool) else v
                      for v in value)
        ok = all(isinstance(v, item) and not (item is int and isinstance(v, bool)) for v in value)
    if not ok:
        raise ConfigError(f"{key} expects {_type_name(expected)}, got {value!r}")
    return value


# Keys that were renamed: the old name fails with one line naming the new one (not silently ignored).
RENAMED_KEYS = {"success_absorbing": "absorbing_success"}  # AMP's, now the one rule of rewards/compose.py


def apply_overrides(cfg: Any, overrides: dict[str, Any], context: str) -> Any:
    """Return a copy of ``cfg`` with overrides (strings are parsed; other values checked)."""
    types_ = field_types(type(cfg))
    changes = {}
    for key, value in overrides.items():
        if key in RENAMED_KEYS and key not in types_:
            raise ConfigError(f"{key!r} was renamed to {RENAMED_KEYS[key]!r} (in {context})")
        if key not in types_:
            raise ConfigError(f"unknown key {key!r} for {context}; valid keys: {', '.join(sorted(types_))}")
        try:
            if isinstance(value, str) and types_[key] is not str:
                value = parse_value(key, value, types_[key])
            changes[key] = _check_type(key, value, types_[key])
        except ConfigError as exc:
            raise ConfigError(f"{exc} (in {context}); valid keys: {', '.join(sorted(types_))}") from None
    return dataclasses.replace(cfg, **changes)


def describe(cfg: Any) -> list[tuple[str, str, str, str, str]]:
    """(key, type, value, bounds, help) of every field: what ``imitate config`` prints."""
    types_ = field_types(type(cfg))
    rows = []
    for f in sorted(fields(cfg), key=lambda f: f.name):
        value = getattr(cfg, f.name)
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        rows.append((f.name, _type_name(types_[f.name]), shown, bounds_text(f), f.metadata.get("help", "")))
    return rows


def parse_overrides(args: list[str]) -> dict[str, str]:
    out = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected key=value, got {arg!r}")
        if key.strip() in out:
            raise ConfigError(f"key {key.strip()!r} given twice")
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
    """A YAML mapping from ``path``; a missing, unreadable or non-mapping file is a ConfigError."""
    if not path.is_file():
        raise ConfigError(f"no config.yaml in {path.parent} (is it a run directory?)")
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not valid YAML ({first})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of key: value, got {type(data).__name__}")
    return data
