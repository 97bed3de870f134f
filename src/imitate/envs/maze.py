"""NEAR's 2-D maze (SPEC §1), batched in torch. Geometry constants only for now."""
import torch

ARENA_SIZE = 512.0
AGENT_RADIUS = 15.0
# Inner walls as (x_min, y_min, x_max, y_max).
INNER_WALLS = ((20.0, 140.0, 40.0, 460.0), (100.0, 140.0, 120.0, 380.0),
               (20.0, 460.0, 350.0, 480.0), (100.0, 380.0, 350.0, 400.0))
GOAL = (0.85 * ARENA_SIZE, 0.85 * ARENA_SIZE)
