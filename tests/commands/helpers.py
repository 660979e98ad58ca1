"""What the command tests share."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO


@contextmanager
def without_logging() -> Iterator[StringIO]:
    """A project without ``LOGGING``: no handler anywhere (pytest's own are set aside), so
    Python's last-resort handler prints WARNINGs on stderr. Yields what it printed.

    Used inside a test's body: pytest adds its capture handlers when the test starts.
    """
    printed = StringIO()
    saved_handlers, saved_last_resort = logging.root.handlers[:], logging.lastResort
    logging.root.handlers.clear()
    logging.lastResort = logging.StreamHandler(printed)
    try:
        yield printed
    finally:
        logging.root.handlers[:] = saved_handlers
        logging.lastResort = saved_last_resort
