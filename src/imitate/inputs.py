"""Everything a run reads or allocates, checked before any work starts.

``check_run_inputs`` is called once a run's config is resolved and validated, before a run
directory exists or a step is trained: demonstration files must fit the task (shapes, dtypes,
finite values, the task options they were made with), an energy run must be a finished step-1
run of the same task and feature size, level indices must exist in its noise ladder, and the
memory the config asks for must fit in this machine. Each problem is one ``ConfigError`` /
``DatasetError`` / ``CheckpointError`` line, so the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from imitate.algos.energy_config import NCSN_LEVELS, EnergyConfig
from imitate.config import ConfigError, apply_overrides, preset
from imitate.data.demo_checks import EnvDims, load_demos_for
from imitate.registry import get_algo
from imitate.utils.wandb_mirror import require_wandb

FLOAT = 4  # bytes of a float32


def env_dims(task: Any, cfg: Any) -> EnvDims:
    """The task's sizes under ``cfg``, read off a one-copy env (cheap for every task)."""
    env = task.make_env(1, seed=0, cfg=cfg)
    return EnvDims(env.obs_dim, env.act_dim, env.style_dim, env.max_episode_steps)


# -- energy runs ------------------------------------------------------------------------------
def preset_energy_version(task: Any) -> str:
    """The NCSN version of the step-1 run a NEAR/CEM run without ``energy=`` trains."""
    return apply_overrides(EnergyConfig(), preset(task.name, "energy"), f"preset configs/{task.name}.yaml").version


def check_energy_run(task: Any, energy_dir: str, dims: EnvDims | None, options: Any = None) -> str:
    """``energy_dir`` must be a finished energy run of ``task`` whose input fits the task's
    transitions and, given the run's task ``options``, that was trained with the same values of
    the options its class lists in ``STYLE_KEYS`` (the humanoid's ``motion``: the features and
    data the energy scores); returns its NCSN version."""
    from imitate.utils.run import CheckpointError, Run

    run = Run.open(energy_dir)
    if run.algo != "energy":
        raise ConfigError(
            f"energy={energy_dir} is a {run.task}/{run.algo} run, not an energy run "
            f"(train one with `imitate train {task.name} energy`)"
        )
    if run.task != task.name:
        raise ConfigError(f"energy={energy_dir} was trained on task {run.task!r}, not {task.name!r}")
    recorded = run.config_dict().get("task_options") or {}
    for key in getattr(type(options), "STYLE_KEYS", ()):
        if key in recorded and recorded[key] != getattr(options, key):
            raise ConfigError(
                f"energy={energy_dir} was trained with {key}={recorded[key]}, this run has "
                f"{key}={getattr(options, key)} (train one with `imitate train {task.name} energy "
                f"{key}={getattr(options, key)}`)"
            )
    state = run.load_checkpoint(task.name, "energy")
    config = state.get("model_config")
    if not isinstance(config, dict) or "in_dim" not in config:
        raise CheckpointError(f"{run.checkpoint_path}: no energy model in the checkpoint")
    if dims is not None and config["in_dim"] != 2 * dims.style_dim:
        raise CheckpointError(
            f"{run.checkpoint_path}: energy model takes {config['in_dim']} features, "
            f"task {task.name!r} transitions have {2 * dims.style_dim}"
        )
    version = str(config.get("version", run.config_dict().get("version", "v2")))
    if version not in NCSN_LEVELS:
        raise CheckpointError(f"{run.checkpoint_path}: unknown NCSN version {version!r}")
    return version


def check_level(name: str, level: int, version: str) -> None:
    if level >= NCSN_LEVELS[version]:
        raise ConfigError(
            f"{name}={level} but an NCSN {version} energy has levels 0..{NCSN_LEVELS[version] - 1} "
            f"(-1: {'adaptive annealing' if name == 'fixed_level' else 'the smallest σ'})"
        )


# -- output paths -------------------------------------------------------------------------------
def check_output_path(path: str | Path) -> Path:
    """``path`` can be written as a file: not a directory, and its folder exists or can be made
    and is writable. Checked before the work whose result it will hold."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; give a file name")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{path}: cannot write there ({folder} is not a writable directory)")
    return path


# -- memory -----------------------------------------------------------------------------------
def available_memory() -> int | None:
    """Bytes this process can still allocate without swapping (Linux MemAvailable), if known."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def demo_bytes(episodes: int, dims: EnvDims) -> int:
    """Oracle demonstrations of ``episodes`` full-length episodes, with the collector's copies."""
    return episodes * (dims.max_episode_steps + 1) * FLOAT * 4 * (dims.obs_dim + dims.act_dim)


def memory_estimate(cfg: Any, dims: EnvDims) -> dict[str, int]:
    """Bytes the largest allocations of a run with ``cfg`` take, by what drives them.

    Rough on purpose: it is there to refuse configs that cannot fit (``num_envs=10**8``), not
    to predict the peak. Each entry names the keys to lower."""
    obs, act, style, steps = dims.obs_dim, dims.act_dim, dims.style_dim, dims.max_episode_steps
    env_state = FLOAT * (4 * obs + 2 * style + 64)  # observations, state arrays, accumulators
    get = lambda key: getattr(cfg, key, 0)  # noqa: E731
    disc = getattr(cfg, "disc", None)  # AMP's discriminator group
    out: dict[str, int] = {}
    if get("num_envs") and get("rollout_steps"):
        out["num_envs × rollout_steps (rollout buffers)"] = (
            get("num_envs") * get("rollout_steps") * FLOAT * (3 * obs + act + 2 * style + 8)
        )
        out["num_envs (env state)"] = get("num_envs") * env_state
    if get("eval_episodes"):
        copies = get("eval_episodes") * max(1, get("samples"))  # CEM plans in samples copies per episode
        out["eval_episodes (evaluation envs and trajectories)"] = copies * env_state + get(
            "eval_episodes"
        ) * steps * FLOAT * (obs + act)
    if get("demo_episodes") and not getattr(cfg, "demos", ""):
        out["demo_episodes (oracle demonstrations)"] = demo_bytes(get("demo_episodes"), dims)
    if get("embodiment_episodes") and not getattr(cfg, "embodiment", ""):
        out["embodiment_episodes (random-action episodes)"] = demo_bytes(get("embodiment_episodes"), dims)
    if disc is not None:
        out["disc.replay_size (AMP replay buffer)"] = disc.replay_size * FLOAT * 2 * style
    hidden: tuple[int, ...] = getattr(cfg, "hidden", ()) or (0,)
    width = max(get("width"), max(hidden), max(disc.hidden if disc else (0,)), 1)
    depth = 2 * max(get("blocks"), 1)
    if get("batch_size"):
        per_sample = (get("counter_examples") + 1) * (obs + act + 3 * width * depth)  # forward + backward
        if get("langevin_negatives"):
            per_sample *= 2
        out["batch_size × counter_examples (training batch)"] = get("batch_size") * FLOAT * per_sample
    if disc is not None:
        out["disc.batch_size (discriminator batch)"] = disc.batch_size * 2 * FLOAT * 3 * width * 2
    chains = max(
        get("dfo_samples") if getattr(cfg, "inference", "") == "dfo" else 0,
        get("langevin_samples") if getattr(cfg, "inference", "") == "langevin" else 0,
    )
    if chains and get("eval_episodes"):
        out["eval_episodes × dfo_samples/langevin_samples (inference)"] = (
            get("eval_episodes") * chains * FLOAT * 3 * (obs + act + width * depth)
        )
    return out


def eval_estimate(cfg: Any, dims: EnvDims, episodes: int) -> dict[str, int]:
    """What evaluating ``episodes`` episodes allocates: env copies and a method's inference."""
    keep = ("samples", "inference", "dfo_samples", "langevin_samples", "width", "blocks", "hidden")
    sizes = SimpleNamespace(**{k: getattr(cfg, k) for k in keep if hasattr(cfg, k)}, eval_episodes=episodes)
    return memory_estimate(sizes, dims)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


def check_memory(parts: dict[str, int], what: str = "this run") -> None:
    """Refuse when the estimate exceeds 80% of the memory available now."""
    available = available_memory()
    total = sum(parts.values())
    if available is None or total <= 0.8 * available:
        return
    main = max(parts, key=lambda k: parts[k])
    raise ConfigError(
        f"{what} needs an estimated {_size(total)} of memory, {_size(parts[main])} of it for "
        f"{main}; {_size(available)} is available: lower those values"
    )


def check_run_inputs(task: Any, algo_name: str, cfg: Any) -> None:
    """Every check above that applies to ``cfg``, before any run directory or training."""
    require_wandb(cfg)
    algo = get_algo(algo_name)
    needs_actions = algo.needs_actions
    if algo.needs_demos and not getattr(cfg, "demos", "") and not task.has_oracle:
        raise ConfigError(f"task {task.name!r} has no oracle: give demos=PATH")
    if needs_actions and not getattr(cfg, "demos", "") and not task.oracle_actions:
        raise ConfigError(
            f"task {task.name!r} makes observation-only demonstrations (no actions); "
            f"{algo_name} needs demos=PATH with actions"
        )
    dims = env_dims(task, cfg)
    check_memory(memory_estimate(cfg, dims), f"`imitate train {task.name} {algo_name}`")
    if getattr(cfg, "demos", ""):
        load_demos_for(task, cfg, dims, need_actions=needs_actions, needed_by=repr(algo_name))
    if getattr(cfg, "embodiment", ""):  # BCO, IIDM: the agent's own (observation, action) data
        load_demos_for(
            task, cfg, dims, need_actions=True, needed_by=f"{algo_name}'s dynamics model", source=cfg.embodiment
        )
    if algo_name in ("near", "cem"):
        version = (
            check_energy_run(task, cfg.energy, dims, cfg.task_options) if cfg.energy else preset_energy_version(task)
        )
        level_key = "fixed_level" if algo_name == "near" else "level"
        check_level(level_key, getattr(cfg, level_key), version)
