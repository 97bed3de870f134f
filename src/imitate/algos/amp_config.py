"""AMP's config (algos/amp.py, rewards/adversarial.py); the discriminator is a nested group."""

from __future__ import annotations

from dataclasses import dataclass, field

from imitate.algos.labelled_runs import check_gate, labelled_runs
from imitate.algos.ppo_config import PPOConfig
from imitate.config import Checked, ConfigError, option


@dataclass
class DiscConfig(Checked):
    """AMP's discriminator and its training (keys ``disc.<name>``)."""

    hidden: tuple[int, ...] = option((1024, 512), "discriminator layer sizes", ge=1, nonempty=True)
    lr: float = option(1e-4, "discriminator learning rate", gt=0)
    batch_size: int = option(512, "expert pairs (and as many policy pairs) per discriminator step", ge=1)
    updates: int = option(10, "discriminator steps per rollout", ge=1)
    w_gp: float = option(10.0, "gradient penalty on expert pairs (10 maze/Push-T, 5 humanoid)", ge=0)
    logit_reg: float = option(0.05, "weight of ‖last-layer weights‖²", ge=0)
    weight_decay: float = option(1e-4, "discriminator weight decay", ge=0)
    replay_size: int = option(100_000, "past policy pairs kept for the discriminator", ge=1)


@dataclass
class AMPConfig(PPOConfig):
    """AMP: PPO on a discriminator's style reward (plus a weighted task reward), Peng et al. 2021."""

    demos: str = option(
        "", "demonstrations (.npz, Minari dataset dir or minari:ID); empty: generate oracle demos into the run"
    )
    demo_episodes: int = option(600, "oracle episodes when demos is empty", ge=1)
    w_task: float = option(0.5, "weight of the task reward", ge=0)
    w_style: float = option(0.5, "weight of the style reward", ge=0)
    disc: DiscConfig = field(
        default_factory=lambda: DiscConfig(), metadata={"help": "the discriminator (a group: disc.KEY=VALUE)"}
    )
    discriminators: str = option(
        "",
        "several style terms summed: LABEL:AMP_RUN,LABEL:AMP_RUN, each starting from that run's discriminator "
        "and training on, under the mask of, that run's demonstrations (docs/humanoid_imitation.md#composed-rewards)",
    )
    style_weights: tuple[float, ...] = option(
        (), "relative weights of the composed discriminators, in discriminators='s order (empty: equal)", gt=0
    )
    style_gate: str = option(
        "", "LABEL:METRES: composed discriminator LABEL counts only where the task's goal_distance is within METRES"
    )
    style_offset: float = option(0.0, "r_style = r_amp − style_offset; log 2 ≈ 0.693 centres it (docs/amp_cem.md)")
    absorbing_success: bool = option(False, "on success terminations add w_style·r_style·γ/(1−γ) (docs/amp_cem.md)")

    def check(self) -> None:
        super().check()
        if self.w_task + self.w_style <= 0:
            raise ConfigError("w_task + w_style must be positive")
        sources = labelled_runs(self.discriminators, "discriminators")
        if sources and not all(label for label, _ in sources):
            raise ConfigError(f"discriminators={self.discriminators}: label each run, LABEL:AMP_RUN")
        if self.style_weights and len(self.style_weights) != len(sources):
            raise ConfigError(f"style_weights has {len(self.style_weights)} weights for {len(sources)} discriminators")
        if self.style_gate:
            check_gate(self.style_gate, "style_gate", sources, "discriminators")
        if sources and self.demos:
            raise ConfigError("discriminators= trains each on its run's own demonstrations: give no demos=")
