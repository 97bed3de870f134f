"""One check for non-finite losses and gradients, shared by every trainer (PPO, DSM, AMP, BC).

A NaN or inf stops the run with one line naming the quantity and the iteration; the run layer
(``utils.run.guarded``) adds which checkpoint is kept. The checkpoint writer refuses non-finite
tensors (``utils.run``), so a NaN never reaches the last good checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch


class NonFiniteError(FloatingPointError):
    """A loss or gradient is NaN/inf. ``step`` (1-based iteration) and ``kept`` (the iteration of
    the checkpoint that stays) are filled in by the layers that know them."""

    def __init__(self, what: str, step: int | None = None, kept: str | None = None):
        super().__init__(what)
        self.what, self.step, self.kept = what, step, kept

    def __str__(self) -> str:
        text = self.what if self.step is None else f"{self.what} at iteration {self.step}"
        return text if self.kept is None else f"{text}; {self.kept}"


@contextmanager
def at_iteration(step: int) -> Iterator[None]:
    """Attribute a NonFiniteError raised inside to iteration ``step`` unless it names one."""
    try:
        yield
    except NonFiniteError as exc:
        if exc.step is None:
            exc.step = step
        raise


def check_loss(loss: torch.Tensor, name: str) -> None:
    if not torch.isfinite(loss.detach()).all():
        raise NonFiniteError(f"{name} is not finite ({loss.detach().float().mean().item()})")


def check_grads(params: Iterable[torch.nn.Parameter], name: str, max_norm: float | None = None) -> float:
    """Clip the gradient norm to ``max_norm`` (None: no clipping) and refuse a non-finite one.

    Without clipping, the norm is only measured, so the update is exactly the unclipped one."""
    params = [p for p in params if p.grad is not None]
    if max_norm is not None:
        try:
            norm = torch.nn.utils.clip_grad_norm_(params, max_norm, error_if_nonfinite=True)
        except RuntimeError:
            raise NonFiniteError(f"gradient of {name} is not finite") from None
        return float(norm)
    norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
    if not torch.isfinite(norm):
        raise NonFiniteError(f"gradient of {name} is not finite")
    return float(norm)


def backward_step(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    params: Iterable[torch.nn.Parameter],
    name: str,
    max_norm: float | None = None,
) -> None:
    """Check the loss, backpropagate, check (and clip) the gradient, step: nothing non-finite
    ever reaches the weights."""
    check_loss(loss, name)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    check_grads(params, name, max_norm)
    optimizer.step()


def first_non_finite(obj, path: str = "", skip: tuple[str, ...] = ()) -> str | None:
    """The path of the first floating tensor in nested dicts/lists holding NaN/inf, else None;
    entries under a dict key in ``skip`` are not looked at."""
    if isinstance(obj, torch.Tensor):
        return path or "tensor" if obj.is_floating_point() and not torch.isfinite(obj).all() else None
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for key, value in items:
        if key in skip:
            continue
        found = first_non_finite(value, f"{path}.{key}" if path else str(key), skip)
        if found is not None:
            return found
    return None
