"""Configs: dataclasses whose fields declare default, help and bounds; YAML presets; overrides.

Each algorithm's config sits beside its code (``algos/<name>_config.py``), each task's options
beside the task; this package holds only what they all share.
"""

from imitate.config.fields import ACTIVATIONS, Checked, ConfigError, NoOptions, bounds_text, check_fields, option
from imitate.config.files import load_yaml, preset, preset_file, preset_names
from imitate.config.overrides import (
    RENAMED,
    apply_overrides,
    describe,
    field_types,
    leaves,
    parse_overrides,
    parse_value,
    resolve_key,
    to_dict,
)
from imitate.config.run import RunConfig

__all__ = [
    "ACTIVATIONS",
    "RENAMED",
    "Checked",
    "ConfigError",
    "NoOptions",
    "RunConfig",
    "apply_overrides",
    "bounds_text",
    "check_fields",
    "describe",
    "field_types",
    "leaves",
    "load_yaml",
    "option",
    "parse_overrides",
    "parse_value",
    "preset",
    "preset_file",
    "preset_names",
    "resolve_key",
    "to_dict",
]
