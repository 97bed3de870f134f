"""IBC's particle oracle (Florence et al. 2021): set-point at goal 1 until within 0.01 of it, then goal 2.

The switch is sticky: once the agent has been within ``SWITCH_DISTANCE`` of goal 1 the oracle
aims at goal 2 for the rest of the episode. The oracle is privileged only in remembering that
switch; the observation itself does not say which phase the episode is in.

Every launched episode is kept, failures included (as IBC's data generation does), so the data
is the oracle's own state distribution; metadata records the oracle's success rate.

With ``goal_order="either"`` (IBC's ``multimodal`` oracle) each episode draws its goal order by a
fair coin, so the same start observation is demonstrated with either goal as the first set-point.
"""

from __future__ import annotations

import numpy as np
import torch

from imitate.data.dataset import Demonstrations
from imitate.tasks.particle import MAX_EPISODE_STEPS, ParticleEnv, target_to_action
from imitate.tasks.particle_options import ParticleOptions
from imitate.utils.progress import progress_bar

SWITCH_DISTANCE = 0.01
BATCH = 4096  # episodes simulated together


def oracle_actions(
    obs: torch.Tensor, switched: torch.Tensor, n_dim: int, reverse: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Oracle set-points as env actions (N, n_dim) for obs (N, 4 n_dim); updates the switch flags.

    ``reverse`` (N,) bool marks episodes that visit goal 2 first.
    """
    pos, goal1, goal2 = obs[:, :n_dim], obs[:, 2 * n_dim : 3 * n_dim], obs[:, 3 * n_dim :]
    if reverse is not None:
        goal1, goal2 = torch.where(reverse[:, None], goal2, goal1), torch.where(reverse[:, None], goal1, goal2)
    switched = switched | ((pos - goal1).norm(dim=-1) < SWITCH_DISTANCE)
    target = torch.where(switched[:, None], goal2, goal1)
    return target_to_action(target), switched


def particle_oracle(
    num_episodes: int,
    seed: int = 0,
    progress: bool = False,
    n_dim: int = 2,
    goal_order: str = "fixed",
    cfg: ParticleOptions | None = None,
) -> Demonstrations:
    """``num_episodes`` oracle episodes: obs (51, 4 n_dim) each, actions in [-1, 1] (set-points).
    ``cfg`` (the task options, as the registry passes them) takes precedence over the keywords."""
    if cfg is not None:
        n_dim, goal_order = cfg.n_dim, cfg.goal_order
    if num_episodes < 1:
        raise ValueError(f"num_episodes must be at least 1, got {num_episodes}")
    rng = np.random.default_rng(seed)
    obs_out: list[np.ndarray] = []
    act_out: list[np.ndarray] = []
    successes = 0
    with progress_bar(num_episodes, f"particle oracle ({n_dim}-D)", unit="ep", enabled=progress) as bar:
        while len(obs_out) < num_episodes:
            n = min(BATCH, num_episodes - len(obs_out))
            env_seed = int(rng.integers(2**31))
            env = ParticleEnv(n, seed=env_seed, n_dim=n_dim, goal_order=goal_order)
            obs = env.reset(seed=env_seed)
            switched = torch.zeros(n, dtype=torch.bool)
            reverse = torch.from_numpy(rng.random(n) < 0.5) if goal_order == "either" else None
            traj, acts = [obs], []
            for _ in range(MAX_EPISODE_STEPS):
                action, switched = oracle_actions(obs, switched, n_dim, reverse)
                result = env.step(action)
                acts.append(action)
                traj.append(result.final_obs)
                obs = result.obs
            successes += int(result.success.sum())
            traj_arr = torch.stack(traj, 1).numpy()  # (n, 51, 4 n_dim)
            act_arr = torch.stack(acts, 1).numpy()  # (n, 50, n_dim)
            # The final observation gets the action the oracle would take there (repeat the last).
            act_arr = np.concatenate([act_arr, act_arr[:, -1:]], axis=1)
            obs_out += list(traj_arr)
            act_out += list(act_arr)
            bar.update(n)
    names = [f"{part}_{i}" for part in ("pos", "vel", "goal1", "goal2") for i in range(n_dim)]
    return Demonstrations.from_episodes(
        obs_out,
        act_out,
        task="particle",
        source="oracle",
        obs_names=names,
        seed=seed,
        n_dim=n_dim,
        goal_order=goal_order,
        oracle_success_rate=successes / num_episodes,
        policy=f"set-point goal 1 until within {SWITCH_DISTANCE} of it, then goal 2"
        + (" (goals swapped in a random half of the episodes)" if goal_order == "either" else ""),
        actions_note="actions[t] is the action sent after obs[t]; the last action of each episode "
        "is repeated once so that actions has the same length as obs",
        action_meaning="set-point (a + 1) / 2 in [0, 1]^n_dim, tracked by the env's PD law",
    )
