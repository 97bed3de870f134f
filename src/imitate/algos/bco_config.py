"""The configs of AIME's imitation-from-observation baselines, BCO(0) and IIDM (algos/bco.py,
algos/iidm.py): BC's options for the policy plus the embodiment data and the dynamics model."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.algos.bc_config import BCConfig
from imitate.config import ACTIVATIONS, option


@dataclass
class EmbodimentConfig(BCConfig):
    """What BCO and IIDM share: a dynamics model fitted on the agent's own data, then a policy."""

    demos: str = option(
        "",
        "expert demonstrations, observations only: any 'actions' array in them is ignored (.npz, Minari "
        "dataset dir or minari:ID); empty: generate oracle demos into the run",
    )
    embodiment: str = option(
        "",
        "the agent's own (observation, action) episodes (.npz, Minari dataset dir or minari:ID); "
        "empty: random-action episodes generated into the run",
    )
    embodiment_episodes: int = option(200, "random-action episodes when embodiment is empty", ge=1)
    holdout: float = option(
        0.3, "fraction of embodiment episodes held out to measure the dynamics model (AIME: 0.3)", ge=0, lt=1
    )
    model_iterations: int = option(5000, "gradient steps of the dynamics model (AIME: at least 5000)", ge=1)
    model_batch_size: int = option(256, "transitions per dynamics-model step", ge=1)
    model_lr: float = option(1e-3, "Adam learning rate of the dynamics model (AIME's)", gt=0)
    model_width: int = option(128, "hidden units of the dynamics model's MLP (AIME: 128)", ge=1)
    model_layers: int = option(2, "hidden layers of the dynamics model's MLP (AIME: 2)", ge=1)
    model_activation: str = option("elu", "hidden activation of the dynamics model", choices=ACTIVATIONS)
    expert_return: float = option(
        0.0, "the expert's mean return; > 0: evaluation also reports normalised_score = 100 · return / it", ge=0
    )


@dataclass
class BCOConfig(EmbodimentConfig):
    """BCO(0): an inverse dynamics model labels the demonstrations, then behavioural cloning."""


@dataclass
class IIDMConfig(EmbodimentConfig):
    """IIDM: a policy whose action, fed to a frozen forward model, predicts the expert's next observation."""
