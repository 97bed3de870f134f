"""Planned demonstrations for the 2-D maze (a planner through the free space, with variety; NEAR's were human).

NEAR's maze used 573 human tele-operated demonstrations; ours come from a planner that is
randomised so that episodes differ the way human ones do (route, shape, speed):

1. The arena is a 64×64 grid of 8-unit cells. A cell is free when its centre clears every wall
   by the disc radius plus a safety ``MARGIN``; cells that clear only the radius are allowed
   but expensive (so a disc pushed there steers back out), the rest are blocked.
2. Each episode multiplies the cell costs by its own smooth random field (coarse Gaussian noise
   upsampled bilinearly, exponentiated, random strength) and by a random factor over the open
   region, so shortest paths differ between episodes: about 40% take the corridor along the
   left and top walls, the rest cross the open region along differently bent paths.
3. Geodesic cost-to-goal fields for all episodes at once by fast sweeping: alternate row and
   column sweeps over the grid (each vectorised over episodes and the cross-section) until
   nothing changes. This is exact Bellman relaxation over 8-neighbour moves, like repeated
   shift-and-min, but converges in a few sweeps instead of one iteration per cell on the path.
4. Batched pure pursuit in one ``MazeEnv``: each step every episode follows its field downhill
   from its current cell, aims at the furthest of the next ``lookahead`` cells (random per
   episode, for speed variety) that it can reach in a straight line with clearance, and
   subtracts a random multiple of its velocity (read from the simulator: the oracle is
   privileged) from the target to tame the underdamped PD tracking at corners. Once the path
   reaches the goal cell the target is the goal itself.

Episodes are recorded from reset through the first success (inclusive); failures (time limit)
are dropped and the batch is topped up until exactly ``num_episodes`` successes exist.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from imitate.data.dataset import Demonstrations
from imitate.oracles.collect import ACTIONS_NOTE, collect_successes, run_first_episodes
from imitate.tasks.maze import AGENT_RADIUS, ARENA_SIZE, GOAL, INNER_WALLS, MAX_EPISODE_STEPS, MazeEnv, target_to_action

CELL = 8.0  # grid cell size in arena units
GRID = int(ARENA_SIZE / CELL)  # cells per side
MARGIN = 4.0  # planner clearance beyond the disc radius
MARGIN_COST = 20.0  # cost multiplier of cells that clear the radius but not the margin
CHECK_MARGIN = 2.0  # clearance beyond the radius a pursuit segment must keep
NOISE_GRIDS = (4, 7)  # coarse noise resolutions (cells per side), summed
NOISE_WEIGHTS = (1.0, 0.5)
NOISE_STRENGTH = (0.4, 1.2)  # per-episode range of the log-cost noise amplitude
ROUTE_BIAS = (-0.5, 1.5)  # per-episode range of the extra log-cost over the open region
LOOKAHEAD = (3, 7)  # per-episode range (inclusive) of pursuit lookahead, in cells
VEL_DAMPING = (0.15, 0.3)  # per-episode range of target -= damping * velocity (seconds)
SEGMENT_SAMPLES = 8  # points checked along each candidate pursuit segment
BATCH_SLACK = 1.03  # launch this many times the episodes still needed (plus a few)
MAX_BATCH = 1024  # episodes per batch (bounds memory: ~200 KB of fields per episode)

_WALLS = np.asarray(INNER_WALLS, dtype=np.float64)
_DIRS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]

PLANNER = (
    f"grid {GRID}x{GRID} cells of {CELL:g} units, walls inflated by radius+{MARGIN:g}; "
    f"per-episode smooth log-normal cost noise (grids {NOISE_GRIDS}, amplitude "
    f"{NOISE_STRENGTH}) and open-region log-cost bias {ROUTE_BIAS}; 8-neighbour "
    f"geodesic cost-to-goal fields by fast sweeping; pure pursuit with line-of-sight "
    f"lookahead {LOOKAHEAD} cells and velocity damping {VEL_DAMPING} s"
)


def clearance(points: np.ndarray) -> np.ndarray:
    """Distance from points (..., 2) to the nearest inner wall or arena edge (0 inside a wall)."""
    p = np.asarray(points, dtype=np.float64)[..., None, :]
    gap = np.maximum(np.maximum(_WALLS[:, :2] - p, p - _WALLS[:, 2:]), 0.0)  # (..., R, 2)
    to_walls = np.sqrt((gap**2).sum(-1)).min(-1)
    to_edges = np.minimum(points, ARENA_SIZE - np.asarray(points)).min(-1)
    return np.minimum(to_walls, to_edges)


@functools.lru_cache(maxsize=1)
def _clearance_raster() -> np.ndarray:
    """clearance() at every integer point of the arena, [y, x]; a lookup is off by at most 0.71."""
    c = np.arange(int(ARENA_SIZE) + 1, dtype=np.float64)
    xs, ys = np.meshgrid(c, c)
    return clearance(np.stack([xs, ys], axis=-1)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _static_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Per-cell base cost, diagonal blocking masks, cell centres, snap table and goal cell.

    Returns (base (H, W), diag_blocked (8, H, W) per direction, centres (H*W, 2) as (x, y),
    snap (H*W,) flat index of the nearest non-blocked cell, goal flat index).
    """
    c = (np.arange(GRID) + 0.5) * CELL
    xs, ys = np.meshgrid(c, c)  # [y, x] layout
    centres = np.stack([xs, ys], axis=-1)
    clear = clearance(centres)
    base = np.where(clear >= AGENT_RADIUS + MARGIN, 1.0, np.where(clear >= AGENT_RADIUS, MARGIN_COST, np.inf))
    padded = np.pad(base, 1, constant_values=np.inf)
    blocked = np.isinf(padded)
    diag = np.zeros((len(_DIRS), GRID, GRID), dtype=bool)
    for i, (dy, dx) in enumerate(_DIRS):
        if dy and dx:  # a diagonal move may not cut a blocked corner
            diag[i] = blocked[1 + dy : GRID + 1 + dy, 1:-1] | blocked[1:-1, 1 + dx : GRID + 1 + dx]
    flat_centres = centres.reshape(-1, 2)
    ok = np.flatnonzero(np.isfinite(base.ravel()))
    dist = ((flat_centres[:, None, :] - flat_centres[None, ok, :]) ** 2).sum(-1)
    snap = ok[dist.argmin(1)]
    goal = int(GOAL[1] // CELL) * GRID + int(GOAL[0] // CELL)
    return base, diag, flat_centres, snap, goal


def _upsample_matrix(coarse: int) -> np.ndarray:
    """(GRID, coarse) bilinear interpolation weights from a coarse grid spanning the arena."""
    t = (np.arange(GRID) + 0.5) / GRID * (coarse - 1)
    lo = np.minimum(np.floor(t).astype(int), coarse - 2)
    frac = t - lo
    m = np.zeros((GRID, coarse))
    m[np.arange(GRID), lo] = 1.0 - frac
    m[np.arange(GRID), lo + 1] = frac
    return m


def random_costs(n: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W, n) per-episode cell costs: base cost times a smooth random log-normal field."""
    base = _static_grid()[0]
    noise = np.zeros((GRID, GRID, n))
    for coarse, weight in zip(NOISE_GRIDS, NOISE_WEIGHTS):
        up = _upsample_matrix(coarse)
        field = rng.standard_normal((coarse, coarse, n))
        noise += weight * np.einsum("yi,ijn,xj->yxn", up, field, up)
    strength = rng.uniform(*NOISE_STRENGTH, size=n)
    bias = rng.uniform(*ROUTE_BIAS, size=n)
    return base[:, :, None] * np.exp(strength * noise + bias * _open_region()[:, :, None])


@functools.lru_cache(maxsize=1)
def _open_region() -> np.ndarray:
    """(H, W) smooth indicator of the open region right of the corridor and below its top arm.

    Scaling its cost per episode decides, more than the noise alone would, between the open
    diagonal route and the corridor along the left and top walls.
    """
    c = (np.arange(GRID) + 0.5) * CELL
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    x_in = sig((c - 150.0) / 15.0)  # right of the inner vertical wall
    y_in = sig((360.0 - c) / 15.0)  # below the inner horizontal wall
    return y_in[:, None] * x_in[None, :]


def geodesic_fields(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cost-to-goal and next-cell pointers for per-episode cell costs (H, W, n).

    A move between neighbouring cells costs its length (in cells) times the mean cost of the two
    cells. Returns (dist (H*W, n) float32, inf where unreachable; nxt (H*W, n) int64 flat index
    of the next cell towards the goal, the cell itself at the goal or where unreachable).
    """
    _, diag_blocked, _, _, goal = _static_grid()
    h, w, n = costs.shape
    c = np.pad(costs.astype(np.float32), ((1, 1), (1, 1), (0, 0)), constant_values=np.inf)
    edge = {}  # edge[(dy, dx)][y, x] = cost of moving from padded cell (y, x) by (dy, dx)
    for i, (dy, dx) in enumerate(_DIRS):
        e = np.full_like(c, np.inf)
        inner = 0.5 * (c[1:-1, 1:-1] + c[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx]) * math.hypot(dy, dx)
        e[1:-1, 1:-1] = np.where(diag_blocked[i][:, :, None], np.inf, inner)
        edge[dy, dx] = e
    dist = np.full_like(c, np.inf)
    gy, gx = divmod(goal, w)
    dist[gy + 1, gx + 1] = 0.0
    tmp = np.empty((max(h, w), n), dtype=np.float32)
    while True:
        before = dist.copy()
        # Row sweeps up then down: each row takes the best via the three neighbours in the row
        # swept just before it, so a path monotone in y is settled in one sweep.
        for rows, back in ((range(1, h + 1), -1), (range(h, 0, -1), 1)):
            for y in rows:
                row = dist[y, 1:-1]
                for dx in (-1, 0, 1):
                    np.add(dist[y + back, 1 + dx : w + 1 + dx], edge[back, dx][y, 1:-1], out=tmp[:w])
                    np.minimum(row, tmp[:w], out=row)
        # Column sweeps, likewise.
        for cols, back in ((range(1, w + 1), -1), (range(w, 0, -1), 1)):
            for x in cols:
                col = dist[1:-1, x]
                for dy in (-1, 0, 1):
                    np.add(dist[1 + dy : h + 1 + dy, x + back], edge[dy, back][1:-1, x], out=tmp[:h])
                    np.minimum(col, tmp[:h], out=col)
        if np.array_equal(before, dist):
            break
    # Pointers: the neighbour minimising move cost + its cost-to-goal.
    here = np.arange(h * w).reshape(h, w, 1)
    best = np.full((h, w, n), np.inf, dtype=np.float32)
    nxt = np.broadcast_to(here, (h, w, n)).copy()
    for dy, dx in _DIRS:
        via = edge[dy, dx][1:-1, 1:-1] + dist[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx]
        better = via < best
        best = np.where(better, via, best)
        nxt = np.where(better, here + dy * w + dx, nxt)
    nxt = nxt.reshape(h * w, n)
    nxt[goal] = goal  # already there
    return dist[1:-1, 1:-1].reshape(h * w, n), nxt


class _PursuitController:
    """Batched pure pursuit along per-episode geodesic fields (numpy, no loops over episodes)."""

    def __init__(self, nxt: np.ndarray, rng: np.random.Generator):
        n = nxt.shape[1]
        self.nxt = nxt
        self.cols = np.arange(n)
        self.lookahead: np.ndarray = rng.integers(LOOKAHEAD[0], LOOKAHEAD[1] + 1, size=(n,))
        self.damping: np.ndarray = rng.uniform(*VEL_DAMPING, size=(n,))
        _, _, centres, snap, goal = _static_grid()
        self.points = centres.copy()
        self.points[goal] = GOAL  # the path's last point is the goal itself
        self.snap = snap
        self.raster = _clearance_raster()

    def target(self, pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
        """(n, 2) target positions for discs at pos with velocity vel (both (n, 2))."""
        cell = np.clip((pos // CELL).astype(int), 0, GRID - 1)
        idx = self.snap[cell[:, 1] * GRID + cell[:, 0]]
        path = [idx]
        for _ in range(LOOKAHEAD[1]):
            idx = self.nxt[idx, self.cols]
            path.append(idx)
        pts = self.points[np.stack(path[1:], axis=1)]  # (n, K, 2) next K path points
        frac = (np.arange(SEGMENT_SAMPLES) + 1.0) / SEGMENT_SAMPLES
        seg = pos[:, None, None, :] + frac[None, None, :, None] * (pts - pos[:, None, :])[:, :, None, :]
        ij = np.clip(np.rint(seg), 0, ARENA_SIZE).astype(np.intp)
        clear = self.raster[ij[..., 1], ij[..., 0]].min(-1) >= AGENT_RADIUS + CHECK_MARGIN  # (n, K)
        k = np.arange(1, LOOKAHEAD[1] + 1)
        usable = clear & (k[None, :] <= self.lookahead[:, None])
        choice = np.where(usable.any(1), LOOKAHEAD[1] - 1 - np.argmax(usable[:, ::-1], axis=1), 0)
        aim = pts[self.cols, choice]
        return aim - self.damping[:, None] * vel


def _run_batch(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Launch n planned episodes; return obs and padded actions of the successful ones."""
    costs = random_costs(n, rng)
    _, nxt = geodesic_fields(costs)
    ctrl = _PursuitController(nxt, rng)
    env_seed = int(rng.integers(2**31))
    env = MazeEnv(n, seed=env_seed)

    def act(obs: np.ndarray) -> np.ndarray:
        target = ctrl.target(obs, env.sim.vel.numpy().astype(np.float64))
        return np.clip(target_to_action(torch.from_numpy(target)).numpy(), -1.0, 1.0)

    return run_first_episodes(env, act, MAX_EPISODE_STEPS, seed=env_seed)


def maze_oracle(num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None) -> Demonstrations:
    """Exactly ``num_episodes`` successful planned maze episodes (obs (x, y), absolute-target actions).
    (``cfg``, the task options every oracle is given, is unused: the maze has none.)

    Batches somewhat larger than needed are launched and the successful episodes kept, topping up
    with further batches until enough exist. Metadata records the launch count and success rate.
    """
    obs, actions, launched, succeeded = collect_successes(
        "maze", num_episodes, _run_batch, np.random.default_rng(seed), progress, MAX_BATCH, BATCH_SLACK
    )
    return Demonstrations.from_episodes(
        obs,
        actions,
        task="maze",
        source="oracle",
        obs_names=["x", "y"],
        seed=seed,
        planner=PLANNER,
        launched=launched,
        launch_success_rate=succeeded / launched,
        actions_note=ACTIONS_NOTE,
        action_meaning="absolute target position (a + 1) * 256, tracked by the env's PD law",
    )
