"""BCO(0), behavioural cloning from observation (Torabi et al. 2018), as AIME uses it as a
baseline: an inverse dynamics model a_t = g(o_t, o_t+1) is fitted on the agent's own transitions
(``algos/dynamics.py``), labels every consecutive pair of the expert's observation-only
demonstrations with the action it infers, and BC's MSE policy is cloned from the labelled pairs
(``bc_common.BCFit``: the same normaliser, trainer and rollouts as ``mse``). Both fits are stages
of one run (``algos/embodiment.py``).
"""

from __future__ import annotations

from typing import Any

import torch

from imitate.algos.bc import build_mse
from imitate.algos.bc_common import BCFit
from imitate.algos.bco_config import BCOConfig
from imitate.algos.dynamics import InverseDynamics
from imitate.algos.embodiment import EmbodimentFit, evaluate_embodiment_run, mse, train_embodiment_run, variance
from imitate.utils.run import Run

ALGO = "bco"
MODEL = "inverse dynamics model"


class LabelledBCFit(BCFit):
    """BC whose target actions are the inverse model's labels of the demo pairs, made when its
    stage begins (or is resumed) from the fitted model."""

    def __init__(self, fit: EmbodimentFit, algo_name: str, cfg: BCOConfig, env):
        data = fit.data_set
        super().__init__(algo_name, cfg, env.obs_dim, env.act_dim, build_mse, data.demo_history, None)
        self.fit = fit

    def targets(self) -> torch.Tensor:
        if self.actions is None:
            with torch.no_grad():
                self.actions = self.fit.frozen_model()(self.fit.data_set.demo_obs, self.fit.data_set.demo_next)
        return self.actions


class BCOFit(EmbodimentFit):
    kind, model_name, model_prefix = InverseDynamics, MODEL, "idm"  # logged: idm/loss, then bc/loss
    policy_fit = LabelledBCFit


def train_bco(task, cfg: BCOConfig, run: Run | None, state: dict | None) -> tuple[Run, dict]:
    return train_embodiment_run(task, ALGO, cfg, run, state, BCOFit)


@torch.no_grad()
def evaluate_bco(run: Run, task, cfg: BCOConfig, episodes: int, video: bool = False) -> dict[str, Any]:
    """BC's evaluation, the normalised score, and the inverse model's action error (env units) on
    held-out embodiment transitions (``idm_heldout_action_mse``, beside the error of always
    answering their mean action, ``idm_heldout_action_var``) and, where the demonstrations record
    actions, on the demo pairs it labelled (``demo_label_action_mse``)."""
    metrics, data, model, _ = evaluate_embodiment_run(
        run, task, cfg, episodes, build_mse, InverseDynamics, MODEL, video
    )
    obs, actions, next_obs = data.heldout
    if len(obs):
        metrics["idm_heldout_action_mse"] = mse(model(obs, next_obs), actions)
        metrics["idm_heldout_action_var"] = variance(actions)
    expert = data.demo_actions()
    if expert is not None:
        metrics["demo_label_action_mse"] = mse(model(data.demo_obs, data.demo_next), expert)
    return metrics
