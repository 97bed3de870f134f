"""TEMPORARY: old env factories until the ports land (removed at merge)."""


def ParticleEnv(num_envs, seed=0, device="cpu", options=None):  # noqa: N802
    from imitate.envs.particle import ParticleEnv as P
    return P(num_envs, seed=seed, device=device, n_dim=options.n_dim, goal_order=options.goal_order)


def PushTEnv(num_envs, seed=0, device="cpu", options=None):  # noqa: N802
    from imitate.envs.pusht import PushTEnv as P
    return P(num_envs, seed=seed, device=device)


def BlockPushEnv(num_envs, seed=0, device="cpu", options=None):  # noqa: N802
    from imitate.envs.block_push import BlockPushEnv as P
    return P(num_envs, seed=seed, device=device)


def particle_oracle(num_episodes, seed=0, progress=False, cfg=None):
    from imitate.oracles.particle import particle_oracle as o
    return o(num_episodes, seed=seed, progress=progress, n_dim=cfg.n_dim, goal_order=cfg.goal_order)
