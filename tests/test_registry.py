"""The registry's --video declarations: every algorithm that says it writes a video on a task can
be asked to (its evaluation takes ``video``), and every other pair is refused in one line."""

import inspect

import pytest

from imitate.config import ConfigError
from imitate.registry import ALGOS, TASKS, resolve

PAIRS = [(a, t) for a, algo in ALGOS.items() for t in TASKS if not algo.tasks or t in algo.tasks]


@pytest.mark.parametrize("algo, task", PAIRS)
def test_video_is_written_where_declared_and_refused_in_one_line_elsewhere(algo, task):
    entry, task_entry = ALGOS[algo], TASKS[task]
    if entry.writes_video(task_entry):
        assert "video" in inspect.signature(resolve(entry.evaluate)).parameters
        entry.check_video(task_entry)
        if task_entry.video is not None and not entry.video:
            assert callable(resolve(task_entry.video))
        if task_entry.video_recorder is not None and not entry.video:
            assert callable(resolve(task_entry.video_recorder))
    else:
        with pytest.raises(ConfigError) as err:
            entry.check_video(task_entry)
        assert "\n" not in str(err.value) and f"for {task}/{algo} runs" in str(err.value)


def test_the_planar_tasks_have_videos_for_every_bc_algo():
    for algo in ("mse", "mdn", "ibc-dfo", "ibc-langevin", "ibc-ardfo", "bco", "iidm", "ppo"):
        for task in ("particle", "block-push", "pusht", "maze"):
            assert ALGOS[algo].writes_video(TASKS[task]), (algo, task)
    assert not ALGOS["energy"].writes_video(TASKS["maze"])  # no policy to roll out


def test_the_dm_control_tasks_have_videos_for_every_algo_that_evaluates_on_them():
    dmc = [t for t in TASKS if t.startswith(("walker-", "cheetah-"))]
    assert len(dmc) == 7
    for algo in ("ppo", "mse", "mdn", "ibc-dfo", "ibc-langevin", "ibc-ardfo", "bco", "iidm", "aime"):
        for task in dmc:
            assert ALGOS[algo].writes_video(TASKS[task]), (algo, task)
    assert not ALGOS["world-model"].writes_video(TASKS["walker-walk"])  # no policy to roll out
