"""IIDM, AIME's second imitation-from-observation baseline, as we read the paper and its released
``train_iidm.py``: a forward model o_t+1 = f(o_t, a_t) is fitted on the agent's own transitions
(``algos/dynamics.py``); then, with f frozen, a policy π(o_t) is trained so that the predicted
next observation f(o_t, π(o_t)) matches the expert's o_t+1 (mean squared error in f's normalised
observation units), the gradient flowing through f into the policy. The demonstrations' actions
are never used. Both fits are stages of one run (``algos/embodiment.py``).

The policy is BC's MSE network with a tanh on its output (AIME's policy is tanh-bounded too), so
the actions fed to f stay inside the embodiment data's action range, where f was fitted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from imitate.algos.bc import MSEPolicy
from imitate.algos.bc_common import BCFit
from imitate.algos.bco_config import IIDMConfig
from imitate.algos.dynamics import ForwardDynamics
from imitate.algos.embodiment import EmbodimentFit, evaluate_embodiment_run, mse, train_embodiment_run
from imitate.utils.run import Run

ALGO = "iidm"
MODEL = "forward model"


class IIDMPolicy(MSEPolicy):
    """a = tanh(net(o)) in the normalised action box; trained through a frozen forward model."""

    loss_name = "iidm_loss"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # o_t, a_t -> normalised o_t+1; a plain attribute, not a submodule: the checkpoint's policy
        # is the policy alone, as BC's loading and rollouts read it
        self.predict_next: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    def act_normalized(self, obs_n, generator):
        return torch.tanh(self.net(obs_n))

    def loss(self, obs_n, pair, generator):
        """``pair``: (o_t, normalised expert o_t+1) side by side."""
        assert self.predict_next is not None, "IIDMPolicy.loss before its forward model was set"
        obs, target = pair.split(pair.shape[1] // 2, dim=1)
        action = self.normalizer.unaction(self.act_normalized(obs_n, generator))
        return F.mse_loss(self.predict_next(obs, action), target), {}


def build_iidm(cfg: IIDMConfig, obs_dim: int, act_dim: int) -> IIDMPolicy:
    return IIDMPolicy(obs_dim, act_dim, cfg.width, cfg.blocks, cfg.activation, cfg.dropout)


class ForwardMatchFit(BCFit):
    """Stage 2: the policy's rows are (observation history, (o_t, o_t+1)) of the demo pairs; the
    normaliser's action box is the embodiment data's action range (the demos have no actions)."""

    policy: IIDMPolicy

    def __init__(self, fit: EmbodimentFit, algo_name: str, cfg: IIDMConfig, env):
        data = fit.data_set
        _, embodiment_actions, _ = data.train
        super().__init__(algo_name, cfg, env.obs_dim, env.act_dim, build_iidm, data.demo_history, embodiment_actions)
        self.fit = fit

    def data(self) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.fit.frozen_model()
        self.policy.predict_next = lambda obs, action: model(obs, action)
        data = self.fit.data_set
        pair = torch.cat([data.demo_obs, model.normalizer.obs(data.demo_next)], 1)
        return self.policy.normalizer.obs(self.obs), pair


class IIDMFit(EmbodimentFit):
    kind, model_name, model_prefix = ForwardDynamics, MODEL, "forward_model"  # then bc/loss
    policy_fit = ForwardMatchFit


def train_iidm(task, cfg: IIDMConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    return train_embodiment_run(task, ALGO, cfg, run, state, IIDMFit)


@torch.no_grad()
def evaluate_iidm(run: Run, task, cfg: IIDMConfig, episodes: int, video: bool = False) -> dict[str, Any]:
    """BC's evaluation, the normalised score, and the forward model's prediction error on
    held-out embodiment transitions in normalised units (1 = the observations' variance),
    ``forward_heldout_mse``, beside that of predicting no change, ``forward_heldout_mse_copy``;
    and the policy's objective on the demo pairs, ``demo_prediction_mse``."""
    metrics, data, model, policy = evaluate_embodiment_run(
        run, task, cfg, episodes, build_iidm, ForwardDynamics, MODEL, video
    )
    obs, actions, next_obs = data.heldout
    norm = model.normalizer
    if len(obs):
        metrics["forward_heldout_mse"] = mse(model(obs, actions), norm.obs(next_obs))
        metrics["forward_heldout_mse_copy"] = mse(norm.obs(obs), norm.obs(next_obs))
    metrics["demo_prediction_mse"] = mse(model(data.demo_obs, policy.act(data.demo_history)), norm.obs(data.demo_next))
    return metrics
