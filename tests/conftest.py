"""Test-wide settings: the same thread and denormal settings the CLI uses (runner.set_threads)."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def cli_torch_settings():
    """Tiny nets run fastest on one thread; several threads on a busy 2-core box crawl."""
    from imitate.runner import set_threads

    set_threads()
    yield
