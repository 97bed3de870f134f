"""``key=value`` overrides: parsed by the field's declared type, into nested groups by dotted keys.

A config may hold groups (a dataclass-valued field: the task's options under ``task``, AMP's
discriminator under ``disc``). A key is either a full dotted path (``disc.lr=1e-4``) or, where it
is unambiguous, a short form: a top-level field wins (``lr`` is PPO's), else a leaf name found in
exactly one group (``n_dim`` is ``task.n_dim``). An ambiguous short key is refused with its
dotted choices, an unknown key with the valid ones, and a renamed key with its new name.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import fields
from typing import Any

from imitate.config.fields import ConfigError, bounds_text

# Keys that changed name: old -> new. A CLI override with an old name is refused naming the new
# one; a run's own config.yaml written before the change is read with the new names.
RENAMED: dict[str, str] = {
    "disc_hidden": "disc.hidden",
    "disc_lr": "disc.lr",
    "disc_batch_size": "disc.batch_size",
    "disc_updates": "disc.updates",
    "disc_weight_decay": "disc.weight_decay",
    "success_absorbing": "absorbing_success",  # AMP's; now the one rule of rewards/compose.py
}  # (w_gp, logit_reg, replay_size moved into disc too; their short form still resolves)

# Keys added later whose default changed what a run does: key -> the value that reproduces runs
# made before it. A run's own config.yaml without the key is read with that value, so `imitate
# eval` of an older run evaluates it the way it was trained.
ADDED: dict[str, Any] = {
    "reference_on_frames": False,  # tracking: RSI at any clip time, as before RSI on clip frames
}


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
        value = tuple(
            float(v) if item is float and isinstance(v, int) and not isinstance(v, bool) else v for v in value
        )
        ok = all(isinstance(v, item) and not (item is int and isinstance(v, bool)) for v in value)
    if not ok:
        raise ConfigError(f"{key} expects {_type_name(expected)}, got {value!r}")
    return value


def leaves(cfg: Any, prefix: str = "") -> dict[str, tuple[dataclasses.Field, Any]]:
    """Every leaf field of ``cfg`` by dotted path -> (field, annotated type); groups recursed."""
    out: dict[str, tuple[dataclasses.Field, Any]] = {}
    types_ = field_types(type(cfg))
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(leaves(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = (f, types_[f.name])
    return out


def resolve_key(key: str, paths: dict[str, Any], context: str) -> str:
    """The dotted path a (short or full) key names; a ConfigError if none or several."""
    if key in paths:
        return key
    if key in RENAMED:
        raise ConfigError(f"{key!r} was renamed to {RENAMED[key]!r} (in {context})")
    matches = [p for p in paths if p.rsplit(".", 1)[-1] == key]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"key {key!r} is ambiguous for {context}; use one of: {', '.join(sorted(matches))}")
    raise ConfigError(f"unknown key {key!r} for {context}; valid keys: {', '.join(sorted(paths))}")


def flatten(overrides: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings (a YAML group ``disc: {lr: ...}``) as dotted keys."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def _replace(cfg: Any, path: list[str], value: Any) -> Any:
    head = path[0]
    if len(path) == 1:
        return dataclasses.replace(cfg, **{head: value})
    return dataclasses.replace(cfg, **{head: _replace(getattr(cfg, head), path[1:], value)})


def apply_overrides(cfg: Any, overrides: dict[str, Any], context: str, migrate: bool = False) -> Any:
    """A copy of ``cfg`` with ``overrides`` applied (strings parsed; other values type-checked).
    ``migrate`` reads a run's own, older config.yaml: renamed keys under their new names, keys
    added since with the value the run had (``ADDED``)."""
    paths = leaves(cfg)
    flat = flatten(overrides)
    if migrate:
        given = {k.rsplit(".", 1)[-1] for k in flat}
        leaf_names = {p.rsplit(".", 1)[-1] for p in paths}
        flat = {**{k: v for k, v in ADDED.items() if k not in given and k in leaf_names}, **flat}
    for key, value in flat.items():
        if migrate and key in RENAMED:
            key = RENAMED[key]
        try:
            path = resolve_key(key, paths, context)
            tp = paths[path][1]
            if isinstance(value, str) and tp is not str and tp is not Any:
                value = parse_value(key, value, tp)
            value = _check_type(key, value, tp) if tp is not Any else value
        except ConfigError as exc:
            if "valid keys" in str(exc) or "ambiguous" in str(exc) or "renamed" in str(exc):
                raise
            raise ConfigError(f"{exc} (in {context}); valid keys: {', '.join(sorted(paths))}") from None
        cfg = _replace(cfg, path.split("."), value)
    return cfg


def describe(cfg: Any) -> list[tuple[str, str, str, str, str]]:
    """(key, type, value, bounds, help) of every leaf, dotted keys for groups: what
    ``imitate config`` prints."""
    rows = []
    for path, (f, tp) in sorted(leaves(cfg).items()):
        value = cfg
        for part in path.split("."):
            value = getattr(value, part)
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        rows.append((path, _type_name(tp), shown, bounds_text(f), f.metadata.get("help", "")))
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


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain YAML-able data: groups nested, tuples as lists."""

    def plain(value: Any) -> Any:
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(cfg))
