"""The old home of the gymnasium ids, kept so that ``gym.make("imitate.tasks.gym_register:imitate/PushT-v0")``
still works.

The ids now live in ``imitate.gym`` and are registered by ``import imitate``; importing this module
imports the ``imitate`` package first, which registers them all, so the old ``module:id`` form
finds every ``imitate/<Task>-v0``. New code writes ``gym.make("imitate/PushT-v0")`` after
``import imitate``, or ``gym.make("imitate:imitate/PushT-v0")``.
"""
