"""imitate: learning behaviour from demonstrations (NEAR, AMP, DeepMimic-style tracking, IBC, BC).

Importing the package registers every task with gymnasium as ``imitate/<Task>-v0``
(``imitate.gym``); that imports gymnasium and the registry's names, never torch or a task module.
"""

from imitate.gym import register_envs as _register_envs

_register_envs()
