"""NEAR's motion metrics (eval/motion_metrics.py) on the expert clips themselves, beside the NEAR
paper's expert values (SPARC / root velocity / acceleration / jerk of its CMU clips; docs/tasks.md).

For each clip (humanoid3d_walk, _run, _punch, _spinkick; DeepMimic's pybullet clips):
  ours         the clip played by `MotionLibrary` (interpolated, looping clips carried forward)
               at the 30 Hz control rate over --loops cycles (one pass for one-shot clips); every
               metric of `episode_metrics`, the pose error of the clip against itself (0) and
               against its first frame held still (a scale for pose errors of that length);
  one_pass     the same at 30 Hz over one cycle only (what NEAR's expert values cover);
  near         NEAR's own computation emulated: one pass, frames picked by
               floor(phase · (T - 1)) at phase = arange(0, L, dt) / L with NEAR's dt = 0.0332 s
               (IsaacGym's sim dt 0.0166 × 2), no interpolation, differences divided by that dt;
  rates        `ours` at 15, 30, 60 and 120 Hz: how acceleration, jerk and SPARC move with the
               sampling rate of the same motion.

  python benchmarks/humanoid_clip_metrics.py [--loops 3] [--out benchmarks/results/humanoid_clip_metrics.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _meta import finish, record
from imitate.data.motion import MotionLibrary, load_clip
from imitate.data.motion import humanoid_model as hm
from imitate.eval import motion_metrics as mm

CLIPS = ("walk", "run", "punch", "spinkick")
# The NEAR paper's expert values (SPARC, root velocity m/s, acceleration m/s², jerk m/s³)
NEAR_EXPERT = {
    "walk": (-5.40, 1.31, 3.37, 130.1),
    "run": (-3.79, 3.55, 16.35, 513.7),
    "punch": (-1.73, 0.16, 2.51, 72.5),
    "spinkick": (-3.39, 1.05, 10.31, 273.6),
}
NEAR_DT_S = 0.0166 * 2  # NEAR's env.dt: sim dt 0.0166 s × controlFrequencyInv 2
ROOT = hm.BODY_NAMES.index("root")


def played(lib: MotionLibrary, seconds: float, dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Root positions (T, 3), body positions (T, 15, 3) and root orientations (T, 4) of clip 0 at
    times 0, dt, ... ≤ seconds."""
    times = np.arange(int(np.floor(seconds / dt_s + 1e-6)) + 1) * dt_s
    st = lib.state(np.zeros(len(times), dtype=np.int64), times)
    assert st.body_pos is not None
    return st.root_pos, st.body_pos, st.root_quat


def near_frames(clip, dt_s: float = NEAR_DT_S) -> np.ndarray:
    """NEAR's demo trajectory: one pass, frames by floor(phase (T-1)), body positions (T', 15, 3)."""
    length = clip.duration_s
    phase = np.clip(np.arange(0.0, length, dt_s) / length, 0.0, 1.0)
    idx = (phase * (clip.num_frames - 1)).astype(int)
    return clip.body_pos[idx]


def kinematic_row(root_pos: np.ndarray, dt_s: float) -> dict[str, float]:
    k = {key: float(v) for key, v in mm.root_kinematics(root_pos, dt_s).items()}
    k["sparc_root_vel_axes"] = float(mm.root_velocity_sparc(root_pos, dt_s, "axes"))
    k["sparc_root_speed"] = float(mm.root_velocity_sparc(root_pos, dt_s, "speed"))
    k["frames"] = float(len(root_pos))
    return k


def clip_metrics(name: str, loops: int, dt_s: float) -> dict:
    clip = load_clip(f"humanoid3d_{name}")
    lib = MotionLibrary([clip])
    seconds = clip.duration_s * (loops if clip.loop else 1)
    root, body, quat = played(lib, seconds, dt_s)
    ours = mm.episode_metrics(root, dt_s, body, body)
    statue = np.repeat(body[:1], len(body), axis=0)
    ours["pose_error_dtw_vs_first_frame_held_m"] = mm.pose_error_dtw(statue, body)
    ours["pose_error_dtw_vs_first_frame_held_heading_m"] = mm.pose_error_dtw(
        statue, body, policy_root_quat=np.repeat(quat[:1], len(quat), axis=0), clip_root_quat=quat
    )
    one_root = played(lib, clip.duration_s, dt_s)[0]
    near_root = near_frames(clip)[:, ROOT]
    rates = {}
    for hz in (15, 30, 60, 120):
        rates[f"{hz}hz"] = kinematic_row(played(lib, seconds, 1.0 / hz)[0], 1.0 / hz)
    return {
        "clip": clip.name,
        "loop": clip.loop,
        "clip_fps": round(clip.fps, 3),
        "clip_duration_s": round(clip.duration_s, 4),
        "seconds_played": round(seconds, 4),
        "near_expert": dict(zip(("sparc", "root_speed_m_s", "root_acc_m_s2", "root_jerk_m_s3"), NEAR_EXPERT[name])),
        "ours": ours,
        "one_pass": kinematic_row(one_root, dt_s),
        "near": kinematic_row(near_root, NEAR_DT_S),
        "rates": rates,
    }


def table(results: dict) -> str:
    cols = ("sparc_root_vel_axes", "root_speed_m_s", "root_acc_m_s2", "root_jerk_m_s3")
    fmt = lambda r: " / ".join(f"{r[c]:.2f}" if c != "root_jerk_m_s3" else f"{r[c]:.1f}" for c in cols)  # noqa: E731
    lines = [
        "clip      | NEAR paper (CMU clips)    | ours 30 Hz, looped          | one pass 30 Hz              | "
        "NEAR's sampling emulated    | SPARC of speed | pose err. vs still (m)",
    ]
    for name, r in results.items():
        near = " / ".join(str(v) for v in NEAR_EXPERT[name])
        lines.append(
            f"{name:9s} | {near:25s} | {fmt(r['ours']):27s} | {fmt(r['one_pass']):27s} | {fmt(r['near']):27s} | "
            f"{r['ours']['sparc_root_speed']:14.2f} | {r['ours']['pose_error_dtw_vs_first_frame_held_m']:.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=3, help="cycles of the looping clips to play")
    parser.add_argument("--out", default="benchmarks/results/humanoid_clip_metrics.json")
    args = parser.parse_args()
    meta = record()
    dt_s = hm.CONTROL_DT_S
    results = {name: clip_metrics(name, args.loops, dt_s) for name in CLIPS}
    print("SPARC (per velocity axis, averaged, as NEAR) / root velocity m/s / acceleration m/s² / jerk m/s³")
    print(table(results))
    out = {
        "meta": finish(meta),
        "control_dt_s": dt_s,
        "loops": args.loops,
        "near_dt_s": NEAR_DT_S,
        "sparc": {
            "pad_level": mm.SPARC_PAD_LEVEL,
            "fc_max_hz": mm.SPARC_FC_MAX_HZ,
            "amp_threshold": mm.SPARC_AMP_THRESHOLD,
        },
        "clips": results,
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
