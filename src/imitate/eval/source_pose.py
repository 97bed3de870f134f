"""The pose error of a composed policy against each of its sources, restricted to the bodies of
that source's feature mask (docs/humanoid_imitation.md#composed-rewards): a walk-and-punch policy
is compared with the walk on the lower body and with the punch on the upper body.

Each source is a motion data set (its run's ``motion=``) and a mask (its run's ``mask=``). An
episode is compared with every clip of the data set from the clip's start, as many frames as the
episode lasted (a looping clip plays on; a one-shot clip stops at its end), by NEAR's DTW pose
error over the mask's bodies only, root-relative in each root's heading frame; the episode's
error against the source is the smallest over the clips: composition asks that the upper body
punch like some punch, not like one chosen clip window. DTW lets the two run at different
times, so the policy need not punch at the clip's moment.

Summaries as NEAR's protocol: over all episodes (``motion_pose_error_dtw_m_<label>``) and the 20
highest returns (``motion_top20_pose_error_dtw_m_<label>``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from imitate.data.motion import humanoid_model as hm
from imitate.eval import motion_metrics as mm
from imitate.tasks.humanoid.masks import ALL, MASK_BODIES


@dataclass(frozen=True)
class Source:
    """One composed term's data: its label, motion data set and feature mask."""

    label: str
    motion: str
    mask: str = ALL


def mask_body_indices(mask: str) -> tuple[int, ...] | None:
    """Indices into ``hm.BODY_NAMES`` of the bodies ``mask`` keeps (None: all)."""
    if mask == ALL:
        return None
    if mask not in MASK_BODIES:
        raise ValueError(f"unknown feature mask {mask!r}; masks: {ALL}, {', '.join(MASK_BODIES)}")
    return tuple(hm.BODY_NAMES.index(b) for b in MASK_BODIES[mask])


def clip_frames(motion: str, steps: int, dt_s: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every clip of the data set ``motion`` from its start at the control period ``dt_s``, at most
    ``steps`` frames (fewer for a shorter one-shot clip): (body positions (T, 15, 3), root quats (T, 4))."""
    from imitate.data.motion import resolve_motion
    from imitate.tasks.humanoid.common import clip_states_qpos

    lib = resolve_motion(motion).library()
    out = []
    for c in range(lib.num_clips):
        n = steps if lib.loop[c] else max(1, min(steps, math.ceil(lib.durations[c] / dt_s)))
        qpos, body = clip_states_qpos(lib, np.full(n, c), dt_s * np.arange(n))
        out.append((body, qpos[:, 3:7]))
    return out


def source_pose_errors(
    body: np.ndarray,
    root_quat: np.ndarray,
    alive: np.ndarray,
    returns: np.ndarray,
    dt_s: float,
    sources: Sequence[Source],
) -> dict[str, Any]:
    """Per source, the summary of each episode's smallest masked DTW pose error over the source's
    clips. ``body`` (N, T, 15, 3) and ``root_quat`` (N, T, 4) are the policy's states at the start
    of each step, ``alive`` (N, T) bool marks each episode's steps (a prefix)."""
    lengths = alive.sum(axis=1).astype(int)
    rows: list[dict[str, float]] = [{} for _ in range(len(body))]
    for source in sources:
        bodies = mask_body_indices(source.mask)
        clips = clip_frames(source.motion, int(max(lengths.max(), 1)), dt_s)
        for i, t in enumerate(lengths):
            if t == 0:
                continue
            errors = [
                mm.pose_error_dtw(
                    body[i, :t],
                    clip_body[: min(t, len(clip_body))],
                    policy_root_quat=root_quat[i, :t],
                    clip_root_quat=clip_quat[: min(t, len(clip_body))],
                    bodies=bodies,
                )
                for clip_body, clip_quat in clips
            ]
            rows[i][f"pose_error_dtw_m_{source.label}"] = min(errors)
    summary = mm.summarize(rows, returns)
    return {k: v for k, v in mm.flatten_summary(summary, "motion_").items() if "pose_error_dtw_m_" in k}
