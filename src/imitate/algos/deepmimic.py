"""DeepMimic's evaluation: the tracking policy rolled out from RSI and from phase 0, recorded.

Training is the on-policy loop with the tracking reward plug-in (``rewards/tracking.py``); this
module evaluates a run: tracking errors, per-term rewards and NEAR's motion metrics against the
reference (``eval/humanoid.py``, ``eval/motion_metrics.py``), the per-term plot, the JSON dump of
one episode and, with ``--video``, a video.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from imitate.algos.ppo import load_policy
from imitate.eval.humanoid import plot_reward_terms, rollout_tracking
from imitate.utils.io import atomic_write_json
from imitate.utils.run import Run
from imitate.viz.motion import write_side_by_side_video


def evaluate_tracking_run(run: Run, task, cfg, episodes: int, video: bool = False) -> dict[str, Any]:
    """The evaluate of deepmimic (eval/humanoid.py says what is measured); writes the per-term
    plot, the JSON dump and, with ``video``, a video."""
    model = load_policy(run, task, cfg)
    env = task.make_env(episodes, seed=cfg.seed + 10_000, cfg=cfg)
    metrics = rollout_tracking(model, env, seed=cfg.seed + 10_000, motion_metrics=True)["metrics"]
    env.close()
    one_cfg = dataclasses.replace(cfg.task_options, rsi=False)
    env1 = task.make_env(1, seed=cfg.seed + 20_000, cfg=one_cfg)
    rec = rollout_tracking(model, env1, seed=cfg.seed + 20_000, record=True)["record"]
    env1.close()
    plot_reward_terms(
        rec, run.plots_dir / "reward_terms.png", title=f"{run.task} / {run.algo}: reward terms, episode from phase 0"
    )
    atomic_write_json(
        run.dir / "eval" / "episode.json",
        {
            "clip": cfg.task_options.clip,
            "control_hz": 30,
            "obs": rec["obs"],
            "action": rec["action"],
            "reward": rec["reward"],
            "done": rec["done"],
            "terms": rec["terms"],
            "errors": rec["errors"],
            "qpos": rec["qpos"],
        },
    )
    metrics["recorded_episode_length"] = len(rec["reward"])
    if video:  # the episode from phase 0 (left) beside the reference it tracked (right)
        clip = cfg.task_options.clip
        panels = [
            (f"{run.task} policy", np.asarray(rec["qpos"])),
            (f"{clip} (reference)", np.asarray(rec["reference_qpos"])),
        ]
        path, used = write_side_by_side_video(panels, run.dir / "videos" / "policy.mp4", fps=30.0)
        metrics["video"] = str(path)
        metrics["video_renderer"] = used
        metrics["video_layout"] = f"left: the policy's episode from phase 0; right: {clip} from phase 0"
    return metrics
