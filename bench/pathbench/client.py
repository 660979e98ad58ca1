"""The bench's browsers: one user on one site each, over a keep-alive connection.

Plain ``http.client`` keeps the client's own cost per request small and steady, so that what
differs between configurations is the server. Every request names itself in the
``X-Bench-View`` header, which the site passes on to any Upsolve call it makes for it.
"""

from __future__ import annotations

import http.client
import itertools
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from pathbench.configs import PASSWORD, ROWS_PARAMETER, VIEW_HEADER

#: A keep-alive connection the server closed meanwhile: reconnect and send again, once.
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

_ids = itertools.count()


@dataclass(frozen=True)
class Hit:
    """One request the bench timed: its configuration, what it was, and what the page showed.

    ``kind`` is ``first login``, ``login`` or ``view``; ``shown`` is ``embed``, ``pending``,
    ``unavailable``, ``page`` (no embed: no app) or, for logins, ``login``.
    """

    config: str
    kind: str
    view: str
    seconds: float
    shown: str


def shown_by(body: bytes) -> str:
    """What a dashboard page showed where the dashboard goes."""
    if b'data-upsolve-placeholder="pending"' in body:
        return "pending"
    if b"data-upsolve-placeholder=" in body:
        return "unavailable"
    return "embed" if b"<iframe" in body else "page"


class Browser:
    """One user's browser on one site: a connection and its cookies."""

    def __init__(self, config: str, port: int, phase: str) -> None:
        self.config, self.port, self.phase = config, port, phase
        self.cookies: dict[str, str] = {}
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def clone(self) -> Browser:
        """The same user in another tab: same session, a connection of its own."""
        other = Browser(self.config, self.port, self.phase)
        other.cookies = dict(self.cookies)
        return other

    def log_in(self, username: str, *, first: bool = False) -> Hit:
        """Post the credentials (from a fresh browser: no cookies) and time the answer."""
        self.cookies.clear()
        name = self._name("login")
        body = urlencode({"username": username, "password": PASSWORD}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, seconds, _ = self._send("POST", "/accounts/login/", body, headers, name)
        if status != 302:
            raise RuntimeError(f"{self.config}: logging {username} in answered {status}.")
        return Hit(self.config, "first login" if first else "login", name, seconds, "login")

    def view(self, rows: int = 0) -> Hit:
        """Load the dashboard page (with a table of ``rows`` rows) and time it."""
        name = self._name("view")
        path = f"/dashboard/?{ROWS_PARAMETER}={rows}" if rows else "/dashboard/"
        status, seconds, body = self._send("GET", path, None, {}, name)
        if status != 200:
            raise RuntimeError(f"{self.config}: the dashboard answered {status}.")
        return Hit(self.config, "view", name, seconds, shown_by(body))

    def close(self) -> None:
        self._connection.close()

    def _name(self, kind: str) -> str:
        return f"{self.phase}:{self.config}:{kind}:{next(_ids)}"

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], name: str
    ) -> tuple[int, float, bytes]:
        """Send, read the whole answer, keep its cookies (session, CSRF) as a browser does."""
        headers = {**headers, VIEW_HEADER: name}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            started = time.perf_counter()
            response, data = self._exchange(method, path, body, headers)
        except STALE_CONNECTION:
            self._connection.close()
            started = time.perf_counter()
            response, data = self._exchange(method, path, body, headers)
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update(
                (name, morsel.value) for name, morsel in SimpleCookie(header).items()
            )
        return response.status, seconds, data

    def _exchange(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        self._connection.request(method, path, body, headers)
        response = self._connection.getresponse()
        return response, response.read()
