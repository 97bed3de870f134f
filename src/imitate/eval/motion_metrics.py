"""Motion-quality metrics of humanoid episodes, as NEAR reports them (docs/humanoid_metrics.md).

Pure numpy functions of positions sampled at the control rate (30 Hz on the humanoid):

- ``pose_error_dtw``: dynamic-time-warping distance between root-relative body positions of a
  policy episode and of the clip, divided by the number of bodies (NEAR's "average pose error");
- ``root_kinematics``: mean root speed, acceleration and jerk magnitudes over an episode, by
  forward finite differences of the root position;
- ``sparc``: spectral arc length of a speed profile (Balasubramanian et al. 2012, 2015);
  ``root_velocity_sparc`` applies it to the root velocity as NEAR does (per axis, averaged) or to
  the root speed;
- ``distance_travelled_m``, ``path_length_m``, ``fall_rate``;
- ``episode_metrics`` (all of the above for one episode), ``top_k_by_return`` and ``summarize``:
  NEAR's protocol reports the mean over the 20 episodes with the highest accumulated reward; we
  report it beside the mean over all episodes.

Conventions: positions in m, world Z-up; time series have time on axis -2 and xyz on axis -1
((..., T, 3)); ``dt_s`` is the sampling interval in s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from imitate.utils import rotations as rot

# SPARC parameters (Balasubramanian et al. 2015's recommended values, also NEAR's): zero padding
# to 2**(ceil(log2 T) + 4) samples, maximum cut-off 10 Hz, amplitude threshold 0.05.
SPARC_PAD_LEVEL = 4
SPARC_FC_MAX_HZ = 10.0
SPARC_AMP_THRESHOLD = 0.05
TOP_K = 20  # NEAR: metrics over the 20 environments with the highest accumulated reward
MIN_FRAMES = 4  # a jerk needs four positions


# -- smoothness ------------------------------------------------------------------------------
def sparc(
    speed: np.ndarray,
    dt_s: float,
    pad_level: int = SPARC_PAD_LEVEL,
    fc_max_hz: float = SPARC_FC_MAX_HZ,
    amp_threshold: float = SPARC_AMP_THRESHOLD,
) -> np.ndarray:
    """Spectral arc length (dimensionless, ≤ 0; nearer 0 is smoother) of profiles ``speed`` (..., T).

    Definition (Balasubramanian, Melendez-Calderon, Roby-Brami & Burdet 2015, "On the analysis of
    movement smoothness"): with V̂(f) = |V(f)| / max |V| the normalised magnitude spectrum of the
    profile, zero-padded to 2**(ceil(log2 T) + pad_level) samples, and the adaptive cut-off
    f_c = min(fc_max_hz, the highest frequency at which V̂ ≥ amp_threshold),

        SPARC = -∫_0^{f_c} sqrt((1/f_c)² + (dV̂/df)²) df,

    the length of the curve V̂ over the frequency axis rescaled to [0, 1], computed as the
    polyline through the FFT bins 0 … f_c. Amplitude and duration change nothing (for f_c <
    fc_max_hz). For a speed profile (≥ 0) max |V| = V(0), the paper's normaliser; the max also
    serves NEAR's per-axis use on signed velocity components. Frequencies above Nyquist
    (1 / (2 dt_s)) do not exist, so fc_max_hz is capped there. Batched over leading dims; NaN
    where a profile is all zero or not finite. Returns an array of the leading shape (a 0-d array,
    usable as a float, for one profile)."""
    x = np.asarray(speed, dtype=np.float64)
    n = x.shape[-1]
    if n < 2:
        raise ValueError(f"sparc needs at least 2 samples, got {n}")
    nfft = 2 ** (int(np.ceil(np.log2(n))) + pad_level)
    mag = np.abs(np.fft.rfft(x, nfft, axis=-1))
    freq = np.fft.rfftfreq(nfft, dt_s)
    peak = mag.max(axis=-1, keepdims=True)
    valid = (peak[..., 0] > 0) & np.isfinite(peak[..., 0])
    mag = mag / np.where(valid[..., None], peak, 1.0)
    band = freq <= fc_max_hz
    mag, freq = mag[..., band], freq[band]
    above = mag >= amp_threshold
    last = above.shape[-1] - 1 - np.argmax(above[..., ::-1], axis=-1)  # highest bin still above
    fc = freq[last]
    valid &= last > 0
    seg = np.sqrt((np.diff(freq) / np.where(valid, fc, 1.0)[..., None]) ** 2 + np.diff(mag, axis=-1) ** 2)
    keep = np.arange(seg.shape[-1]) < last[..., None]
    return np.where(valid, -(seg * keep).sum(axis=-1), np.nan)


# -- root kinematics -------------------------------------------------------------------------
def finite_difference(x: np.ndarray, dt_s: float, order: int = 1) -> np.ndarray:
    """``order``-th forward difference of ``x`` (..., T, D) along time, divided by dt_s**order:
    (..., T - order, D). Forward differences are NEAR's (and exact for polynomials of degree
    ``order``: a cubic's third difference is its constant third derivative)."""
    x = np.asarray(x, dtype=np.float64)
    return np.diff(x, n=order, axis=-2) / dt_s**order


def root_kinematics(root_pos_m: np.ndarray, dt_s: float) -> dict[str, np.ndarray]:
    """Episode means of the root's speed (m/s), acceleration (m/s²) and jerk (m/s³) magnitudes
    from positions ``root_pos_m`` (..., T, 3) sampled every ``dt_s``: the Euclidean norm of the
    1st, 2nd, 3rd forward differences, averaged over the T-1, T-2, T-3 values (NEAR's definition).
    Jerk scales as dt⁻³ on noise and kinks, so compare only at one sampling rate."""
    root_pos_m = np.asarray(root_pos_m, dtype=np.float64)
    if root_pos_m.shape[-2] < MIN_FRAMES:
        raise ValueError(f"root kinematics need at least {MIN_FRAMES} frames, got {root_pos_m.shape[-2]}")
    vel = finite_difference(root_pos_m, dt_s, 1)
    acc = finite_difference(root_pos_m, dt_s, 2)
    jerk = finite_difference(root_pos_m, dt_s, 3)
    norm = lambda a: np.linalg.norm(a, axis=-1).mean(axis=-1)  # noqa: E731
    return {"root_speed_m_s": norm(vel), "root_acc_m_s2": norm(acc), "root_jerk_m_s3": norm(jerk)}


def root_velocity_sparc(root_pos_m: np.ndarray, dt_s: float, mode: str = "axes", **sparc_kw: Any) -> np.ndarray:
    """SPARC of the root velocity (forward differences of ``root_pos_m`` (..., T, 3)).

    ``mode="axes"``: SPARC of each velocity component (x, y, z), averaged: NEAR's computation,
    the one its expert values (docs/tasks.md#humanoid-imitation) come from (a component that is identically zero is
    left out). ``mode="speed"``: SPARC of the speed ‖v‖, the
    standard use of the measure on a speed profile."""
    vel = finite_difference(root_pos_m, dt_s, 1)
    if mode == "axes":
        per_axis = sparc(np.moveaxis(vel, -1, -2), dt_s, **sparc_kw)  # (..., 3)
        ok = np.isfinite(per_axis)  # an axis without motion (all zero) has no spectrum to measure
        total = np.where(ok, per_axis, 0.0).sum(axis=-1)
        return np.where(ok.any(axis=-1), total / np.maximum(ok.sum(axis=-1), 1), np.nan)
    if mode == "speed":
        return sparc(np.linalg.norm(vel, axis=-1), dt_s, **sparc_kw)
    raise ValueError(f"mode must be 'axes' or 'speed', got {mode!r}")


def distance_travelled_m(root_pos_m: np.ndarray) -> np.ndarray:
    """Net horizontal displacement (m) of the root from the first to the last frame, (..., T, 3) -> (...)."""
    p = np.asarray(root_pos_m, dtype=np.float64)
    return np.linalg.norm(p[..., -1, :2] - p[..., 0, :2], axis=-1)


def path_length_m(root_pos_m: np.ndarray) -> np.ndarray:
    """Horizontal path length (m) of the root: the sum of its frame-to-frame horizontal steps."""
    p = np.asarray(root_pos_m, dtype=np.float64)
    return np.linalg.norm(np.diff(p[..., :2], axis=-2), axis=-1).sum(axis=-1)


def fall_rate(fell: np.ndarray | Sequence[bool]) -> float:
    """Fraction of episodes that ended in a fall (a failure termination)."""
    f = np.asarray(fell, dtype=np.float64)
    return float(f.mean()) if f.size else float("nan")


# -- pose error ------------------------------------------------------------------------------
def root_relative(body_pos_m: np.ndarray, root_index: int = 0, root_quat: np.ndarray | None = None) -> np.ndarray:
    """Body positions minus the root's (T, B, 3), on the world axes (NEAR), or, with the root
    orientations ``root_quat`` (T, 4) (w, x, y, z), in the root's heading frame (turned by minus
    the root's yaw), which makes the error blind to the direction the character faces."""
    p = np.asarray(body_pos_m, dtype=np.float64)
    rel = p - p[..., root_index : root_index + 1, :]
    if root_quat is None:
        return rel
    inv_heading = rot.quat_conj(rot.heading_quat(np.asarray(root_quat, dtype=np.float64)))
    return rot.quat_rotate(np.broadcast_to(inv_heading[..., None, :], rel.shape[:-1] + (4,)), rel)


def pose_error_dtw(
    policy_body_pos_m: np.ndarray,
    clip_body_pos_m: np.ndarray,
    root_index: int = 0,
    policy_root_quat: np.ndarray | None = None,
    clip_root_quat: np.ndarray | None = None,
    bodies: Sequence[int] | None = None,
) -> float:
    """NEAR's average pose error (m·√frames): the DTW distance between the root-relative body
    positions of a policy episode (T1, B, 3) and of the clip (T2, B, 3), each frame flattened to
    3B numbers, divided by the number of bodies B.

    DTW(X, Y) = sqrt(min over warping paths π of Σ_{(i,j)∈π} ‖X_i − Y_j‖²) (the same as
    tslearn's ``dtw``, which NEAR uses; computed by dtaidistance's C ``dtw_ndim.distance`` with no
    window, pruning or penalty). It grows like √(path length): compare episodes of equal length.
    Root-relative on the world axes (NEAR) unless both root orientations are given, then in each
    root's heading frame (``root_relative``). ``bodies``: only these body indices count (a
    feature mask's bodies), B being their number; the root is still the origin."""
    if (policy_root_quat is None) != (clip_root_quat is None):
        raise ValueError("give both root orientations (heading frame) or neither (world axes)")
    a = root_relative(policy_body_pos_m, root_index, policy_root_quat)
    b = root_relative(clip_body_pos_m, root_index, clip_root_quat)
    if a.ndim != 3 or b.ndim != 3 or a.shape[1:] != b.shape[1:]:
        raise ValueError(f"body positions must be (T, B, 3) with the same B, got {a.shape} and {b.shape}")
    if bodies is not None:
        a, b = a[:, list(bodies)], b[:, list(bodies)]
    from dtaidistance import dtw_ndim

    flat = lambda x: np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.double)  # noqa: E731
    return float(dtw_ndim.distance(flat(a), flat(b), use_c=True)) / a.shape[1]


# -- one episode and the summary -----------------------------------------------------------
def episode_metrics(
    root_pos_m: np.ndarray,
    dt_s: float,
    body_pos_m: np.ndarray | None = None,
    clip_body_pos_m: np.ndarray | None = None,
    fell: bool = False,
    **pose_kw: Any,
) -> dict[str, float]:
    """Every metric of one episode: root positions (T, 3) at ``dt_s``; with the episode's body
    positions (T, B, 3) and the clip's (T', B, 3), the DTW pose error (``pose_kw`` go to
    ``pose_error_dtw``). Kinematics and SPARC are NaN for episodes shorter than ``MIN_FRAMES``."""
    root_pos_m = np.asarray(root_pos_m, dtype=np.float64)
    t = len(root_pos_m)
    out: dict[str, float] = {"frames": float(t), "fell": float(bool(fell))}
    if t >= MIN_FRAMES:
        out.update({k: float(v) for k, v in root_kinematics(root_pos_m, dt_s).items()})
        out["sparc_root_vel_axes"] = float(root_velocity_sparc(root_pos_m, dt_s, "axes"))
        out["sparc_root_speed"] = float(root_velocity_sparc(root_pos_m, dt_s, "speed"))
    else:
        nan = float("nan")
        out.update(root_speed_m_s=nan, root_acc_m_s2=nan, root_jerk_m_s3=nan)
        out.update(sparc_root_vel_axes=nan, sparc_root_speed=nan)
    out["distance_m"] = float(distance_travelled_m(root_pos_m)) if t else float("nan")
    out["path_length_m"] = float(path_length_m(root_pos_m)) if t else float("nan")
    if body_pos_m is not None and clip_body_pos_m is not None and t and len(clip_body_pos_m):
        out["pose_error_dtw_m"] = pose_error_dtw(body_pos_m, clip_body_pos_m, **pose_kw)
    return out


def top_k_by_return(returns: np.ndarray | Sequence[float], k: int = TOP_K) -> np.ndarray:
    """Indices of the ``k`` highest returns (all when there are fewer), highest first, ties by
    index (NEAR ranks its environments by accumulated learnt reward)."""
    r = np.asarray(returns, dtype=np.float64)
    order = np.argsort(-r, kind="stable")
    return order[: min(k, len(r))]


def summarize(
    episodes: Sequence[Mapping[str, float]], returns: np.ndarray | Sequence[float], k: int = TOP_K
) -> dict[str, Any]:
    """NEAR's protocol: each metric's mean over the ``k`` episodes with the highest return
    (``top``) beside its mean over all episodes (``all``). Means skip NaN (too-short episodes);
    ``fell`` becomes ``fall_rate``. Returns {"all": {...}, "top": {...}, "episodes": n, "top_k": k'}."""
    if len(episodes) != len(returns):
        raise ValueError(f"{len(episodes)} episodes but {len(returns)} returns")
    keys = sorted({key for e in episodes for key in e})

    def means(ids: np.ndarray) -> dict[str, float]:
        out = {}
        for key in keys:
            vals = np.array([episodes[i].get(key, np.nan) for i in ids], dtype=np.float64)
            finite = vals[np.isfinite(vals)]
            out["fall_rate" if key == "fell" else key] = float(finite.mean()) if finite.size else float("nan")
        return out

    top = top_k_by_return(returns, k)
    return {"all": means(np.arange(len(episodes))), "top": means(top), "episodes": len(episodes), "top_k": len(top)}


def flatten_summary(summary: Mapping[str, Any], prefix: str = "motion_") -> dict[str, float]:
    """``summarize``'s result as flat metrics.json keys: ``<prefix><metric>`` (all episodes) and
    ``<prefix>top<k>_<metric>`` (the top-k by return)."""
    k = summary["top_k"]
    out = {f"{prefix}{key}": value for key, value in summary["all"].items()}
    out.update({f"{prefix}top{k}_{key}": value for key, value in summary["top"].items()})
    out[f"{prefix}episodes"] = summary["episodes"]
    return out
