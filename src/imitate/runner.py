"""What each CLI subcommand does: resolve configs, create or reopen runs, train, evaluate, plot.

Which algorithm trains and evaluates a run is looked up in ``registry.ALGOS``; this module is
the run lifecycle around them (the training loops are ``algos/on_policy.py`` and
``algos/offline.py``; no algorithm calls back into it). Inputs (demo files, energy runs,
checkpoints) are checked before a run directory is created, and a new run that fails before its
first checkpoint is removed (``utils.run.guarded``), so bad input leaves nothing behind. A
resume (``resume=RUN``) is exact and writes nothing until the checkpoint has been loaded into
the freshly built model (see ``train``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from imitate.config import ConfigError, apply_overrides, load_yaml, preset, preset_file, to_dict
from imitate.config.run import INHERITED_KEYS
from imitate.pretrained import installed_path, is_pretrained, resolve_run_dir
from imitate.registry import ALGOS, TASKS, AlgoEntry, TaskEntry, get_algo, get_task
from imitate.utils.run import Run
from imitate.utils.seeding import seed_everything
from imitate.utils.wandb_mirror import WandbMirror, require_wandb


def default_config(task: TaskEntry, algo: AlgoEntry) -> Any:
    """The algorithm's default config holding the task's default options (``task_options``)."""
    return algo.config_class()(task_options=task.default_options())


def resolve_config(task_name: str, algo_name: str, overrides: dict[str, Any], check_inputs: bool = True) -> Any:
    """Defaults, then the task's preset (the named one of ``preset=NAME``, else its default), then
    ``overrides``; validated, and (``check_inputs``) with every file it names and the memory it
    needs checked (``inputs.check_run_inputs``)."""
    task, algo = get_task(task_name), get_algo(algo_name, task_name)
    name = str(overrides.get("preset") or "")
    cfg = apply_overrides(
        default_config(task, algo),
        preset(task_name, algo_name, name),
        f"preset {preset_file(task_name, name)}[{algo_name}]",
    )
    cfg = apply_overrides(cfg, overrides, f"`imitate train {task_name} {algo_name}`")
    cfg.validate()
    for key in ("energy", "discriminators"):  # pretrained:NAME, alone or LABEL:pretrained:NAME: read in place
        if "pretrained:" in str(getattr(cfg, key, "") or ""):
            setattr(cfg, key, _read_in_place(getattr(cfg, key), key))
    if check_inputs:
        from imitate.inputs import check_run_inputs

        check_run_inputs(task, algo_name, cfg)
    return cfg


def _read_in_place(value: str, key: str) -> str:
    """``key=``'s run list with each ``pretrained:NAME`` replaced by its package folder."""
    from imitate.algos.labelled_runs import labelled_runs

    entries = []
    for label, path in labelled_runs(value, key):
        path = str(installed_path(path).resolve()) if is_pretrained(path) else path
        entries.append(f"{label}:{path}" if label else path)
    return ",".join(entries)


def run_config(run: Run) -> Any:
    """A run's resolved config, read back from its ``config.yaml``."""
    cfg = apply_overrides(
        default_config(get_task(run.task), get_algo(run.algo)),
        run.config_dict(),
        f"{run.dir}/config.yaml",
        migrate=True,
    )
    try:
        cfg.validate()
    except ConfigError as exc:
        raise ConfigError(f"{run.dir}/config.yaml: {exc}") from None
    return cfg


def train_required(task_name: str, algo: AlgoEntry, cfg: Any) -> None:
    """The run ``algo.requires`` names, trained first when ``cfg`` leaves it empty (NEAR and CEM
    without ``energy=RUN_DIR``: NEAR step 1), with this run's ``INHERITED_KEYS`` (seed, out_dir,
    device, progress, the W&B keys) and task options (the humanoid's ``motion=``); its
    directory is written into ``cfg`` so the run's config names what it used."""
    if algo.requires is None or getattr(cfg, algo.requires[0]):
        return
    field, needed = algo.requires
    step = get_algo(needed).description.split(":")[0]
    print(f"no {field}=RUN_DIR given: training the {needed} model first ({step})", flush=True)
    first = train(task_name, needed, required_overrides(cfg))
    setattr(cfg, field, str(first.dir))


def required_overrides(cfg: Any) -> dict[str, Any]:
    """What the run an algorithm requires inherits from the run that needs it: ``INHERITED_KEYS``
    (seed, out_dir, device, progress, the W&B keys) and the task options (``imitate grid`` trains
    it as a job of its own)."""
    overrides: dict[str, Any] = {key: getattr(cfg, key) for key in INHERITED_KEYS}
    options = to_dict(cfg.task_options)
    if options:
        overrides["task_options"] = options
    return overrides


def train(task_name: str, algo_name: str, overrides: dict[str, Any]) -> Run:
    """Train a new run, or continue ``resume=RUN_DIR``; evaluate it and write ``metrics.json``.

    Every RNG is seeded before anything is built, so a seed gives one run. A resume writes
    nothing until the algorithm has loaded the checkpoint into its freshly built model and
    optimiser (``Run.begin``): a checkpoint that does not fit the (overridden) config fails
    with a one-line CheckpointError and leaves the run as it was. A run without a checkpoint
    (killed before its first one) is trained from scratch in its directory."""
    task, algo = get_task(task_name), get_algo(algo_name, task_name)
    state = None
    if is_pretrained(overrides.get("resume", "")):
        raise ConfigError(f"resume={overrides['resume']}: a pretrained run keeps no optimiser state to resume from")
    if overrides.get("resume"):
        run = Run.open(overrides["resume"])
        if (run.task, run.algo) != (task_name, algo_name):
            raise ConfigError(f"{run.dir} is a {run.task}/{run.algo} run, not {task_name}/{algo_name}")
        if "preset" in overrides:
            raise ConfigError("preset= picks a new run's settings; a resumed run keeps the ones in its config.yaml")
        cfg = apply_overrides(
            run_config(run),
            {k: v for k, v in overrides.items() if k != "resume"},
            f"`imitate train {task_name} {algo_name}`",
        )
        cfg.validate()
        require_wandb(cfg)
        if run.has_checkpoint():
            state = run.load_checkpoint(task_name, algo_name)
    else:
        cfg = resolve_config(task_name, algo_name, overrides)
        run = None
        train_required(task_name, algo, cfg)
    seed_everything(cfg.seed)
    result = algo.run_train(task, cfg, run, state)
    run, stats = result if isinstance(result, tuple) else (result, {})
    metrics = {**evaluate(run, quiet=True), **stats}
    run.write_metrics(metrics)
    if cfg.wandb:
        mirror_evaluation(run, metrics)
    return run


def mirror_evaluation(run: Run, metrics: dict[str, Any]) -> None:
    """An evaluation's numbers (and video) into the run's W&B run (``utils/wandb_mirror.py``)."""
    progress = run.read_progress()
    mirror = WandbMirror(run.dir, load_yaml(run.dir / "config.yaml"))
    try:
        mirror.log_evaluation(int(progress[-1]["step"]) if progress else 0, metrics)
    finally:
        mirror.close()


def evaluate(
    run_dir: str | Path | Run, episodes: int | None = None, quiet: bool = False, video: bool = False
) -> dict[str, Any]:
    """Evaluate a run, write ``metrics.json`` (merged with what training wrote) and plots;
    ``video=True`` (``--video``) also writes a video, where the algorithm on the task has one.
    ``pretrained:NAME`` evaluates a fresh copy of that shipped run (``pretrained.py``).
    A run trained with ``wandb=true`` gets the metrics and video in W&B too, unless ``quiet``
    (training's own evaluation, which ``train`` mirrors with its stats; ``imitate plot``)."""
    run = run_dir if isinstance(run_dir, Run) else Run.open(resolve_run_dir(run_dir))
    task, algo = get_task(run.task), get_algo(run.algo)
    cfg = run_config(run)
    episodes = getattr(cfg, "eval_episodes", 100) if episodes is None else episodes  # default: the run's own
    if episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    from imitate.inputs import check_memory, env_dims, eval_estimate

    check_memory(eval_estimate(cfg, env_dims(task, cfg), episodes), f"`imitate eval` of {episodes} episodes")
    if video:
        algo.check_video(task)
    if not quiet:
        require_wandb(cfg)
    seed_everything(cfg.seed + 10_000)  # an evaluation draws the same numbers however often it runs
    metrics = algo.run_evaluate(run, task, cfg, episodes, video=video)
    old = {}
    if (run.dir / "metrics.json").is_file():
        old = json.loads((run.dir / "metrics.json").read_text())
    metrics = {"task": run.task, "algo": run.algo, **{k: v for k, v in old.items() if k not in metrics}, **metrics}
    run.write_metrics(metrics)
    if cfg.wandb and not quiet:
        mirror_evaluation(run, metrics)
    return metrics


def export(run_dir: str | Path, onnx: str | Path) -> dict[str, Any]:
    """Write a run's policy (IBC: its energy) as an ONNX file (``algos/export.py``); returns what
    was written. The run, the algorithm and the output path are checked before any work."""
    run = Run.open(resolve_run_dir(run_dir))
    task, algo = get_task(run.task), get_algo(run.algo)
    algo.check_export()
    from imitate.inputs import check_output_path

    path = check_output_path(onnx)
    from imitate.algos.export import require_onnx

    require_onnx()
    cfg = run_config(run)
    summary = algo.run_export(run, task, cfg, path)
    return {"onnx": str(path), "task": run.task, "algo": run.algo, **summary}


def plot(run_dir: str | Path) -> list[Path]:
    """Every plot that fits the run: learning curves, and what evaluation draws (only where the
    run kept its checkpoint: committed benchmark runs often keep just their logs)."""
    from imitate.viz.curves import plot_learning_curves

    run = Run.open(resolve_run_dir(run_dir))
    made = [
        plot_learning_curves(
            run.read_progress(),
            list(get_algo(run.algo).curve_keys),
            run.plots_dir / "learning_curves.png",
            title=f"{run.task} / {run.algo}",
        )
    ]
    if run.checkpoint_path.is_file():
        evaluate(run, quiet=True)
    made += sorted(run.plots_dir.glob("*.png"))
    return sorted({p for p in made if p is not None})


def task_options(task: TaskEntry, overrides: dict[str, Any]) -> Any:
    """The task's own options (``n_dim=4``) for commands that have no algorithm, e.g. ``data``."""
    if task.options is None and overrides:
        raise ConfigError(f"task {task.name!r} takes no options, got {', '.join(overrides)}")
    cfg = apply_overrides(task.default_options(), overrides, f"task {task.name!r}")
    cfg.validate()
    return cfg


def make_data(
    task_name: str,
    episodes: int | None,
    out: str | None,
    seed: int = 0,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    data_format: str = "npz",
    policy: str | None = None,
    deterministic: bool = False,
    num_envs: int | None = None,
    mix: list[str] | None = None,
) -> tuple[Any, Any]:
    """Demonstrations written to ``out`` as our .npz file (the default) or, with
    ``data_format="minari"``, a Minari dataset; returns where they went and the demonstrations.

    They come from the task's oracle, or, on tasks without one (``policy_data``), from
    ``policy`` (``random``, ``RUN_DIR``, ``RUN_DIR@STEP``; ``algos/policy_data.py``) or from
    equal shares of the data sets ``mix`` (``data/mixture.py``)."""
    if data_format not in ("npz", "minari"):
        raise ConfigError(f"data format must be npz or minari, got {data_format!r}")
    task = get_task(task_name)
    make = _data_maker(task, policy, deterministic, num_envs, mix, overrides or {})
    episodes = (None if mix else task.default_episodes) if episodes is None else episodes
    if episodes is not None and episodes < 1:
        raise ConfigError(f"--episodes must be at least 1, got {episodes}")
    from imitate.data import minari_io
    from imitate.inputs import check_memory, check_output_path, demo_bytes, env_dims

    if data_format == "minari":
        target = minari_io.minari_target(out, minari_io.default_dataset_id(task_name, make.label))
        check_output_path(target.directory)
    elif out and out.startswith(minari_io.PREFIX):
        raise ConfigError(f"--out {out}: a Minari dataset id needs --format minari")
    else:
        path = check_output_path(out or f"data/{task_name}{'' if make.label == 'oracle' else '-' + make.label}.npz")
    if episodes is not None:
        check_memory(
            {"--episodes (demonstrations)": demo_bytes(episodes, env_dims(task, make.options))},
            f"`imitate data {task_name}` of {episodes} episodes",
        )
    demos = make.run(episodes, seed, progress)
    if data_format == "minari":
        import dataclasses

        from imitate.gym import env_spec

        return minari_io.write_minari(demos, target, env=env_spec(task_name, dataclasses.asdict(make.options))), demos
    demos.save(path)
    return path, demos


@dataclass
class DataMaker:
    """How ``imitate data`` makes a task's data set: ``run(episodes, seed, progress)``, the task
    options the data are made with, and a label naming the source (default file and Minari id)."""

    run: Callable[[Any, int, bool], Any]  # (episodes: None for a mix's default, seed, progress)
    options: Any
    label: str


def _data_maker(
    task: TaskEntry,
    policy: str | None,
    deterministic: bool,
    num_envs: int | None,
    mix: list[str] | None,
    overrides: dict[str, Any],
) -> DataMaker:
    """The oracle, a policy or a mixture, each refused in one line where it does not apply."""
    from imitate.algos.policy_data import MAX_ENVS, RANDOM, parse_policy, random_data

    name = task.name
    if policy is not None and mix is not None:
        raise ConfigError("--policy and --mix are two ways to make a data set; give one of them")
    if (policy is not None or mix is not None) and not task.policy_data:
        takers = ", ".join(t.name for t in TASKS.values() if t.policy_data)
        raise ConfigError(
            f"task {name!r} makes its demonstrations with its oracle (`imitate data {name}`); "
            f"--policy and --mix are for the tasks without one: {takers}"
        )
    spec = None if policy is None else parse_policy(policy)
    if deterministic and (spec is None or spec.is_random):
        raise ConfigError("--deterministic takes the mean action of a run's policy: give --policy RUN_DIR[@STEP]")
    if num_envs is not None and spec is None:
        raise ConfigError("--num-envs is the batch of a policy rollout: give --policy")
    batch = MAX_ENVS if num_envs is None else num_envs
    if batch < 1:
        raise ConfigError(f"--num-envs must be at least 1, got {batch}")
    if mix is not None:
        return _mix_maker(task, mix, overrides)
    if spec is not None and spec.is_random:
        options = task_options(task, overrides)
        return DataMaker(
            lambda n, seed, progress: random_data(task, options, n, seed, batch, progress), options, RANDOM
        )
    if spec is not None:
        return _run_maker(task, spec, deterministic, batch, overrides)
    if not task.has_oracle:
        if task.policy_data:
            raise ConfigError(
                f"task {name!r} has no oracle; its data come from a policy: --policy random, "
                "--policy RUN_DIR[@STEP|@latest], or --mix A.npz,B.npz (docs/datasets.md)"
            )
        raise ConfigError(f"task {name!r} has no oracle to generate demonstrations")
    options = task_options(task, overrides)
    return DataMaker(
        lambda n, seed, progress: task.run_oracle(n, seed=seed, progress=progress, cfg=options), options, "oracle"
    )


def _run_maker(task: TaskEntry, spec: Any, deterministic: bool, batch: int, overrides: dict[str, Any]) -> DataMaker:
    """A trained run's policy: a run of this task whose algorithm has a PPO policy, rolled out
    with the run's own task options (the policy sees what it was trained on)."""
    from imitate.algos.policy_data import run_policy_data, snapshot_checkpoint

    path = resolve_run_dir(spec.run_dir)
    if not path.is_dir():
        raise ConfigError(f"--policy {spec.run_dir}: neither 'random' nor a run directory")
    run = Run.open(path)
    where = f"--policy {run.dir}"
    if run.task != task.name:
        raise ConfigError(f"{where}: a run of task {run.task!r}, not {task.name!r}")
    algo = get_algo(run.algo)
    if not algo.has_ppo_policy:
        able = ", ".join(a.name for a in ALGOS.values() if a.has_ppo_policy)
        raise ConfigError(f"{where}: {run.algo!r} runs have no policy to roll out; runs of these algos do: {able}")
    cfg = run_config(run)
    options = cfg.task_options
    given = task_options(task, overrides)
    for key in overrides:
        if getattr(given, key) != getattr(options, key):
            raise ConfigError(
                f"{where}: the run was trained with {key}={getattr(options, key)}; its data are made with "
                f"the run's task options (leave {key}= out)"
            )
    checkpoint = snapshot_checkpoint(run, spec.step)
    label = f"{run.algo}-{'latest' if spec.step is None else f'step{spec.step}'}"
    return DataMaker(
        lambda n, seed, progress: run_policy_data(
            task, run, cfg, checkpoint, n, seed, deterministic=deterministic, num_envs=batch, progress=progress
        ),
        options,
        label,
    )


def _mix_maker(task: TaskEntry, files: list[str], overrides: dict[str, Any]) -> DataMaker:
    """Equal shares of the data sets ``files``, all of this task and made with the same task
    options, which the mixture keeps (so it takes none of its own)."""
    from imitate.data.dataset import Demonstrations
    from imitate.data.mixture import SOURCE, mix

    if overrides:
        raise ConfigError(
            f"--mix keeps the task options its data sets were made with; leave {', '.join(overrides)} out"
        )
    sources = [(f, Demonstrations.load(f, task=task.name)) for f in files]
    keys = tuple(f.name for f in fields(task.options_class()))
    recorded = {key: sources[0][1].metadata[key] for key in keys if key in sources[0][1].metadata}
    options = task_options(task, recorded)
    return DataMaker(lambda n, seed, progress: mix(sources, task.name, n, seed, option_keys=keys), options, SOURCE)


def set_threads() -> None:
    """One intra-op thread by default (IMITATE_THREADS to change): on a 2-core CPU a second
    thread gained nothing for these small networks and slowed everything when the machine was
    busy. Denormals are flushed: tiny PD velocities otherwise slow CPU maths badly."""
    import os

    torch.set_num_threads(max(1, int(os.environ.get("IMITATE_THREADS", "1"))))
    torch.set_flush_denormal(True)
