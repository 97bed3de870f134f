"""Config files: the per-task YAML presets shipped with the package, and reading YAML mappings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from imitate.config.fields import ConfigError


def preset_file(task: str, name: str = "") -> str:
    """Where task's preset lives, relative to the package: ``configs/<task>.yaml``, or
    ``configs/<task>.<name>.yaml`` for the named preset ``name`` (``preset=paper``)."""
    return f"configs/{task}.{name}.yaml" if name else f"configs/{task}.yaml"


def preset_names(task: str) -> list[str]:
    """The named presets shipped for ``task`` (``configs/<task>.<name>.yaml``)."""
    configs = resources.files("imitate") / "configs"
    prefix = f"{task}."
    return sorted(
        f.name[len(prefix) : -len(".yaml")]
        for f in configs.iterdir()
        if f.name.startswith(prefix) and f.name.endswith(".yaml") and f.name != f"{task}.yaml"
    )


def preset(task: str, algo: str, name: str = "") -> dict[str, Any]:
    """The YAML preset for task/algo: section ``<algo>`` of ``configs/<task>.yaml`` (empty if
    none), or of the named preset's file, which replaces it; a named preset that does not exist,
    or has no section for ``algo``, is a ConfigError naming what does. A file with ``inherit:
    OTHER`` starts from OTHER's default section, its own keys on top (one level deep: a goal task
    starts from ``humanoid``'s presets)."""
    path = resources.files("imitate").joinpath(preset_file(task, name))
    if not path.is_file():
        if not name:
            return {}
        names = preset_names(task)
        have = f"its presets: {', '.join(names)}" if names else "it has no named presets"
        raise ConfigError(f"preset={name}: task {task!r} has no preset {name!r}; {have}")
    data = yaml.safe_load(path.read_text()) or {}
    if name and algo not in data:
        raise ConfigError(
            f"preset={name}: {preset_file(task, name)} has no section for {algo!r}; it has: {', '.join(data)}"
        )
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
