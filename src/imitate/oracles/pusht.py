"""Scripted Push-T expert with privileged state (the original demonstrations were human).

Diffusion Policy used 206 human demonstrations; ours come from this controller, batched in numpy
over episodes. Every step it

1. sets the desired block motion D = (goal − block position, ρ · wrap(goal angle − angle)), in
   units of length (ρ = the block's radius of gyration, so a radian of error weighs ρ units);
2. scores every candidate contact on the T's outline (points every ``CONTACT_SPACING`` units with
   their outward normals n; those the disc cannot touch without touching the block elsewhere are
   dropped): a push along −n at contact c moves the block, quasi-statically and with the
   ellipsoidal limit surface the env's drag implements, along G = λ(−n, c × (−n) / ρ),
   λ = 1 / (1 + (c × n / ρ)²); the score is cos(D, G);
3. keeps pushing at its current contact while its score stays near the best (hysteresis, so it
   does not dither), otherwise picks the best contact and walks there: straight to the pre-contact
   point when the segment is clear of the block, else around the block on a circle of safe
   radius;
4. pushes: the pusher target is the touching position moved ``gain · ⟨D, G⟩ / |G|²`` (clipped)
   into the block along −n.

Variety comes from the random start states and per-episode controller parameters (push gain,
hysteresis, orbit radius, approach gap). Episodes are recorded from reset through the first
success; failures (150-step limit) are dropped and batches are launched until enough succeed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imitate.data.dataset import Demonstrations
from imitate.oracles.collect import ACTIONS_NOTE, collect_successes, run_first_episodes
from imitate.tasks.pusht import (
    BLOCK_RHO,
    GOAL_POSE,
    MAX_EPISODE_STEPS,
    OBS_NAMES,
    PUSHER_RADIUS,
    T_RECTS,
    WORKSPACE,
    PushTEnv,
    inside_t,
    target_to_action,
    to_local,
)

CONTACT_SPACING = 5.0  # distance between candidate contacts on the outline
PUSH_GAIN = (0.8, 1.4)  # per-episode range of the push-length gain
PUSH_MAX = 30.0  # most a target is placed into the block per step
HYSTERESIS = (0.15, 0.35)  # keep the current contact while score ≥ best − this
KEEP_MIN_SCORE = 0.3  # ... and ≥ this
ORBIT_RADIUS = (102.0, 114.0)  # per-episode radius of the safe circle around the block COM
ORBIT_STEP = 0.6  # radians per step along the circle
APPROACH_GAP = (5.0, 9.0)  # per-episode distance of the pre-contact point off the surface
CLEAR_RADIUS = 96.0  # a pusher this far from the COM cannot touch the T (reach 72.5 + R 15)
ARRIVE_TOL = 4.0  # pusher within this of the pre-contact point: start pushing
PATH_PAD = PUSHER_RADIUS + 3.0  # clearance a straight approach segment keeps from the block
BATCH_SLACK = 1.15
MAX_BATCH = 512


def _outline_contacts() -> tuple[np.ndarray, np.ndarray]:
    """Candidate contacts (K, 2) on the T outline and their outward normals (K, 2), body frame."""
    (bx0, by0, bx1, by1), (sx0, _, sx1, sy1) = T_RECTS
    # (start, end, outward normal) of the eight outline edges.
    edges = [
        ((bx0, by0), (bx1, by0), (0, -1)),
        ((bx1, by0), (bx1, by1), (1, 0)),
        ((bx1, by1), (sx1, by1), (0, 1)),
        ((sx1, by1), (sx1, sy1), (1, 0)),
        ((sx1, sy1), (sx0, sy1), (0, 1)),
        ((sx0, sy1), (sx0, by1), (-1, 0)),
        ((sx0, by1), (bx0, by1), (0, 1)),
        ((bx0, by1), (bx0, by0), (-1, 0)),
    ]
    point_list: list[np.ndarray] = []
    normal_list: list[tuple[int, int]] = []
    for a_xy, b_xy, n in edges:
        a, b = np.asarray(a_xy, dtype=np.float64), np.asarray(b_xy, dtype=np.float64)
        count = max(1, int(np.linalg.norm(b - a) // CONTACT_SPACING))
        for t in (np.arange(count) + 0.5) / count:
            point_list.append(a + t * (b - a))
            normal_list.append(n)
    points, normals = np.asarray(point_list, dtype=np.float64), np.asarray(normal_list, dtype=np.float64)
    # The disc touching at c sits at c + R n; it must not overlap the block anywhere else.
    centre = torch.from_numpy(points + (PUSHER_RADIUS + 0.5) * normals)
    ok = ~inside_t(centre, pad=PUSHER_RADIUS).numpy()
    return points[ok], normals[ok]


def _rot(theta: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate body-frame vectors v (K, 2) by angles theta (N,) → (N, K, 2)."""
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    return np.stack([c * v[None, :, 0] - s * v[None, :, 1], s * v[None, :, 0] + c * v[None, :, 1]], -1)


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


class PushTExpert:
    """Batched scripted controller: pusher targets (N, 2) from the env's privileged state."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.points, self.normals = _outline_contacts()  # (K, 2)
        self.n = n
        self.rows = np.arange(n)
        self.gain = rng.uniform(*PUSH_GAIN, size=n)
        self.hysteresis = rng.uniform(*HYSTERESIS, size=n)
        self.orbit = rng.uniform(*ORBIT_RADIUS, size=n)
        self.gap = rng.uniform(*APPROACH_GAP, size=n)
        self.contact = np.full(n, -1)  # current contact index, -1 = none
        self.pushing = np.zeros(n, dtype=bool)
        self.goal = np.asarray(GOAL_POSE)
        # Per-contact lever c × (−n) / ρ in the body frame (rotation-invariant).
        d = -self.normals
        self.lever = (self.points[:, 0] * d[:, 1] - self.points[:, 1] * d[:, 0]) / BLOCK_RHO  # (K,)
        self.lam = 1.0 / (1.0 + self.lever**2)

    def reset_where(self, mask: np.ndarray) -> None:
        self.contact[mask] = -1
        self.pushing[mask] = False

    def _clear(self, start: np.ndarray, end: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Whether straight segments start→end (N, 2) keep PATH_PAD from the blocks (N,)."""
        t = np.linspace(0.0, 0.9, 30)[None, :, None]  # the pre-contact end is clear by construction
        pts = start[:, None, :] + t * (end - start)[:, None, :]  # (N, 30, 2)
        local = to_local(torch.from_numpy(pts), torch.from_numpy(pose))
        return ~inside_t(local, pad=PATH_PAD).any(-1).numpy()

    def __call__(self, qpos: np.ndarray) -> np.ndarray:
        pusher, pose = qpos[:, :2], qpos[:, 2:5]
        theta = pose[:, 2]
        err = np.concatenate(
            [self.goal[:2] - pose[:, :2], BLOCK_RHO * _wrap(self.goal[2] - theta)[:, None]], axis=1
        )  # (N, 3) D
        d_world = _rot(theta, -self.normals)  # (N, K, 2)
        gen = self.lam[None, :, None] * np.concatenate(
            [d_world, np.broadcast_to(self.lever[None, :, None], (self.n, len(self.lever), 1))], -1
        )  # (N, K, 3)
        dot = (gen * err[:, None, :]).sum(-1)  # (N, K)
        score = dot / (np.linalg.norm(gen, axis=-1) * np.linalg.norm(err, axis=-1, keepdims=True) + 1e-9)
        best = score.argmax(1)
        cur = np.where(self.contact >= 0, self.contact, best)
        cur_score = score[self.rows, cur]
        keep = (self.contact >= 0) & (cur_score >= np.maximum(KEEP_MIN_SCORE, score[self.rows, best] - self.hysteresis))
        self.contact = np.where(keep, self.contact, best)
        self.pushing &= keep
        k = self.contact

        c_world = pose[:, :2] + _rot(theta, self.points)[self.rows, k]  # (N, 2)
        n_world = _rot(theta, self.normals)[self.rows, k]  # (N, 2)
        touch = c_world + PUSHER_RADIUS * n_world  # pusher centre when touching
        pre = c_world + (PUSHER_RADIUS + self.gap[:, None]) * n_world
        # Still lined up behind the contact? (else walk back to the pre-contact point)
        rel = pusher - touch
        along = (rel * n_world).sum(-1)  # > 0: outside, behind the contact
        lateral = np.abs(rel[:, 0] * n_world[:, 1] - rel[:, 1] * n_world[:, 0])
        self.pushing &= (lateral < 6.0) & (along < self.gap + 8.0)
        arrived = np.linalg.norm(pusher - pre, axis=-1) < ARRIVE_TOL
        self.pushing |= arrived
        # Push target: the touching point moved into the block along −n.
        g = gen[self.rows, k]
        length = np.clip(self.gain * dot[self.rows, k] / (g**2).sum(-1), 0.0, PUSH_MAX)
        push_target = touch - length[:, None] * n_world
        # Walk: straight to the pre-contact point when clear, else around the block.
        clear = self._clear(pusher, pre, pose)
        centre = pose[:, :2]
        off = pusher - centre
        r = np.linalg.norm(off, axis=-1)
        phi = np.arctan2(off[:, 1], off[:, 0])
        phi_pre = np.arctan2(pre[:, 1] - centre[:, 1], pre[:, 0] - centre[:, 0])
        dphi = _wrap(phi_pre - phi)
        step = np.sign(dphi) * np.minimum(np.abs(dphi), ORBIT_STEP)
        # Straight out first (the T is nearly star-shaped about its COM, so this never hits it), then
        # around; a pusher held by a wall cannot get out and goes around from where it is.
        near_wall = ((pusher < PUSHER_RADIUS + 8.0) | (pusher > WORKSPACE - PUSHER_RADIUS - 8.0)).any(-1)
        step = np.where((r < CLEAR_RADIUS) & ~near_wall, 0.0, step)
        orbit = centre + self.orbit[:, None] * np.stack([np.cos(phi + step), np.sin(phi + step)], -1)
        walk = np.where((clear | (np.abs(dphi) < 0.1))[:, None], pre, orbit)
        target = np.where(self.pushing[:, None], push_target, walk)
        return np.clip(target, 0.0, WORKSPACE)


def _run_batch(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Launch n scripted episodes; return obs and actions of the successful ones."""
    env = PushTEnv(n, seed=int(rng.integers(2**31)))
    expert = PushTExpert(n, rng)

    def act(obs: np.ndarray) -> np.ndarray:
        target = expert(env.sim.qpos.copy())  # privileged state
        return np.clip(target_to_action(torch.from_numpy(target)).numpy(), -1.0, 1.0)

    return run_first_episodes(env, act, MAX_EPISODE_STEPS)


def expert_success_rate(num_episodes: int, seed: int = 0) -> float:
    """Fraction of ``num_episodes`` scripted episodes that succeed within the step cap."""
    obs = _run_batch(num_episodes, np.random.default_rng(seed))[0]
    return len(obs) / num_episodes


def pusht_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None) -> Demonstrations:
    """Exactly ``num_episodes`` successful scripted Push-T episodes (obs 6-d, absolute-target actions)."""
    obs, actions, launched, succeeded = collect_successes(
        "pusht", num_episodes, _run_batch, np.random.default_rng(seed), progress, MAX_BATCH, BATCH_SLACK
    )
    return Demonstrations.from_episodes(
        obs,
        actions,
        task="pusht",
        source="oracle",
        obs_names=OBS_NAMES,
        seed=seed,
        expert="scripted contact-selection pusher (privileged state), see imitate.oracles.pusht",
        launched=launched,
        launch_success_rate=succeeded / launched,
        actions_note=ACTIONS_NOTE,
        action_meaning="absolute pusher target (a + 1) * 256, tracked by the env's PD law",
    )
