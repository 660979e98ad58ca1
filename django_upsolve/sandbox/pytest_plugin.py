"""pytest fixtures of the Upsolve sandbox.

Enable in a ``conftest.py`` with
``pytest_plugins = ["django_upsolve.sandbox.pytest_plugin"]`` (needs pytest-django
and ``django_upsolve.sandbox`` in ``INSTALLED_APPS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import SandboxHandle


@pytest.fixture
def upsolve_sandbox(db: None) -> Iterator[SandboxHandle]:
    """Answer ``requests`` calls to ``UPSOLVE["API_URL"]`` with the sandbox for one test.

    Yields a :class:`~django_upsolve.sandbox.testing.SandboxHandle`. Works with
    ``transactional_db`` too, for tests that call Upsolve from other threads.
    """
    from .testing import sandbox_responses  # imported late: Django is set up by now

    with sandbox_responses() as sandbox:
        yield sandbox
