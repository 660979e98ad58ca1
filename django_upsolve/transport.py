"""An ``HTTPAdapter`` whose connections stop waiting for an answer once the deadline passes.

A read timeout bounds each wait for a byte, not the whole status line and headers:
``http.client`` reads them line by line, so a server sending one byte at a time could
hold a call for as long as it likes. While :func:`deadline` is active, reading the head
of an answer arms a timer that shuts the socket down when the deadline passes, and the
read then fails as a timeout.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse

_ends_at: ContextVar[float | None] = ContextVar("upsolve_deadline", default=None)


@contextmanager
def deadline(ends_at: float) -> Iterator[None]:
    """Within this block, answers must start arriving before ``ends_at`` (``time.monotonic()``)."""
    token = _ends_at.set(ends_at)
    try:
        yield
    finally:
        _ends_at.reset(token)


def _read_head(sock: socket.socket | None, read: Callable[[], HTTPResponse]) -> HTTPResponse:
    """``read()``, with ``sock`` shut down if the active deadline passes meanwhile."""
    ends_at = _ends_at.get()
    if ends_at is None or sock is None:
        return read()
    cut = threading.Event()

    def shut() -> None:
        cut.set()
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(ends_at - time.monotonic(), 0.0), shut)
    timer.name = "upsolve-deadline"
    timer.daemon = True
    timer.start()
    try:
        response = read()
    except Exception as err:
        if cut.is_set():
            raise TimeoutError("The deadline ran out before the answer's headers.") from err
        raise
    finally:
        timer.cancel()
        timer.join()  # Once joined it can never fire, even on a connection reused later.
    if cut.is_set():  # The cut can end the headers early and still yield a response.
        response.close()
        raise TimeoutError("The deadline ran out before the answer's headers.")
    return response


class DeadlineHTTPConnection(HTTPConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3's own
        return _read_head(self.sock, super().getresponse)


class DeadlineHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3's own
        return _read_head(self.sock, super().getresponse)


class DeadlineHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = DeadlineHTTPConnection


class DeadlineHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = DeadlineHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """Pools of the connections above, for ``http://`` and ``https://`` (not through proxies)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": DeadlineHTTPConnectionPool,
            "https": DeadlineHTTPSConnectionPool,
        }
