"""Expert data of the humanoid imitation task straight from its motion clips: no simulation.

Each demonstration episode is a window of ``demo_seconds`` (2 s: 61 frames at the 30 Hz control
period) of a clip drawn by weight, from a uniform phase (``MotionLibrary.sample_windows``; a
one-shot clip's window lies inside it, the whole clip when shorter). Its observations are the
style features of the clip frames computed by the env's own feature function
(``common.clip_style_features``, the simulator's kinematics), so the consecutive pairs NEAR's
energy and AMP's discriminator read are exactly what the env's ``style`` group gives for a
character that plays the clip. There are no actions (imitation from observation).
"""

from __future__ import annotations

import numpy as np

from imitate.data.dataset import Demonstrations
from imitate.data.motion import humanoid_model as hm
from imitate.data.motion import resolve_motion
from imitate.tasks.humanoid.common import clip_style_features
from imitate.tasks.humanoid.observations import STYLE_OBS_DIM
from imitate.tasks.humanoid.options import HumanoidOptions
from imitate.utils.progress import progress_bar

CHUNK_FRAMES = 16_384  # frames per batched feature call (bounds the FK's temporaries)


def humanoid_oracle(
    num_episodes: int, seed: int = 0, progress: bool = False, cfg: HumanoidOptions | None = None
) -> Demonstrations:
    """``num_episodes`` windows of the data set ``cfg.motion`` as style-feature demonstrations."""
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, got {num_episodes}")
    opts = cfg if cfg is not None else HumanoidOptions()
    data = resolve_motion(opts.motion)
    lib = data.library()
    dt_s = hm.CONTROL_DT_S
    rng = np.random.default_rng(seed)
    clip_ids, starts_s, lengths_s = lib.sample_windows(num_episodes, rng, opts.demo_seconds)
    frames = np.maximum(np.floor(lengths_s / dt_s + 1e-9).astype(np.int64) + 1, 2)  # (E,) ≥ one pair each
    ends = np.cumsum(frames)
    # every frame of every window at once: episode e's k-th frame is at starts_s[e] + k·dt
    episode = np.repeat(np.arange(num_episodes), frames)
    k = np.arange(ends[-1]) - np.repeat(ends - frames, frames)
    ids, times = clip_ids[episode], starts_s[episode] + k * dt_s
    obs = np.empty((len(times), STYLE_OBS_DIM), dtype=np.float32)
    with progress_bar(len(times), "humanoid clip features", unit="frame", enabled=progress) as bar:
        for lo in range(0, len(times), CHUNK_FRAMES):
            hi = min(lo + CHUNK_FRAMES, len(times))
            obs[lo:hi] = clip_style_features(lib, ids[lo:hi], times[lo:hi]).numpy()
            bar.update(hi - lo)
    weights = lib.weights.tolist()
    return Demonstrations(
        obs=obs,
        episode_ends=ends,
        actions=None,
        metadata={
            "task": "humanoid",
            "source": "motion clips (kinematic, no simulation)",
            "motion": opts.motion,
            "clips": list(lib.names),
            "clip_weights": weights,
            "episode_clips": [lib.names[i] for i in clip_ids],
            "episode_start_s": [float(t) for t in starts_s],
            "window_s": float(opts.demo_seconds),
            "dt_s": dt_s,
            "seed": seed,
            "obs_names": "style features, observations.style_obs (105)",
        },
    )
