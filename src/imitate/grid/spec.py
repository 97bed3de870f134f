"""A grid's spec (``GRID.yaml`` or ``key=value`` on the command line) and its expansion into jobs.

A grid is tasks × algorithms × seeds × sweeps. Keys:

- ``tasks``, ``algos``: lists (``maze,pusht`` on the command line); ``seeds``: a count (3 means
  0, 1, 2) or a list of seeds.
- ``overrides``: config keys for every run; ``ALGO.key`` for one algorithm's runs only, also for
  the runs an algorithm requires (``energy.iterations`` reaches the energy models NEAR trains on).
- ``sweep``: ``key: [values]``; the grid is the product of every axis that reaches an algorithm
  (``near.w_task`` reaches NEAR's runs only, ``energy.version`` NEAR's energy models).
  On the command line ``sweep.KEY=a,b,c``.
- ``backend`` (``local`` or ``ray``), ``address`` (Ray: ``auto``, ``ray://HOST:PORT``,
  ``HOST:PORT`` or ``local``), ``jobs`` (runs at once), ``retries`` (per run), ``storage``
  (``shared`` or ``copy``, see ``grid/execute.py``), ``cpus`` and ``gpus`` per run, ``dir`` (the
  grid directory; given again, the grid resumes) and ``out_dir`` (where a new grid directory is
  made when ``dir`` is not given).

A run that an algorithm requires (NEAR's energy model, ``requires=`` in the registry) and that
its config leaves empty is a job of its own, trained once for every distinct set of keys that
reach it and shared by every cell that needs it: NEAR's 16 ablation cells per seed train 2 energy
models, one per NCSN version, not 16.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitate.config import ConfigError, load_yaml
from imitate.config.overrides import flatten

BACKENDS = ("local", "ray")
STORAGE = ("shared", "copy")
# Keys of the grid itself; every other key is a config key of the runs.
GRID_KEYS = (
    "tasks",
    "algos",
    "seeds",
    "overrides",
    "sweep",
    "backend",
    "address",
    "jobs",
    "retries",
    "storage",
    "cpus",
    "gpus",
    "dir",
    "out_dir",
)
# What a job inherits from the run that requires it (runner.required_overrides); the grid sets out_dir and progress.
GRID_OWNED = ("seed", "out_dir", "progress")


@dataclass
class GridSpec:
    tasks: list[str]
    algos: list[str]
    seeds: list[int]
    overrides: dict[str, str] = field(default_factory=dict)
    sweep: dict[str, list[str]] = field(default_factory=dict)
    backend: str = "local"
    address: str = "local"
    jobs: int | None = None  # local: the CPU count; ray: as many as the cluster places
    retries: int = 2
    storage: str = "shared"
    cpus: int = 1
    gpus: float | None = None  # None: 1 for a run on device=cuda, else 0
    dir: str = ""
    out_dir: str = "runs"

    def to_yaml(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in GRID_KEYS}


@dataclass
class Job:
    """One run: an algorithm on a task with one cell's keys and one seed."""

    task: str
    algo: str
    cell: str  # the cell's directory under <grid>/runs ("" without a sweep)
    seed: int
    args: dict[str, str]  # config keys as the command line gets them (no seed, out_dir, progress)
    axes: dict[str, str]  # the sweep values of this cell, for the tables
    role: str = "grid"  # "grid", or "required" (trained because a grid cell needs it)
    needs: dict[str, str] = field(default_factory=dict)  # config field -> name of the job that fills it
    gpus: float = 0.0

    @property
    def name(self) -> str:
        return "/".join(p for p in (self.task, self.algo, self.cell, f"seed{self.seed}") if p)

    @property
    def out(self) -> str:
        """This job's ``out_dir``, relative to the grid directory."""
        return str(Path("runs", self.cell)) if self.cell else "runs"

    def run_glob(self) -> str:
        """Where its run directory is, relative to the grid directory (one run per job)."""
        return f"{self.out}/{self.task}/{self.algo}/*-{self.seed}"


def as_arg(value: Any) -> str:
    """A YAML value as ``key=value`` text: booleans lower case, lists comma-separated."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(as_arg(v) for v in value)
    return str(value)


def _names(value: Any, key: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise ConfigError(f"{key} expects a list of names, got {value!r}")
    return [v.strip() for v in items]


def _int(value: Any, key: str, least: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} expects int, got {value!r}") from None
    if isinstance(value, bool) or str(number) != str(value).strip() or number < least:
        raise ConfigError(f"{key} must be at least {least}, got {value!r}")
    return number


def _seeds(value: Any) -> list[int]:
    if isinstance(value, (int, str)) and not isinstance(value, bool) and "," not in str(value):
        return list(range(_int(value, "seeds", 1)))
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ConfigError(f"seeds expects a count or a list of seeds, got {value!r}")
    seeds = [_int(v, "seeds", 0) for v in items]
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds are given twice: {value!r}")
    return seeds


def parse_spec(raw: dict[str, Any]) -> GridSpec:
    """A spec from the YAML mapping merged with the command line's keys; every key checked."""
    unknown = sorted(set(raw) - set(GRID_KEYS))
    if unknown:
        raise ConfigError(f"unknown grid key {unknown[0]!r}; grid keys: {', '.join(GRID_KEYS)}")
    for key in ("tasks", "algos"):
        if key not in raw:
            raise ConfigError(f"a grid needs {key}= (e.g. tasks=maze algos=ppo,near)")
    overrides = raw.get("overrides") or {}
    sweep = raw.get("sweep") or {}
    if not isinstance(overrides, dict) or not isinstance(sweep, dict):
        raise ConfigError("overrides and sweep are mappings of config keys")
    axes: dict[str, list[str]] = {}
    for key, values in flatten(sweep).items():
        values = values.split(",") if isinstance(values, str) else values
        if not isinstance(values, list) or not values:
            raise ConfigError(f"sweep.{key} expects a list of values, got {values!r}")
        axes[key] = [as_arg(v) for v in values]
        if len(set(axes[key])) != len(axes[key]):
            raise ConfigError(f"sweep.{key} lists a value twice: {', '.join(axes[key])}")
    spec = GridSpec(
        tasks=_names(raw["tasks"], "tasks"),
        algos=_names(raw["algos"], "algos"),
        seeds=_seeds(raw.get("seeds", 3)),
        overrides={k: as_arg(v) for k, v in flatten(overrides).items()},
        sweep=axes,
        backend=str(raw.get("backend", "local")),
        address=str(raw.get("address", "local")),
        jobs=None if raw.get("jobs") in (None, "") else _int(raw["jobs"], "jobs", 1),  # jobs=: no limit (Ray)
        retries=_int(raw.get("retries", 2), "retries", 0),
        storage=str(raw.get("storage", "shared")),
        cpus=_int(raw.get("cpus", 1), "cpus", 1),
        gpus=None if raw.get("gpus") in (None, "") else _float(raw["gpus"], "gpus"),
        dir=str(raw.get("dir") or ""),
        out_dir=str(raw.get("out_dir") or "runs"),
    )
    if spec.backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {spec.backend!r}")
    if spec.storage not in STORAGE:
        raise ConfigError(f"storage must be one of {', '.join(STORAGE)}, got {spec.storage!r}")
    for key in set(spec.sweep) & set(spec.overrides):
        raise ConfigError(f"{key} is both swept and fixed; give it in sweep or in overrides")
    return spec


def _float(value: Any, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} expects a number, got {value!r}") from None
    if not number >= 0:
        raise ConfigError(f"{key} must be at least 0, got {value!r}")
    return number


def load_spec(path: str | None, cli: dict[str, str]) -> GridSpec:
    """``GRID.yaml`` (if given) with the command line's ``key=value`` on top: grid keys replace
    the file's, ``sweep.KEY=a,b`` replaces one axis, any other key is a config override."""
    raw: dict[str, Any] = {}
    if path:
        if not Path(path).is_file():
            raise ConfigError(f"grid file not found: {path}")
        raw = load_yaml(Path(path))
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: a grid file is a mapping of grid keys")
    raw = {
        **raw,
        "overrides": dict(flatten(raw.get("overrides") or {})),
        "sweep": dict(flatten(raw.get("sweep") or {})),
    }
    for key, value in cli.items():
        if key.startswith("sweep."):
            raw["sweep"][key[6:]] = value
        elif key in GRID_KEYS and key not in ("overrides", "sweep"):
            raw[key] = value
        else:
            raw["overrides"][key] = value
    return parse_spec(raw)


# -- expansion into jobs --------------------------------------------------------------------------
def slug(assignment: list[tuple[str, str]]) -> str:
    """A cell's directory name from its sweep values (``absorbing_success=false,noise_level=middle``)."""
    text = ",".join(f"{k}={v}" for k, v in assignment)
    text = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)
    if len(text) > 120:  # file names have limits; the hash keeps long cells apart
        text = text[:100] + "-" + hashlib.sha1(text.encode()).hexdigest()[:10]
    return text


def _scope(key: str, algos: set[str]) -> tuple[str | None, str]:
    """``ALGO.key`` -> (ALGO, key); any other key (``lr``, ``task_options.n_dim``) -> (None, key)."""
    prefix, dot, rest = key.partition(".")
    return (prefix, rest) if dot and prefix in algos else (None, key)


def expand(spec: GridSpec) -> list[Job]:
    """Every job of the grid, each checked (``resolve_config``) before anything runs; required
    runs first, shared between the cells that need the same one."""
    from imitate.registry import ALGOS, get_algo, get_task
    from imitate.runner import required_overrides, resolve_config

    for task in spec.tasks:
        get_task(task)
    for algo in spec.algos:
        for task in spec.tasks:
            get_algo(algo, task)
    required = {entry.requires[1] for entry in map(get_algo, spec.algos) if entry.requires is not None}
    scoped = set(spec.algos) | required
    for key in [*spec.overrides, *spec.sweep]:
        prefix = key.partition(".")[0]
        if "." in key and prefix in ALGOS and prefix not in scoped:
            raise ConfigError(f"{key}: {prefix!r} is not one of the grid's algos ({', '.join(spec.algos)})")

    def reaching(algo: str, keys: dict[str, Any], own: bool = False) -> dict[str, Any]:
        """The keys for ``algo``'s runs, prefix removed (``own``: prefixed ones only, for a run
        another algorithm requires: it inherits the rest through ``required_overrides``)."""
        out = {}
        for key, value in keys.items():
            owner, rest = _scope(key, scoped)
            if owner == algo or (owner is None and not own):
                out[key if owner is None else rest] = value
        return out

    jobs: dict[str, Job] = {}
    grid_jobs: list[Job] = []
    for task in spec.tasks:
        for algo in spec.algos:
            entry = get_algo(algo, task)
            # axes of its own, shared ones, and those of the run it requires (energy.version for NEAR)
            own = (None, algo, entry.requires[1] if entry.requires else algo)
            axes = [(k, v) for k, v in spec.sweep.items() if _scope(k, scoped)[0] in own]
            for assignment in _product(axes):
                values = dict(assignment)
                args = {**reaching(algo, spec.overrides), **reaching(algo, values)}
                context = f"grid cell {task}/{algo}" + (f" [{slug(assignment)}]" if assignment else "")
                cfg = _checked(task, algo, args, context, resolve_config)
                needs: dict[str, str] = {}
                dep_args: dict[str, str] | None = None
                if entry.requires and not getattr(cfg, entry.requires[0]):
                    field_name, needed = entry.requires
                    inherited = {
                        k: as_arg(v) for k, v in flatten(required_overrides(cfg)).items() if k not in GRID_OWNED
                    }
                    dep_args = {**inherited, **reaching(needed, spec.overrides, True), **reaching(needed, values, True)}
                    _checked(task, needed, dep_args, f"{context}: its {needed} run", resolve_config)
                    dep_assignment = [(k, v) for k, v in assignment if _inherits(k, needed, scoped, cfg)]
                for seed in spec.seeds:
                    if dep_args is not None:
                        dep = _unique(
                            jobs,
                            Job(
                                task,
                                needed,
                                slug(dep_assignment),
                                seed,
                                dep_args,
                                dict(dep_assignment),
                                role="required",
                            ),
                        )
                        needs = {field_name: dep.name}
                    gpus = spec.gpus if spec.gpus is not None else float(str(cfg.device).startswith("cuda"))
                    job = Job(task, algo, slug(assignment), seed, args, values, needs=dict(needs), gpus=gpus)
                    grid_jobs.append(_unique(jobs, job))
    for job in jobs.values():
        if job.role == "required":
            job.gpus = (
                spec.gpus
                if spec.gpus is not None
                else max((j.gpus for j in grid_jobs if job.name in j.needs.values()), default=0.0)
            )
    return [j for j in jobs.values() if j.role == "required"] + [j for j in jobs.values() if j.role == "grid"]


def _inherits(key: str, needed: str, scoped: set[str], cfg: Any) -> bool:
    """Whether a sweep key reaches the run ``needed`` by name (``energy.version``) or through
    what it inherits (the task options, the device): then it tells the required runs apart."""
    from imitate.config import leaves, resolve_key

    owner, rest = _scope(key, scoped)
    if owner is not None:
        return owner == needed
    path = resolve_key(key, leaves(cfg), "")
    return path.startswith("task_options.") or path == "device"


def _product(axes: list[tuple[str, list[str]]]) -> list[list[tuple[str, str]]]:
    import itertools

    keys = [k for k, _ in axes]
    return [list(zip(keys, combo)) for combo in itertools.product(*(v for _, v in axes))]


def _checked(task: str, algo: str, args: dict[str, str], context: str, resolve_config: Any) -> Any:
    try:
        return resolve_config(task, algo, dict(args))
    except ConfigError as exc:
        raise ConfigError(f"{context}: {exc}") from None


def _unique(jobs: dict[str, Job], job: Job) -> Job:
    """The job of that name (one run directory per name); a second cell needing it shares it."""
    if job.name in jobs:
        if jobs[job.name].role != job.role and job.role == "grid":
            jobs[job.name].role = "grid"  # asked for in the grid too: it is a row of the table
        return jobs[job.name]
    jobs[job.name] = job
    return job
