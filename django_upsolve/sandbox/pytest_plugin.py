"""pytest fixtures of the Upsolve sandbox and of test mode.

Enable in a ``conftest.py`` with
``pytest_plugins = ["django_upsolve.sandbox.pytest_plugin"]`` (needs pytest-django;
``upsolve_sandbox`` also needs ``django_upsolve.sandbox`` in ``INSTALLED_APPS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..testing import RecordedCall
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


@pytest.fixture(autouse=True)
def _upsolve_autoclear_outbox() -> None:
    """Every test starts with an empty test-mode outbox, as pytest-django does for mail."""
    from ..testing import outbox

    outbox.clear()


@pytest.fixture
def upsolve_outbox() -> list[RecordedCall]:
    """The calls test mode (``UPSOLVE["TEST_MODE"] = True``) recorded during this test,
    oldest first: :data:`django_upsolve.testing.outbox`, emptied before each test."""
    from ..testing import outbox

    return outbox
