"""A sick Redis for the tests: refused, stalled, or a proxy to the real one that can go silent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

from django.conf import settings

#: The real Redis of the suite (``settings.CACHES["redis"]``).
REAL = urlsplit(settings.CACHES["redis"]["LOCATION"])


def location(port: int) -> str:
    """A ``LOCATION`` for a Redis at ``port`` on loopback, in the suite's database."""
    return f"redis://127.0.0.1:{port}{REAL.path}"


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    yield port


class RedisProxy:
    """A loopback TCP proxy to the real Redis that can stall.

    While stalled it accepts connections and holds whatever they send, answering
    nothing (a Redis that hangs); once forwarding again, held bytes go through first.
    """

    def __init__(self, *, forwarding: bool = True) -> None:
        self._forwarding = threading.Event()
        if forwarding:
            self._forwarding.set()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._sockets: list[socket.socket] = []
        self.port = int(self._listener.getsockname()[1])
        self.location = location(self.port)

    def __enter__(self) -> RedisProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()

    def stall(self) -> None:
        self._forwarding.clear()

    def forward(self) -> None:
        self._forwarding.set()

    def _spawn(self, target, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(conn)
            self._spawn(self._connect, conn)

    def _connect(self, conn: socket.socket) -> None:
        if not self._wait_forwarding():
            return
        try:
            upstream = socket.create_connection((REAL.hostname, REAL.port or 6379))
        except OSError:
            conn.close()
            return
        self._sockets.append(upstream)
        self._spawn(self._pipe, upstream, conn)
        self._pipe(conn, upstream)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._wait_forwarding():
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _wait_forwarding(self) -> bool:
        while not self._forwarding.wait(0.05):
            if self._stopping.is_set():
                return False
        return not self._stopping.is_set()
