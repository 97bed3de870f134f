"""The registry: every task and algorithm by name, each part named lazily as ``module:attr``.

Nothing here imports torch or a task or algorithm module: ``imitate list`` reads names and
descriptions only, and a part is imported when it is first used (``resolve``). Entries declare
what they need and can do (``needs_demos``, ``needs_energy``, ``video``, the tasks an algorithm
runs on), so callers ask the entry instead of inspecting signatures. Adding a task or an
algorithm is one entry here (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from imitate.config import ConfigError, NoOptions


def resolve(path: str) -> Any:
    """The object a ``module:attr`` path names, imported now."""
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


def task_options(cfg: Any) -> Any:
    """A task's options from a run config (its ``task_options`` group), or ``cfg`` itself."""
    return getattr(cfg, "task_options", cfg)


@dataclass(frozen=True)
class TaskEntry:
    name: str
    description: str
    env: str  # (num_envs, seed=0, device="cpu", options=None) -> VecEnv
    options: str | None = None  # the task's options dataclass (torch-free module)
    oracle: str | None = None  # (num_episodes, seed=0, progress=False, cfg=options) -> Demonstrations
    plot: str | None = None  # (policy_trajs, demo_trajs, path, title=...) -> None
    metrics: str | None = None  # (policy_trajs, demo_trajs) -> extra metrics
    # (policy_trajs, options) -> metrics of the evaluation episodes alone, no demonstrations needed
    outcome_metrics: str | None = None
    # (env) -> an observer of the evaluation rollout with .metrics() (the humanoid's motion metrics)
    rollout_observer: str | None = None
    video: str | None = None  # (policy_trajs, path, title=...) -> path: a video of evaluation episodes
    observer_video: bool = False  # ... or its rollout observer has .write_video(path, title) (humanoid)
    # ... or (env) -> a rollout observer that keeps what the video draws, made only for --video, with
    # .write_video(path, title) -> metrics (the dm_control tasks: the first envs' qpos)
    video_recorder: str | None = None
    default_episodes: int = 600
    oracle_actions: bool = True  # its oracle's demonstrations carry actions (False: observation only)
    # the observation group its demonstrations hold: "policy", or "style" (the humanoid's clip
    # features, which a goal task's policy observation extends with the goal)
    demo_group: str = "policy"
    # no oracle: `imitate data` rolls out a policy (--policy random | RUN_DIR[@STEP]) or mixes data sets
    policy_data: bool = False

    def options_class(self) -> type:
        return resolve(self.options) if self.options else NoOptions

    def default_options(self) -> Any:
        return self.options_class()()

    def _options(self, cfg: Any) -> Any:
        opts = task_options(cfg)
        return self.default_options() if opts is None else opts

    def make_env(self, num_envs: int, seed: int = 0, device: Any = "cpu", cfg: Any = None) -> Any:
        """The batched env; ``cfg`` is a run config or the task's options."""
        return resolve(self.env)(num_envs, seed=seed, device=device, options=self._options(cfg))

    @property
    def has_oracle(self) -> bool:
        return self.oracle is not None

    def run_oracle(self, num_episodes: int, seed: int = 0, progress: bool = False, cfg: Any = None) -> Any:
        if self.oracle is None:
            raise ConfigError(f"task {self.name!r} has no oracle to generate demonstrations")
        demos = resolve(self.oracle)(num_episodes, seed=seed, progress=progress, cfg=self._options(cfg))
        demos.metadata["task"] = self.name  # one oracle may serve several tasks (the humanoid's goal tasks)
        return demos

    def plot_trajectories(self, policy_trajs: Any, demo_trajs: Any, path: Any, **kwargs: Any) -> Any:
        return resolve(self.plot)(policy_trajs, demo_trajs, path, **kwargs) if self.plot else None

    def make_rollout_observer(self, env: Any) -> Any:
        return resolve(self.rollout_observer)(env) if self.rollout_observer else None

    def trajectory_metrics(self, policy_trajs: Any, demo_trajs: Any) -> dict:
        return dict(resolve(self.metrics)(policy_trajs, demo_trajs)) if self.metrics else {}

    def episode_outcomes(self, policy_trajs: Any, cfg: Any = None) -> dict:
        """``cfg``: the run config (or the task's options) the episodes were run with."""
        if self.outcome_metrics is None:
            return {}
        return dict(resolve(self.outcome_metrics)(policy_trajs, self._options(cfg)))

    def make_video_recorder(self, env: Any) -> Any:
        """The task's ``video_recorder`` of ``env``'s rollout, or None (its video is drawn from
        the observations, or it has none)."""
        return resolve(self.video_recorder)(env) if self.video_recorder else None

    def write_video(self, policy_trajs: Any, path: Any, title: str = "policy") -> Any:
        if self.video is None:
            raise ConfigError(f"task {self.name!r} has no video of its episodes")
        return resolve(self.video)(policy_trajs, path, title=title)


@dataclass(frozen=True)
class AlgoEntry:
    name: str
    description: str
    config: str  # its config dataclass (torch-free module beside the algorithm)
    train: str  # (task, cfg, run | None, state | None, **train_kwargs) -> Run | (Run, stats)
    evaluate: str  # (run, task, cfg, episodes, **video) -> metrics; writes plots
    reward: str | None = None  # on-policy methods: the reward factory (task, cfg, env) -> RewardModule
    curve_keys: tuple[str, ...] = ()  # progress.jsonl keys that `imitate plot` draws
    tasks: tuple[str, ...] = ()  # the tasks it runs on; empty: all
    needs_demos: bool = False  # reads a demonstration file (or makes one with the task's oracle)
    needs_actions: bool = False  # ... and its actions (behavioural cloning)
    # (config field, algo): the field names a run of that algo; when a new run leaves it empty
    # the runner trains one first (same seed, out_dir, device, progress) and fills it in
    requires: tuple[str, str] | None = None
    video: bool = False  # ``imitate eval --video`` writes its own video (the humanoid's tracking)
    task_video: bool = False  # ... or the task's of its evaluation episodes (``TaskEntry.video``)
    observer_video: bool = False  # ... or the rollout observer's (``TaskEntry.observer_video``)
    export: str | None = None  # (run, task, cfg, path) -> summary: writes the run's policy as ONNX

    @property
    def has_ppo_policy(self) -> bool:
        """Its runs hold a PPO actor-critic (``algos.ppo.load_policy``), which ``imitate data
        --policy RUN`` rolls out."""
        return self.export == PPO_EXPORT

    @property
    def needs_energy(self) -> bool:
        """It is scored by a NEAR energy model (``energy=RUN``, trained first when empty)."""
        return self.requires is not None and self.requires[1] == "energy"

    def config_class(self) -> type:
        return resolve(self.config)

    def run_train(self, task: TaskEntry, cfg: Any, run: Any, state: Any) -> Any:
        if self.reward is not None:  # one on-policy loop; the reward plug-in is what differs
            return resolve(self.train)(task, self.name, cfg, run, state, resolve(self.reward))
        return resolve(self.train)(task, cfg, run, state)

    def writes_video(self, task: TaskEntry) -> bool:
        if self.tasks and task.name not in self.tasks:
            return False
        return (
            self.video
            or (self.task_video and (task.video is not None or task.video_recorder is not None))
            or (self.observer_video and task.observer_video)
        )

    def check_video(self, task: TaskEntry) -> None:
        """Refuse ``--video`` in one line where this algorithm on ``task`` has no video; the
        line names where it has one, algorithms with the same tasks together."""
        if not self.writes_video(task):
            groups: dict[tuple[str, ...], list[str]] = {}
            for algo in ALGOS.values():
                tasks = tuple(name for name, t in TASKS.items() if algo.writes_video(t))
                if tasks:
                    groups.setdefault(tasks, []).append(algo.name)
            able = "; ".join(f"{', '.join(algos)} on {', '.join(tasks)}" for tasks, algos in groups.items())
            raise ConfigError(f"--video is not supported for {task.name}/{self.name} runs; it is for {able}")

    def run_evaluate(self, run: Any, task: TaskEntry, cfg: Any, episodes: int, video: bool = False) -> dict:
        if video:
            self.check_video(task)
        return resolve(self.evaluate)(run, task, cfg, episodes, **({"video": True} if video else {}))

    def check_export(self) -> None:
        """Refuse, in one line, an algorithm whose runs have no policy (energy, cem)."""
        if self.export is None:
            able = ", ".join(name for name, algo in ALGOS.items() if algo.export)
            raise ConfigError(f"{self.name!r} runs have no policy to export; runs of these algos do: {able}")

    def run_export(self, run: Any, task: TaskEntry, cfg: Any, path: Any) -> dict:
        self.check_export()
        assert self.export is not None
        return dict(resolve(self.export)(run, task, cfg, path))


# `imitate data` episodes of a DeepMind Control task by default; AIME's data sets hold 1000 (docs/dmc.md)
DMC_EPISODES = 100


def _task(name: str, description: str, family: str, factory: str, **kw: Any) -> TaskEntry:
    return TaskEntry(name, description, f"imitate.tasks.{family}:{factory}", **kw)


TASKS: dict[str, TaskEntry] = {
    t.name: t
    for t in (
        _task(
            "maze",
            "NEAR's 2-D maze: reach the far corner (Diwan et al. 2025)",
            "maze",
            "MazeEnv",
            oracle="imitate.oracles.maze:maze_oracle",
            plot="imitate.viz.maze:plot_maze_trajectories",
            metrics="imitate.eval.metrics:maze_metrics",
            video="imitate.viz.maze:write_maze_video",
        ),
        _task(
            "block-push",
            "IBC's planar block pushing in MuJoCo: push the block onto the target (Florence et al. 2021); "
            "option success_tolerance_m=M (0.02; IBC's MSE configs: 0.01)",
            "block_push",
            "BlockPushEnv",
            options="imitate.tasks.block_push_options:BlockPushOptions",
            oracle="imitate.oracles.block_push:block_push_oracle",
            plot="imitate.viz.block_push:plot_block_push_trajectories",
            outcome_metrics="imitate.eval.metrics:block_push_metrics",  # success at 0.01 m and 0.02 m
            video="imitate.viz.block_push:write_block_push_video",
            default_episodes=1000,
        ),
        _task(
            "particle",
            "IBC's N-D particle: visit goal 1, then goal 2 (Florence et al. 2021); "
            "options n_dim=N, goal_order=fixed|either",
            "particle",
            "ParticleEnv",
            options="imitate.tasks.particle_options:ParticleOptions",
            oracle="imitate.oracles.particle:particle_oracle",
            plot="imitate.viz.particle:plot_particle_trajectories",
            video="imitate.viz.particle:write_particle_video",
            default_episodes=2000,
        ),
        _task(
            "pusht",
            "Diffusion Policy's Push-T in MuJoCo: push the T block onto the goal T (Chi et al. 2023)",
            "pusht",
            "PushTEnv",
            oracle="imitate.oracles.pusht:pusht_oracle",
            plot="imitate.viz.pusht:plot_pusht_trajectories",
            outcome_metrics="imitate.eval.metrics:pusht_metrics",  # final and best coverage, every method
            video="imitate.viz.pusht:write_pusht_video",
            default_episodes=200,
        ),
        _task(
            "humanoid",
            "imitation from observation of motion clips (NEAR, Diwan et al. 2025; AMP, Peng et al. 2021): "
            "absolute PD targets, no phase; "
            "option motion=walk|run|spinkick|punch|CLIP|LIST.yaml, task_reward=time|dist|height, mask=all|upper|lower",
            "humanoid.imitation",
            "HumanoidEnv",
            options="imitate.tasks.humanoid.options:HumanoidOptions",
            oracle="imitate.oracles.humanoid:humanoid_oracle",
            oracle_actions=False,
            demo_group="style",
            rollout_observer="imitate.eval.humanoid:ImitationRecorder",
            observer_video=True,  # --video: the best episode beside the clip it started from
        ),
        *(
            _task(
                name,
                f"{what} on the humanoid imitation task (NEAR, Diwan et al. 2025): the goal in the policy's "
                f"observation, not in the style features; options {keys}, motion=..., local_root_obs=true|false",
                "humanoid.goals",
                factory,
                options=f"imitate.tasks.humanoid.options:{opts}",
                oracle="imitate.oracles.humanoid:humanoid_oracle",
                oracle_actions=False,
                demo_group="style",
                rollout_observer="imitate.eval.humanoid:GoalRecorder",
                observer_video=True,
            )
            for name, factory, opts, what, keys in (
                (
                    "humanoid-target",
                    "HumanoidTargetEnv",
                    "TargetOptions",
                    "target reaching",
                    "goal_angle_deg, goal_min_m, goal_max_m, success_m",
                ),
                (
                    "humanoid-strike",
                    "HumanoidStrikeEnv",
                    "StrikeOptions",
                    "strike (knock a 1 x 1 x 2 m box over with a hand)",
                    "goal_angle_deg, goal_min_m, goal_max_m, knock_tilt_deg",
                ),
            )
        ),
        _task(
            "humanoid-walk",
            "DeepMimic tracking (Peng et al. 2018) of humanoid3d_walk with a MuJoCo humanoid; option clip=NAME",
            "humanoid.tracking",
            "HumanoidTrackingEnv",
            options="imitate.tasks.humanoid.options:TrackingOptions",
        ),
        _task(
            "humanoid-cartwheel",
            "DeepMimic tracking (Peng et al. 2018) of humanoid3d_cartwheel (hands may touch the ground); "
            "option clip=NAME",
            "humanoid.tracking",
            "HumanoidTrackingEnv",
            options="imitate.tasks.humanoid.options:CartwheelOptions",
        ),
        *(
            _task(
                name,
                f"AIME's DeepMind Control {name.replace('-', ' ')} (Zhang et al. 2023): {what}, batched; "
                "options setup=mdp|lpomdp, action_repeat=N",
                "dmc",
                factory,
                options="imitate.tasks.dmc_options:DmcOptions",
                policy_data=True,
                default_episodes=DMC_EPISODES,
                video_recorder="imitate.eval.dmc:DmcVideoRecorder",  # --video: MuJoCo, or a side view
            )
            for name, factory, what in (
                ("walker-stand", "WalkerStandEnv", "dm_control's task"),
                ("walker-walk", "WalkerWalkEnv", "dm_control's task"),
                ("walker-run", "WalkerRunEnv", "dm_control's task"),
                ("cheetah-run", "CheetahRunEnv", "dm_control's task"),
                ("cheetah-run-backward", "CheetahRunBackwardEnv", "AIME's reward"),
                ("cheetah-flip", "CheetahFlipEnv", "AIME's reward"),
                ("cheetah-flip-backward", "CheetahFlipBackwardEnv", "AIME's reward"),
            )
        ),
    )
}

# Style learners score pairs of demonstrated observations: tasks whose demonstrations are their
# style features and that have an oracle (the humanoid's demonstrations are clip frames' features).
STYLE_TASKS = ("maze", "pusht", "block-push", "humanoid", "humanoid-target", "humanoid-strike")
DMC_TASKS = tuple(name for name, task in TASKS.items() if task.env.startswith("imitate.tasks.dmc:"))
# Imitation from observation by a dynamics model (BCO, IIDM): tasks whose demonstrations are the
# policy's own observations (the humanoid's are clip features; the tracking tasks have no data).
OBSERVATION_TASKS = ("maze", "block-push", "particle", "pusht", *DMC_TASKS)
POLICY_CURVES = ("episode/success_rate", "episode/length", "episode/return", "policy/action_std")
BC_CURVES = ("bc/loss",)  # behavioural cloning (ibc-*, mse, mdn)
ON_POLICY = "imitate.algos.on_policy:train_policy"
PPO_EXPORT = "imitate.algos.export:export_ppo"  # deterministic actor, normaliser folded in
BC_EXPORT = "imitate.algos.export:export_bc"
IBC_EXPORT = "imitate.algos.export:export_ibc"  # the energy; the action search is the caller's
POLICY_EVAL = "imitate.algos.on_policy:evaluate_policy_run"

ALGOS: dict[str, AlgoEntry] = {
    a.name: a
    for a in (
        AlgoEntry(
            "ppo",
            "PPO on the task reward only (baseline)",
            "imitate.algos.ppo_config:TaskPPOConfig",
            ON_POLICY,
            POLICY_EVAL,
            reward="imitate.algos.on_policy:make_task_reward",
            curve_keys=POLICY_CURVES,
            task_video=True,
            observer_video=True,
            export=PPO_EXPORT,
        ),
        AlgoEntry(
            "energy",
            "NEAR step 1: NCSN energy model of expert transitions (denoising score matching)",
            "imitate.algos.energy_config:EnergyConfig",
            "imitate.algos.energy:train_energy_run",
            "imitate.algos.energy:evaluate_energy_run",
            curve_keys=("energy/dsm_loss",),
            tasks=STYLE_TASKS,
            needs_demos=True,
        ),
        AlgoEntry(
            "near",
            "NEAR step 2: PPO on the annealed energy reward (+ task reward); energy=RUN_DIR or runs step 1 first",
            "imitate.algos.near_config:NEARConfig",
            ON_POLICY,
            POLICY_EVAL,
            reward="imitate.algos.near:make_near_reward",
            curve_keys=POLICY_CURVES + ("near/sigma_level", "near/mean_energy", "reward/r_energy"),
            tasks=STYLE_TASKS,
            requires=("energy", "energy"),
            task_video=True,
            observer_video=True,
            export=PPO_EXPORT,
        ),
        AlgoEntry(
            "amp",
            "AMP: PPO on an adversarial (discriminator) style reward (+ task reward)",
            "imitate.algos.amp_config:AMPConfig",
            "imitate.algos.amp:train_amp",
            "imitate.algos.amp:evaluate_amp",
            curve_keys=POLICY_CURVES + ("amp/accuracy", "amp/d_expert", "amp/d_policy", "amp/gp", "reward/r_amp"),
            tasks=STYLE_TASKS,
            needs_demos=True,
            task_video=True,
            observer_video=True,
            export=PPO_EXPORT,
        ),
        AlgoEntry(
            "cem",
            "CEM model-predictive control scored by a NEAR energy (no training); energy=RUN_DIR",
            "imitate.algos.cem_config:CEMConfig",
            "imitate.algos.cem:train_cem",
            "imitate.algos.cem:evaluate_cem",
            tasks=STYLE_TASKS,
            requires=("energy", "energy"),
            task_video=True,
        ),
        AlgoEntry(
            "ibc-dfo",
            "implicit BC: energy E(o,a) by InfoNCE on uniform negatives; actions by DFO",
            "imitate.algos.ibc_config:IBCConfig",
            "imitate.algos.ibc:train_ibc_dfo",
            "imitate.algos.ibc:evaluate_run",
            curve_keys=BC_CURVES + ("bc/true_action_top1",),
            needs_demos=True,
            needs_actions=True,
            export=IBC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "ibc-langevin",
            "implicit BC with Langevin negatives + gradient penalty; actions by Langevin MCMC",
            "imitate.algos.ibc_config:IBCLangevinConfig",
            "imitate.algos.ibc:train_ibc_langevin",
            "imitate.algos.ibc:evaluate_run",
            curve_keys=BC_CURVES + ("bc/true_action_top1", "bc/grad_penalty"),
            needs_demos=True,
            needs_actions=True,
            export=IBC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "ibc-ardfo",
            "implicit BC, autoregressive DFO: one energy per action dimension, a 1-D search per dimension",
            "imitate.algos.ibc_config:IBCARDFOConfig",
            "imitate.algos.ibc_ardfo:train_ibc_ardfo",
            "imitate.algos.ibc_ardfo:evaluate_run",
            curve_keys=BC_CURVES + ("bc/true_action_top1",),
            needs_demos=True,
            needs_actions=True,
            export="imitate.algos.export:export_ibc_ardfo",
            task_video=True,
        ),
        AlgoEntry(
            "mse",
            "explicit BC baseline: MSE regression of actions",
            "imitate.algos.bc_config:BCConfig",
            "imitate.algos.bc:train_mse",
            "imitate.algos.bc:evaluate_run",
            curve_keys=BC_CURVES,
            needs_demos=True,
            needs_actions=True,
            export=BC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "mdn",
            "explicit BC baseline: mixture density network (NaN-safe likelihood)",
            "imitate.algos.bc_config:BCConfig",
            "imitate.algos.bc:train_mdn",
            "imitate.algos.bc:evaluate_run",
            curve_keys=BC_CURVES,
            needs_demos=True,
            needs_actions=True,
            export=BC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "world-model",
            "AIME phase 1: RSSM world model of (observation, action) episodes, trained by its ELBO",
            "imitate.algos.world_model_config:WorldModelConfig",
            "imitate.algos.world_model:train_world_model_run",
            "imitate.algos.world_model:evaluate_world_model_run",
            curve_keys=("world_model/loss", "world_model/kl", "world_model/elbo"),
            needs_demos=True,
            needs_actions=True,
        ),
        AlgoEntry(
            "aime",
            "AIME phase 2: a policy whose actions make a frozen world model find observation-only "
            "demos likely; world_model=RUN_DIR or runs phase 1 first",
            "imitate.algos.aime_config:AimeConfig",
            "imitate.algos.aime:train_aime_run",
            "imitate.algos.aime:evaluate_aime_run",
            curve_keys=("aime/loss", "aime/kl", "aime/elbo"),
            needs_demos=True,
            requires=("world_model", "world-model"),
            task_video=True,
        ),
        AlgoEntry(
            "bco",
            "AIME's baseline BCO(0): an inverse dynamics model fitted on embodiment=DATA labels the "
            "observation-only demos, then BC",
            "imitate.algos.bco_config:BCOConfig",
            "imitate.algos.bco:train_bco",
            "imitate.algos.bco:evaluate_bco",
            curve_keys=("idm/loss", *BC_CURVES),
            tasks=OBSERVATION_TASKS,
            needs_demos=True,
            export=BC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "iidm",
            "AIME's baseline IIDM: a forward model fitted on embodiment=DATA; the policy's action, through it, "
            "predicts the demos' next observation",
            "imitate.algos.bco_config:IIDMConfig",
            "imitate.algos.iidm:train_iidm",
            "imitate.algos.iidm:evaluate_iidm",
            curve_keys=("forward_model/loss", *BC_CURVES),
            tasks=OBSERVATION_TASKS,
            needs_demos=True,
            export=BC_EXPORT,
            task_video=True,
        ),
        AlgoEntry(
            "deepmimic",
            "DeepMimic: PPO on the motion-tracking reward (humanoid; product of terms or DeepMimic's weighted sum)",
            "imitate.algos.ppo_config:PPOConfig",
            ON_POLICY,
            "imitate.algos.deepmimic:evaluate_tracking_run",
            reward="imitate.rewards.tracking:make_tracking_reward",
            curve_keys=(
                "reward/tracking",
                "reward/base_height",
                "reward/joint_pos",
                "reward/base_orientation",
                "reward/base_velocity",
                "reward/end_effector",
                "reward/action_rate",
                "reward/pose",  # reward_form=additive's terms (a run has one form's: the others are skipped)
                "reward/velocity",
                "reward/root",
                "reward/com",
                "episode/length",
                "episode/return",
                "loss/policy",
                "loss/value",
                "policy/action_std",
                "policy/learning_rate",
            ),
            tasks=("humanoid-walk", "humanoid-cartwheel"),
            video=True,
            export=PPO_EXPORT,
        ),
    )
}


def get_task(name: str) -> TaskEntry:
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; available: {', '.join(sorted(TASKS))}")
    return TASKS[name]


def get_algo(name: str, task: str | None = None) -> AlgoEntry:
    if name not in ALGOS:
        raise ConfigError(f"unknown algo {name!r}; available: {', '.join(sorted(ALGOS))}")
    algo = ALGOS[name]
    if task is not None and algo.tasks and task not in algo.tasks:
        raise ConfigError(f"algo {name!r} does not run on task {task!r}; it runs on: {', '.join(algo.tasks)}")
    return algo
