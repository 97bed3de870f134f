"""Atomic file writes: a reader never sees half a file, a crash never leaves one behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)
TEMP_SUFFIX = ".tmp"  # every temp file is .NAME.XXXX.tmp[.ext]: what a killed writer leaves (Run cleans them)


@contextmanager
def atomic_path(path: str | Path, suffix: str = TEMP_SUFFIX) -> Iterator[Path]:
    """A temp path beside ``path`` to write to (by any writer, e.g. a video encoder); renamed over
    ``path`` when the block succeeds, removed when it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.chmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; the file gets what open() would give it
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write(path: str | Path, write: Callable[[Any], None], mode: str = "wb") -> Path:
    """Call ``write(file)`` on a temp file beside ``path``, then rename it over ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    return Path(path)


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write(path, lambda f: json.dump(obj, f, indent=2, sort_keys=True), mode="w")


def atomic_torch_save(path: str | Path, obj: Any) -> Path:
    import torch

    return atomic_write(path, lambda f: torch.save(obj, f))


def atomic_savefig(fig, path: str | Path, **kwargs: Any) -> Path:
    """``fig.savefig`` into a temp file renamed over ``path``; the format comes from ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=kwargs.pop("format", path.suffix[1:] or "png"), **kwargs)
    return path


def save_yaml(data: dict[str, Any], path: str | Path) -> Path:
    """Write a mapping as YAML, atomically."""
    import yaml

    text = yaml.safe_dump(data, sort_keys=True)
    return atomic_write(path, lambda f: f.write(text), mode="w")
