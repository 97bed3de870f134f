"""Checkpoint contents that ``torch.load(weights_only=True)`` can read back.

The safe loader rebuilds only tensors and plain python values, so a checkpoint from elsewhere
cannot run code. What else a trainer saves is converted on save and back on load: numpy arrays
(env states, numpy's RNG state) become a tagged tensor, numpy scalars python numbers, deques
lists. Tuples survive as they are.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

_ARRAY = "__ndarray__"
_WIDEN = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}  # dtypes torch lacks ops for


def encode(obj: Any) -> Any:
    """``obj`` with every numpy value replaced by something the safe loader accepts."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"cannot checkpoint a numpy array of dtype {obj.dtype}")
        wide = obj.astype(_WIDEN.get(obj.dtype, obj.dtype))
        return {_ARRAY: torch.from_numpy(np.ascontiguousarray(wide).copy()), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, deque):
        return [encode(v) for v in obj]
    return _map(obj, encode)


def decode(obj: Any) -> Any:
    """The inverse of ``encode``: tagged tensors back to numpy arrays of their dtype."""
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY, "dtype"}:
            return obj[_ARRAY].numpy().astype(np.dtype(obj["dtype"]))
    return _map(obj, decode)


def _map(obj: Any, f) -> Any:
    """``f`` applied to the items of a dict/list/tuple; the container itself when nothing changed
    (a module's state dict keeps its type and ``_metadata``)."""
    if isinstance(obj, dict):
        new = {k: f(v) for k, v in obj.items()}
        return obj if all(new[k] is v for k, v in obj.items()) else new
    if isinstance(obj, (list, tuple)):
        items = [f(v) for v in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return tuple(items) if isinstance(obj, tuple) else items
    return obj
