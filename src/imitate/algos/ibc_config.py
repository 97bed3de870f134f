"""Implicit BC's configs (algos/ibc.py)."""

from __future__ import annotations

from dataclasses import dataclass

from imitate.algos.bc_config import BCConfig
from imitate.config import ConfigError, option


@dataclass
class IBCConfig(BCConfig):
    """Implicit BC (Florence et al. 2021): an energy E(o, a) trained by InfoNCE; actions by DFO or Langevin."""

    counter_examples: int = option(64, "negatives per sample, uniform in the normalised action box", ge=1)
    temperature: float = option(1.0, "InfoNCE logits are E / temperature", gt=0)
    langevin_negatives: bool = option(False, "refine counter-examples by Langevin MCMC (+ gradient penalty)")
    inference: str = option("dfo", "how actions are chosen", choices=("dfo", "langevin"))
    dfo_samples: int = option(1024, "DFO population", ge=1)
    dfo_iterations: int = option(3, "DFO resampling rounds", ge=1)
    dfo_noise: float = option(0.33, "initial resampling noise (normalised action units), shrunk each iteration", ge=0)
    dfo_shrink: float = option(0.5, "factor applied to the DFO noise each iteration", gt=0, le=1)
    dfo_select: str = option("argmax", "the action taken from the final DFO population", choices=("argmax", "sample"))
    langevin_steps: int = option(50, "MCMC steps at inference", ge=1)
    langevin_train_steps: int = option(25, "MCMC steps for training counter-examples", ge=1)
    langevin_samples: int = option(256, "chains per observation at inference", ge=1)
    langevin_step_init: float = option(0.1, "step size decays polynomially from init to final", gt=0)
    langevin_step_final: float = option(1e-5, "final Langevin step size", ge=0)
    langevin_power: float = option(2.0, "power of the step-size decay", ge=0)
    langevin_noise: float = option(1.0, "scale of the injected Gaussian noise", ge=0)
    langevin_grad_clip: float = option(1.0, "per-component clip of dE/da (0: none)", ge=0)
    langevin_delta_clip: float = option(0.1, "per-step move clip, normalised action units", ge=0)
    grad_penalty: float = option(1.0, "weight of the gradient penalty on Langevin negatives", ge=0)
    grad_margin: float = option(1.0, "penalise max(0, ||dE/da||_inf - margin)^2", ge=0)


@dataclass
class IBCLangevinConfig(IBCConfig):
    """IBC with Langevin-refined counter-examples and Langevin inference (algo ``ibc-langevin``)."""

    langevin_negatives: bool = option(True, "refine counter-examples by Langevin MCMC (+ gradient penalty)")
    inference: str = option("langevin", "how actions are chosen", choices=("dfo", "langevin"))


@dataclass
class IBCARDFOConfig(IBCConfig):
    """IBC with autoregressive DFO (algo ``ibc-ardfo``): one energy model per action dimension,
    uniform counter-examples, a 1-D DFO per dimension at inference (algos/ibc_ardfo.py)."""

    def check(self) -> None:
        super().check()
        if self.langevin_negatives or self.inference != "dfo":
            raise ConfigError(
                "ibc-ardfo trains on uniform counter-examples and acts by DFO: "
                "langevin_negatives=true and inference=langevin are for ibc-dfo / ibc-langevin"
            )
