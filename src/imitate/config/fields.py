"""Config fields: a default, one line of help and bounds, declared once in the field's metadata.

``check_fields`` checks every declared bound before any work starts, and ``imitate config``
prints them; ``check()`` methods hold only the rules that tie several fields together.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any


class ConfigError(ValueError):
    """A config key or value is invalid."""


ACTIVATIONS = ("elu", "relu", "tanh", "silu")


def option(
    default: Any,
    help: str = "",
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple[str, ...] | None = None,
    nonempty: bool = False,
) -> Any:
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
    ok = (
        (m.get("ge") is None or value >= m["ge"])
        and (m.get("gt") is None or value > m["gt"])
        and (m.get("le") is None or value <= m["le"])
        and (m.get("lt") is None or value < m["lt"])
    )
    if not ok:
        raise ConfigError(f"{name} must be {_bounds(m, words=True)}, got {_fmt(value)}")


def check_fields(cfg: Any) -> None:
    """Check every field of ``cfg`` against the bounds declared in its metadata; nested groups
    (``disc``, ``task``) are checked too, and their own ``check()`` runs."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            check_fields(value)
            if isinstance(value, Checked):
                value.check()
        elif isinstance(value, tuple):
            if f.metadata.get("nonempty") and not value:
                raise ConfigError(f"{f.name} must not be empty")
            for item in value:
                _check_value(f.name, item, f)
        else:
            _check_value(f.name, value, f)


class Checked:
    """Mixin: ``validate()`` = declared bounds of every field (and of nested groups), then the
    cross-field ``check()``."""

    def validate(self) -> None:
        check_fields(self)
        self.check()

    def check(self) -> None:
        pass


@dataclass
class NoOptions(Checked):
    """The options of a task that has none."""
