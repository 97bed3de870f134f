"""Everything a run reads or allocates, checked before any work starts.

``check_run_inputs`` is called once a run's config is resolved and validated, before a run
directory exists or a step is trained: demonstration files must fit the task (shapes, dtypes,
finite values, the task options they were made with), an energy run must be a finished step-1
run of the same task and feature size, level indices must exist in its noise ladder, and the
memory the config asks for must fit in this machine. Each problem is one ``ConfigError`` /
``DatasetError`` / ``CheckpointError`` line, so the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from imitate.algos.energy_config import NCSN_LEVELS, EnergyConfig
from imitate.config import ConfigError, apply_overrides, preset
from imitate.data.demo_checks import EnvDims, load_demos_for
from imitate.registry import get_algo
from imitate.utils.errors import CheckpointError
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


def open_required_run(task: Any, key: str, run_dir: str, algo: str, option_keys: Any, options: Any) -> Any:
    """The run ``key=run_dir`` names, refused in one line unless it is an ``algo`` run of ``task``
    trained with the values ``options`` has for ``option_keys`` (those it recorded)."""
    from imitate.utils.run import Run

    run = Run.open(run_dir)
    if run.algo != algo:
        article = "an" if algo[0] in "aeiou" else "a"
        raise ConfigError(
            f"{key}={run_dir} is a {run.task}/{run.algo} run, not {article} {algo} run "
            f"(train one with `imitate train {task.name} {algo}`)"
        )
    if run.task != task.name:
        raise ConfigError(f"{key}={run_dir} was trained on task {run.task!r}, not {task.name!r}")
    recorded = run.config_dict().get("task_options") or {}
    for name in option_keys:
        if name in recorded and recorded[name] != getattr(options, name):
            raise ConfigError(
                f"{key}={run_dir} was trained with {name}={recorded[name]}, this run has "
                f"{name}={getattr(options, name)} (train one with `imitate train {task.name} {algo} "
                f"{name}={getattr(options, name)}`)"
            )
    return run


def check_energy_run(task: Any, energy_dir: str, dims: EnvDims | None, options: Any = None) -> str:
    """``energy_dir`` must be a finished energy run of ``task`` whose input fits the task's
    transitions and, given the run's task ``options``, that was trained with the same values of
    the options its class lists in ``STYLE_KEYS`` (the humanoid's ``motion`` and ``mask``: the
    features and data the energy scores); returns its NCSN version. A model of a composition
    (``check_composed_energy``) passes ``options=None``: it keeps its own motion and mask."""
    run = open_required_run(task, "energy", energy_dir, "energy", getattr(type(options), "STYLE_KEYS", ()), options)
    state = run.load_checkpoint(task.name, "energy")
    config = state.get("model_config")
    if not isinstance(config, dict) or "in_dim" not in config:
        raise CheckpointError(f"{run.checkpoint_path}: no energy model in the checkpoint")
    raw_dim = config.get("raw_dim", config["in_dim"])  # a masked model reads some of them
    if dims is not None and raw_dim != 2 * dims.style_dim:
        raise CheckpointError(
            f"{run.checkpoint_path}: energy model takes {raw_dim} features, "
            f"task {task.name!r} transitions have {2 * dims.style_dim}"
        )
    version = str(config.get("version", run.config_dict().get("version", "v2")))
    if version not in NCSN_LEVELS:
        raise CheckpointError(f"{run.checkpoint_path}: unknown NCSN version {version!r}")
    return version


def refuse_run_mask(cfg: Any, what: str) -> None:
    """A composed run leaves ``mask=all``: each of its models keeps the mask of its own run."""
    mask = getattr(cfg.task_options, "mask", None)
    if mask not in (None, "all"):
        raise ConfigError(
            f"mask={mask} names the mask of one {what}; composed {what}s each use the mask they were trained with"
        )


def check_composed_energy(task: Any, cfg: Any, dims: EnvDims) -> str:
    """Every model of ``energy=LABEL:RUN,...`` as ``check_energy_run`` (each with its own motion
    and mask), one noise ladder for all, and a task that reports ``goal_distance`` when
    ``energy_gate`` asks for it; returns their NCSN version."""
    from imitate.algos.near_config import energy_sources

    sources = energy_sources(cfg.energy)
    if len(sources) == 1:
        return check_energy_run(task, sources[0][1], dims, cfg.task_options)
    refuse_run_mask(cfg, "energy model")
    versions = {label: check_energy_run(task, path, dims) for label, path in sources}
    if len(set(versions.values())) > 1:
        raise ConfigError(f"composed energy models need one noise ladder (NCSN version), got {versions}")
    if cfg.energy_gate:
        check_gate_task(task, cfg, "energy_gate", cfg.energy_gate)
    return next(iter(versions.values()))


def check_gate_task(task: Any, cfg: Any, key: str, gate: str) -> None:
    """A proximity gate (``energy_gate=``, ``style_gate=``) needs a task that reports ``goal_distance``."""
    from imitate.rewards.gate import GOAL_DISTANCE

    env = task.make_env(1, seed=0, cfg=cfg)
    try:
        if GOAL_DISTANCE not in getattr(getattr(env, "spec", None), "extras", {}):
            raise ConfigError(f"{key}={gate}: task {task.name!r} reports no {GOAL_DISTANCE}")
    finally:
        env.close()


def check_discriminator_runs(task: Any, cfg: Any, dims: EnvDims) -> None:
    """Every run of AMP's ``discriminators=LABEL:RUN,...``: an AMP run of ``task`` with one
    discriminator whose input fits the task's pairs under its own mask; the composed run itself
    leaves ``mask=all``."""
    from imitate.algos.amp import discriminator_state
    from imitate.algos.labelled_runs import labelled_runs
    from imitate.utils.run import CheckpointError, Run

    refuse_run_mask(cfg, "discriminator")
    for label, path in labelled_runs(cfg.discriminators, "discriminators"):
        run = Run.open(path)
        if run.algo != "amp" or run.task != task.name:
            raise ConfigError(
                f"discriminators: {label}:{path} is a {run.task}/{run.algo} run, not a {task.name}/amp run"
            )
        state = discriminator_state(run)
        columns = state.get("columns")
        reads = len(columns) if columns is not None else 2 * dims.style_dim
        if state["disc_config"]["in_dim"] != reads:
            raise CheckpointError(
                f"{run.checkpoint_path}: discriminator takes {state['disc_config']['in_dim']} features, "
                f"task {task.name!r} pairs give it {reads}"
            )
    if cfg.style_gate:
        check_gate_task(task, cfg, "style_gate", cfg.style_gate)


def check_level(name: str, level: int, version: str) -> None:
    if level >= NCSN_LEVELS[version]:
        raise ConfigError(
            f"{name}={level} but an NCSN {version} energy has levels 0..{NCSN_LEVELS[version] - 1} "
            f"(-1: {'adaptive annealing' if name == 'fixed_level' else 'the smallest σ'})"
        )


# -- world-model runs (AIME phase 2) -------------------------------------------------------------
def check_world_model_run(task: Any, cfg: Any, dims: EnvDims) -> None:
    """``cfg.world_model`` must be a world-model run of ``task`` made with this run's task options,
    whose model observes what the task (or ``cfg.demos``, by its layout) observes and acts with
    the task's action size."""
    from imitate.algos.world_model import load_world_model

    where = f"world_model={cfg.world_model}"
    names = [field.name for field in dataclasses.fields(cfg.task_options)]
    run = open_required_run(task, "world_model", cfg.world_model, "world-model", names, cfg.task_options)
    model = load_world_model(run.dir)
    if model.obs_dim != dims.obs_dim or model.act_dim != dims.act_dim:
        raise CheckpointError(
            f"{where}: the world model observes {model.obs_dim} numbers and acts with {model.act_dim}; "
            f"task {task.name!r} observes {dims.obs_dim} and acts with {dims.act_dim}"
        )
    if cfg.idm_guidance and model.idm is None:
        raise CheckpointError(f"{where} has no IDM for idm_guidance (train it with idm=true)")
    if getattr(cfg, "demos", ""):
        from imitate.data.sequences import obs_layout

        demos = load_demos_for(task, cfg, dims, needed_by="'aime'")
        load_world_model(run.dir, obs_layout(demos, cfg.demos), dims.act_dim)  # one line if the layouts differ


def check_aime_inputs(task: Any, cfg: Any, dims: EnvDims) -> None:
    """A given world model must fit (above); without one, phase 1 must be trainable on the task's
    oracle demonstrations, which need actions."""
    if cfg.world_model:
        check_world_model_run(task, cfg, dims)
    elif not (task.has_oracle and task.oracle_actions):
        raise ConfigError(
            f"task {task.name!r} has no oracle with actions to train a world model on: give "
            f"world_model=RUN_DIR (`imitate train {task.name} world-model demos=DATA_WITH_ACTIONS`)"
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
    if algo_name == "amp" and cfg.discriminators:
        check_discriminator_runs(task, cfg, dims)
    if getattr(cfg, "embodiment", ""):  # BCO, IIDM: the agent's own (observation, action) data
        load_demos_for(
            task, cfg, dims, need_actions=True, needed_by=f"{algo_name}'s dynamics model", source=cfg.embodiment
        )
    if algo_name in ("near", "cem"):
        if not cfg.energy:
            version = preset_energy_version(task)
        elif algo_name == "near":
            version = check_composed_energy(task, cfg, dims)
        else:
            version = check_energy_run(task, cfg.energy, dims, cfg.task_options)
        level_key = "fixed_level" if algo_name == "near" else "level"
        check_level(level_key, getattr(cfg, level_key), version)
    if algo_name == "aime":
        check_aime_inputs(task, cfg, dims)
