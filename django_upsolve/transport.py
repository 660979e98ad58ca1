"""One HTTP exchange within a deadline: the answer's head and body both end when it passes.

A read timeout bounds each wait for a byte, not the whole answer: ``http.client`` reads
the status line and headers line by line, so a server sending one byte at a time could
hold a call for as long as it likes. While :func:`deadline` is active, reading the head
of an answer arms a timer that shuts the socket down when the deadline passes, and the
read then fails as a timeout (``DeadlineAdapter``). :func:`read_body` bounds each read
of the body by the time left and the whole body by a size cap. :func:`post` does both
and turns network failures into typed errors.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.response import HTTPResponse

from .exceptions import (
    UpsolveBadResponse,
    UpsolveConnectionError,
    UpsolveError,
    UpsolveTimeout,
    UpsolveTLSError,
)

#: Bytes asked of the socket per read of the body.
CHUNK_SIZE = 16 * 1024

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


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def post(
    session: requests.Session,
    url: str,
    *,
    data: bytes,
    headers: Mapping[str, str],
    timeout: tuple[float, float],
    ends_at: float,
    max_bytes: int,
    call: str,
) -> Answer:
    """POST ``data`` to ``url`` and read the whole answer before ``ends_at``.

    ``timeout`` is the (connect, read) timeout, each cut to the time left; redirects are
    not followed. Network failures raise ``UpsolveTimeout``, ``UpsolveTLSError`` or
    ``UpsolveConnectionError``; a body over ``max_bytes`` raises ``UpsolveBadResponse``.
    """
    remaining = ends_at - time.monotonic()
    connect, read = (min(limit, remaining) for limit in timeout)
    try:
        with deadline(ends_at):
            response = session.post(
                url,
                data=data,
                headers=headers,
                timeout=(connect, read),
                stream=True,
                allow_redirects=False,
            )
    except requests.exceptions.RequestException as err:
        if time.monotonic() >= ends_at:  # Cut by the deadline, whatever the socket then said.
            raise UpsolveTimeout("The deadline ran out before the answer.", call=call) from err
        if isinstance(err, requests.exceptions.SSLError):
            raise UpsolveTLSError("TLS failure talking to Upsolve.", call=call) from err
        if isinstance(err, requests.exceptions.Timeout):
            raise UpsolveTimeout("Upsolve did not answer in time.", call=call) from err
        raise UpsolveConnectionError("Could not connect to Upsolve.", call=call) from err
    with response:
        body = read_body(
            response, max_bytes=max_bytes, read_timeout=timeout[1], ends_at=ends_at, call=call
        )
    return Answer(response.status_code, response.headers, body)


def read_body(
    response: requests.Response, *, max_bytes: int, read_timeout: float, ends_at: float, call: str
) -> bytes:
    """The body of a streamed ``response``, each socket read bounded by ``read_timeout`` and
    the time left before ``ends_at``; at most ``max_bytes`` bytes."""
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                raise UpsolveTimeout(
                    "The deadline ran out while reading the answer.",
                    status_code=response.status_code,
                    call=call,
                )
            _limit_socket_wait(raw, min(read_timeout, remaining))
            chunk = raw.read1(CHUNK_SIZE)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise UpsolveBadResponse(
                    f"The answer is larger than {max_bytes} bytes.",
                    status_code=response.status_code,
                    call=call,
                )
            chunks.append(chunk)
    except UpsolveError:
        raise  # Ours (UpsolveTimeout is an OSError too, through requests).
    except (Urllib3HTTPError, OSError) as err:
        if isinstance(err, TimeoutError) or "timed out" in str(err):
            raise UpsolveTimeout(
                "Upsolve stalled while sending the answer.",
                status_code=response.status_code,
                call=call,
            ) from err
        raise UpsolveConnectionError(
            "The connection broke while reading the answer.",
            status_code=response.status_code,
            call=call,
        ) from err


def _limit_socket_wait(raw: Any, seconds: float) -> None:
    """Bound the next socket read by ``seconds`` (read timeouts only bound gaps between bytes).

    Once the headers are read, urllib3 2 no longer holds the socket on its connection: it
    sits under the ``http.client`` response (response → buffered reader → ``SocketIO``).
    A body that is not read from a socket (a test double) has nothing to bound.
    """
    reader = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))
