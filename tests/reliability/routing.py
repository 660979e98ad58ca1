"""Send every query of a test to one database alias, from any thread (the race tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class PinnedRouter:
    """Routes all reads and writes to ``PinnedRouter.alias`` while it is set; else no opinion.

    The alias is a class attribute, not a thread-local, so the worker threads of a race
    test use the same database as the test itself.
    """

    alias: str | None = None

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return self.alias

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return self.alias


@contextmanager
def pinned(alias: str) -> Iterator[None]:
    """Route every query to ``alias`` for the duration of the block."""
    PinnedRouter.alias = alias
    try:
        yield
    finally:
        PinnedRouter.alias = None
