"""Hand-written helpers against the library that offers the same thing (docs/dependencies.md).

Times, on one thread, after a warm-up call, the median of 7 repeats:
- quaternion product and vector rotation (``utils/rotations.py``) against
  ``scipy.spatial.transform.Rotation`` (from arrays in our (w, x, y, z) order, back to arrays), for
  28 quaternions (one humanoid's joints) and 4096 (a large batch);
- batched forward kinematics of N humanoids (``sim/kinematics.py``), body positions alone and
  with body velocities, against MuJoCo's ``mj_kinematics`` (and ``mj_comPos``, ``mj_comVel``) on
  one MjData per humanoid, N = 1, 64, 256, 1024.
Each pair is also checked to agree (max abs difference). scipy is not a dependency of imitate; the
quaternion rows are skipped when it is missing. Prints one JSON object and writes
benchmarks/results/handwritten_vs_library.json.

    pip install --no-deps --target /tmp/scipy_side scipy   # only for this comparison
    PYTHONPATH=src:/tmp/scipy_side python benchmarks/handwritten_vs_library.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import mujoco
import numpy as np
import torch

from _meta import finish, record
from imitate.data.motion import humanoid_model as hm
from imitate.sim.kinematics import TreeKinematics
from imitate.utils import rotations as rot

REPEATS = 7
OUT = Path(__file__).resolve().parent / "results" / "handwritten_vs_library.json"


def median_us(fn: Callable[[], object], loops: int) -> float:
    """Median over REPEATS of the mean time of one call in µs (``loops`` calls per repeat)."""
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        times.append((time.perf_counter() - start) / loops * 1e6)
    return round(statistics.median(times), 2)


def quaternion_rows(rng: np.random.Generator) -> list[dict]:
    try:
        from scipy.spatial.transform import Rotation
    except ImportError:
        return []
    to_xyzw = lambda q: np.roll(q, -1, axis=-1)  # noqa: E731  (w, x, y, z) -> (x, y, z, w)
    rows = []
    for n in (28, 4096):
        a = rot.quat_normalize(rng.normal(size=(n, 4)))
        b = rot.quat_normalize(rng.normal(size=(n, 4)))
        v = rng.normal(size=(n, 3))
        ours_mul = lambda: rot.quat_mul(a, b)  # noqa: E731
        scipy_mul = lambda: (Rotation.from_quat(to_xyzw(a)) * Rotation.from_quat(to_xyzw(b))).as_quat()  # noqa: E731
        ours_rot = lambda: rot.quat_rotate(a, v)  # noqa: E731
        scipy_rot = lambda: Rotation.from_quat(to_xyzw(a)).apply(v)  # noqa: E731
        # scipy may return -q for q: compare the rotations, not the signs
        mul_diff = np.abs(np.abs(np.sum(to_xyzw(ours_mul()) * scipy_mul(), axis=-1)) - 1.0).max()
        loops = 2000 if n < 100 else 200
        rows += [
            {
                "op": "quat_mul",
                "n": n,
                "ours_us": median_us(ours_mul, loops),
                "scipy_us": median_us(scipy_mul, loops),
                "max_abs_diff": float(mul_diff),
            },
            {
                "op": "quat_rotate",
                "n": n,
                "ours_us": median_us(ours_rot, loops),
                "scipy_us": median_us(scipy_rot, loops),
                "max_abs_diff": float(np.abs(ours_rot() - scipy_rot()).max()),
            },
        ]
    return rows


def kinematics_rows(rng: np.random.Generator) -> list[dict]:
    model = hm.load_model()
    kin = TreeKinematics(model)
    rows = []
    for n in (1, 64, 256, 1024):
        qpos = np.tile(model.qpos0, (n, 1))
        qpos[:, 7:] = rng.uniform(-1.0, 1.0, size=(n, model.nq - 7))
        qpos[:, 3:7] = rot.quat_normalize(rng.normal(size=(n, 4)))
        datas = [mujoco.MjData(model) for _ in range(n)]

        def mujoco_fk() -> np.ndarray:
            for d, q in zip(datas, qpos):
                d.qpos[:] = q
                mujoco.mj_kinematics(model, d)
            return np.stack([d.xpos[1:] for d in datas])

        def mujoco_fk_vel() -> tuple[np.ndarray, np.ndarray]:
            """Positions and body-origin linear velocities: mj_kinematics, mj_comPos, mj_comVel per
            humanoid, then cvel (about each tree's centre of mass) moved to the body origins."""
            for d, q, dq in zip(datas, qpos, qvel):
                d.qpos[:] = q
                d.qvel[:] = dq
                mujoco.mj_kinematics(model, d)
                mujoco.mj_comPos(model, d)
                mujoco.mj_comVel(model, d)
            xpos = np.stack([d.xpos[1:] for d in datas])  # (N, B, 3)
            cvel = np.stack([d.cvel[1:] for d in datas])  # (N, B, 6): angular, linear
            com = np.stack([d.subtree_com[model.body_rootid[1:]] for d in datas])  # (N, B, 3)
            return xpos, cvel[..., 3:] + rot.cross(cvel[..., :3], xpos - com)

        qvel = rng.normal(size=(n, model.nv))
        ours = lambda: kin.forward(qpos)[0]  # noqa: E731
        ours_vel = lambda: kin.forward(qpos, qvel)  # noqa: E731
        loops = 200 if n < 100 else 20
        rows.append(
            {
                "op": "forward_kinematics",
                "n": n,
                "ours_us": median_us(ours, loops),
                "mujoco_us": median_us(mujoco_fk, loops),
                "max_abs_diff_m": float(np.abs(ours() - mujoco_fk()).max()),
            }
        )
        rows.append(
            {
                "op": "forward_kinematics_with_velocity",
                "n": n,
                "ours_us": median_us(ours_vel, loops),
                "mujoco_us": median_us(mujoco_fk_vel, loops),
                "max_abs_diff_m_s": float(np.abs(ours_vel()[2] - mujoco_fk_vel()[1]).max()),
            }
        )
    return rows


def main() -> None:
    meta = record()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    try:
        import scipy

        scipy_version = scipy.__version__
    except ImportError:
        scipy_version = None
    result = {
        "benchmark": "handwritten_vs_library",
        "scipy": scipy_version,
        "mujoco": mujoco.__version__,
        "numpy": np.__version__,
        "rows": quaternion_rows(rng) + kinematics_rows(rng),
    }
    result["meta"] = finish(meta)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
