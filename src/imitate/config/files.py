"""Config files: the per-task YAML presets shipped with the package, and reading YAML mappings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imitate.config.fields import ConfigError


def preset(task: str, algo: str) -> dict[str, Any]:
    """The YAML preset for task/algo (``configs/<task>.yaml``, section ``<algo>``), if any. A file
    with ``inherit: OTHER`` starts from OTHER's section, its own keys on top (one level deep: a
    goal task starts from ``humanoid``'s presets)."""
    path = resources.files("imitate") / "configs" / f"{task}.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    base = preset(data["inherit"], algo) if data.get("inherit") else {}
    return {**base, **dict(data.get(algo) or {})}


def read_yaml(path: Path, error: type[Exception] = ConfigError) -> Any:
    """The YAML document in ``path``; invalid YAML or an unreadable file raises ``error``, one line."""
    try:
        return yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path}: not valid YAML ({first})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; a missing, unreadable or non-mapping file is a ConfigError."""
    if not path.is_file():
        raise ConfigError(f"no config.yaml in {path.parent} (is it a run directory?)")
    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of key: value, got {type(data).__name__}")
    return data
