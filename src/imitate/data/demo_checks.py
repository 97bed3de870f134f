"""Demonstrations checked against the run that reads them: task, task options and sizes.

Used before a run starts (``inputs.py``) and by the algorithms that load demos (below both).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from imitate.data.dataset import DatasetError, Demonstrations


@dataclass(frozen=True)
class EnvDims:
    obs_dim: int
    act_dim: int
    style_dim: int
    max_episode_steps: int


def load_demos_for(
    task: Any,
    cfg: Any,
    dims: EnvDims | None = None,
    need_actions: bool = False,
    needed_by: str = "behavioural cloning",
    source: str | None = None,
) -> Demonstrations:
    """The file ``cfg.demos`` (or ``source``: BCO's embodiment data), checked against the run:
    task, the task options it was made with (e.g. the particle's goal_order; not those the
    options class lists in ``DEMOS_MAY_DIFFER``, e.g. block pushing's success tolerance, which
    the file and the run's config each record), and, given ``dims``, observation and action
    sizes (``need_actions``: an 'actions' array too, which the algorithm ``needed_by`` learns
    from)."""
    source = cfg.demos if source is None else source
    demos = Demonstrations.load(source, task=task.name)
    options = cfg.task_options
    may_differ = getattr(options, "DEMOS_MAY_DIFFER", ())
    for field in dataclasses.fields(options):
        recorded = demos.metadata.get(field.name)
        if field.name not in may_differ and recorded is not None and recorded != getattr(options, field.name):
            raise DatasetError(
                f"{source}: demonstrations were made with {field.name}={recorded}, "
                f"the run has {field.name}={getattr(options, field.name)}"
            )
    if dims is not None:
        obs_dim = dims.style_dim if getattr(task, "demo_group", "policy") == "style" else dims.obs_dim
        check_demo_sizes(demos, obs_dim, dims.act_dim, f"{source}", task.name, need_actions, needed_by)
    return demos


def check_demo_sizes(
    demos: Demonstrations,
    obs_dim: int,
    act_dim: int,
    where: str,
    task_name: str,
    need_actions: bool = False,
    needed_by: str = "behavioural cloning",
) -> None:
    """Observation and action sizes must be the task's (another n_dim, another task...)."""
    if demos.obs.shape[1] != obs_dim:
        raise DatasetError(
            f"{where}: observations have {demos.obs.shape[1]} numbers, task {task_name!r} observes {obs_dim}"
        )
    if need_actions and demos.actions is None:
        raise DatasetError(f"{where}: no 'actions' array; {needed_by} learns from (observation, action) pairs")
    if demos.actions is not None and demos.actions.shape[1] != act_dim:
        raise DatasetError(
            f"{where}: actions have {demos.actions.shape[1]} numbers, task {task_name!r} acts with {act_dim}"
        )
