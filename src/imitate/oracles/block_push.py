"""Scripted pushing demonstrations for block pushing (as IBC's oracle: go behind the block, push, re-orient).

The oracle reads only the observation (pusher, set-point, block pose, target) and keeps one bit
of memory per episode (pushing or not, with hysteresis). In the frame of the block→target line
(``along`` the push direction, ``lat`` across it, both of the pusher relative to the block):

1. **Go around.** A pusher not yet behind the block first steps sideways to ``|lat| = R`` (a
   keep-out radius around the block's corners), then slides back along that side to
   ``along = -R``: it never crosses the block, so the block does not move while it gets there.
2. **Approach.** From behind, it goes straight to the point at distance R behind the block on
   the line.
3. **Push.** Once on the line (|lat| < 8 mm), the set-point is put on the line just behind the
   block's contact face (its support distance in the push direction for the current yaw) plus
   a push step that shrinks near the target. The line is recomputed every step, so a block that
   drifts off line is followed sideways and re-aimed; if it drifts too far (|lat| > 2 cm, or
   the pusher is no longer behind it), the oracle drops out of pushing and goes around again.

Each episode draws its own speeds (free motion and push step), so demonstrations vary. Actions
are the exact float32 values the env consumed (already in [-1, 1]); episodes run from reset
through the first success (inclusive) at the task options' ``success_tolerance_m``, which the
metadata records, failures are dropped and the launch success rate kept in the metadata.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from imitate.data.dataset import Demonstrations
from imitate.oracles.collect import ACTIONS_NOTE, collect_successes, run_first_episodes
from imitate.tasks.block_push import (
    BLOCK_HALF_M,
    MAX_DELTA_M,
    MAX_EPISODE_STEPS,
    OBS_NAMES,
    PUSHER_RADIUS_M,
    BlockPushEnv,
)
from imitate.tasks.block_push_options import BlockPushOptions

CLEAR_M = BLOCK_HALF_M * math.sqrt(2) + PUSHER_RADIUS_M + 0.012  # keep-out radius R
ENTER_LAT_M = 0.008  # start pushing when this close to the line
LEAVE_LAT_M = 0.02  # stop pushing when further than this from the line
FREE_SPEED_M = (0.035, 0.06)  # per-episode range of the free-motion step per control step
PUSH_SPEED_M = (0.02, 0.035)  # per-episode range of the largest push step
PUSH_GAIN = 0.5  # push step = gain * distance to target, within [MIN_PUSH_M, max]
MIN_PUSH_M = 0.008
MAX_BATCH = 512
BATCH_SLACK = 1.1

POLICY = (
    f"go around (keep-out radius {CLEAR_M:.4f} m), approach behind the block on the "
    f"block-target line, push (enter |lat|<{ENTER_LAT_M} m, leave |lat|>{LEAVE_LAT_M} m), "
    f"free step {FREE_SPEED_M} m, push step min({PUSH_GAIN}*dist, {PUSH_SPEED_M}) m "
    f"≥ {MIN_PUSH_M} m per 0.1 s"
)


class PushController:
    """Batched scripted pusher: obs (n, 10) numpy → actions (n, 2) in [-1, 1]."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.pushing = np.zeros(n, dtype=bool)
        self.free_speed = rng.uniform(*FREE_SPEED_M, size=n)
        self.push_speed = rng.uniform(*PUSH_SPEED_M, size=n)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        p, s, b = obs[:, 0:2], obs[:, 2:4], obs[:, 4:6]
        yaw = np.arctan2(obs[:, 6], obs[:, 7])
        g = obs[:, 8:10]
        to_goal = g - b
        dist = np.linalg.norm(to_goal, axis=1)
        d = to_goal / np.maximum(dist, 1e-9)[:, None]  # (n, 2) push direction
        perp = np.stack([-d[:, 1], d[:, 0]], axis=1)
        rel = p - b
        along = (rel * d).sum(1)
        lat = (rel * perp).sum(1)
        # Distance from block centre to its face (or corner) facing the pusher, plus pusher radius.
        phi = np.arctan2(d[:, 1], d[:, 0]) - yaw
        contact = BLOCK_HALF_M * (np.abs(np.cos(phi)) + np.abs(np.sin(phi))) + PUSHER_RADIUS_M

        behind = (along < 0.0) & (along > -CLEAR_M - 0.02)
        enter = behind & (np.abs(lat) < ENTER_LAT_M)
        stay = self.pushing & (along < 0.0) & (np.abs(lat) < LEAVE_LAT_M)
        self.pushing = enter | stay

        side = np.where(lat >= 0.0, 1.0, -1.0)[:, None]
        not_behind = along > -CLEAR_M + 0.005
        sidestep = b + d * along[:, None] + perp * side * CLEAR_M
        slide_back = b - d * CLEAR_M + perp * side * CLEAR_M
        approach = b - d * CLEAR_M
        way = np.where(
            (not_behind & (np.abs(lat) < CLEAR_M - 0.002))[:, None],
            sidestep,
            np.where(not_behind[:, None], slide_back, approach),
        )
        step = np.clip(PUSH_GAIN * dist, MIN_PUSH_M, self.push_speed)
        push_point = b - d * (contact - step)[:, None]
        way = np.where(self.pushing[:, None], push_point, way)

        delta = way - p
        norm = np.linalg.norm(delta, axis=1, keepdims=True)
        limit = np.where(self.pushing, np.inf, self.free_speed)[:, None]
        delta = delta * np.minimum(1.0, limit / np.maximum(norm, 1e-9))
        desired = p + delta  # new set-point
        return np.clip((desired - s) / MAX_DELTA_M, -1.0, 1.0)


def _run_batch(
    n: int, rng: np.random.Generator, options: BlockPushOptions | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], dict]:
    """Launch n episodes at once (in an env of the task ``options``); return obs (T+1, 10) and
    actions (T+1, 2) of the successes, and {"env_seed", "kept": their indices in the batch} so a
    test can replay them."""
    env_seed = int(rng.integers(2**31))
    env = BlockPushEnv(n, seed=env_seed, options=options)
    ctrl = PushController(n, rng)
    # Actions as consumed; the episodes start from reset(seed=env_seed), so a test can replay them.
    obs, acts, kept = run_first_episodes(env, lambda o: ctrl(o), MAX_EPISODE_STEPS, seed=env_seed)
    return obs, acts, {"env_seed": env_seed, "kept": kept.tolist()}


def block_push_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None) -> Demonstrations:
    """Exactly ``num_episodes`` successful scripted block-pushing episodes (obs and actions),
    each ending at its first success within ``cfg.success_tolerance_m`` (the task's
    ``BlockPushOptions``; None: the defaults)."""
    options = BlockPushOptions() if cfg is None else cfg
    run_batch = partial(_run_batch, options=options)
    obs, actions, launched, succeeded = collect_successes(
        "block-push", num_episodes, run_batch, np.random.default_rng(seed), progress, MAX_BATCH, BATCH_SLACK
    )
    return Demonstrations.from_episodes(
        obs,
        actions,
        task="block-push",
        source="oracle",
        obs_names=OBS_NAMES,
        seed=seed,
        policy=POLICY,
        launched=launched,
        launch_success_rate=succeeded / launched,
        success_tolerance_m=options.success_tolerance_m,
        actions_note=ACTIONS_NOTE,
        action_meaning=f"delta set-point of the pusher: set-point += {MAX_DELTA_M} m * action, "
        "clipped to the workspace",
    )
