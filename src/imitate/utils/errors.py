"""The errors that mean bad input (one line on stderr, exit 2), kept free of heavy imports so
that the command line can catch them without importing torch (``imitate list``)."""


class DatasetError(ValueError):
    """A demonstration file is missing, corrupt or inconsistent."""


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, or belongs to another task or algorithm."""
