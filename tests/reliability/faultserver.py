"""A real HTTP server on 127.0.0.1 that answers scripted faults, for socket-level tests.

::

    with FaultServer() as server:
        server.script(Respond(502, HTML_502))           # the next request, whatever it is
        server.script(Stall(10), call="user-token")     # the next user-token request
        ...                                             # everything else: Upsolve()
        assert server.count("user-token") == 1

Each request is answered by the next scripted action for its call, else the next
one scripted for any call, else :class:`Upsolve` (a stateless happy path of the
contract). Actions: :class:`Respond` (any status, body, headers; a redirect is a
``Respond`` with ``Location``), :class:`Token` (a JWT made when served), :class:`Stall`
(nothing, not even headers),
:class:`Drip` (the body a few bytes at a time), :class:`DripHead` (the status line and
headers a byte at a time), :class:`Huge` (a body of many
megabytes, streamed), :class:`Close` (drop the connection). The context managers
:func:`refused_port` and :func:`unaccepting_port` give ports whose connections are
refused, or never accepted (a connect timeout); :func:`dripping_handshake_port` accepts
and answers a TLS handshake a byte at a time.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

API_PATH = "/v1/api/projects"
SIGNING_KEY = "fault-server-signing-key-0123456789abcdef"
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    + "<!-- a proxy error page, padded as real ones are -->\r\n" * 40
    + "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Received:
    """One request the server read: the call (``"user-token"``), headers and decoded body.

    The ``Authorization`` credentials are replaced by ``[redacted]``; ``bearer`` tells
    whether they were the ``Bearer`` form; ``port`` is the client's (one per connection).
    """

    call: str
    method: str
    headers: Mapping[str, str]
    body: Any
    bearer: bool
    port: int = 0


def ok(data: Mapping[str, Any]) -> dict[str, Any]:
    """A success answer of the contract."""
    return {"status": "success", "data": dict(data)}


class Action:
    """How to answer one request."""

    def serve(self, handler: _Handler, request: Received) -> None:
        raise NotImplementedError


@dataclass
class Respond(Action):
    """A complete answer: ``body`` is bytes, text, or a mapping sent as JSON."""

    status: int = 200
    body: bytes | str | Mapping[str, Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def serve(self, handler: _Handler, request: Received) -> None:
        body, content_type = _encode(self.body)
        handler.send_response(self.status)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **self.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)


@dataclass
class Stall(Action):
    """Accept the request and send nothing for ``seconds``, then drop the connection."""

    seconds: float = 60.0

    def serve(self, handler: _Handler, request: Received) -> None:
        handler.server.stopping.wait(self.seconds)
        handler.close_connection = True


@dataclass
class Drip(Action):
    """Headers at once, then the body ``chunk`` bytes every ``interval`` seconds."""

    body: bytes | str | Mapping[str, Any] = b""
    interval: float = 0.2
    chunk: int = 1
    status: int = 200

    def serve(self, handler: _Handler, request: Received) -> None:
        body, content_type = _body_or_token_answer(self.body, handler)
        handler.send_response(self.status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.flush()
        for start in range(0, len(body), self.chunk):
            if handler.server.stopping.wait(self.interval):
                break
            handler.wfile.write(body[start : start + self.chunk])
            handler.wfile.flush()
        handler.close_connection = True


@dataclass
class DripHead(Action):
    """The status line and headers a byte every ``interval`` seconds (about 100 bytes), then
    the body (a token answer unless given) at once, if the client is still there."""

    body: bytes | str | Mapping[str, Any] = b""
    interval: float = 0.2
    status: int = 200

    def serve(self, handler: _Handler, request: Received) -> None:
        body, content_type = _body_or_token_answer(self.body, handler)
        head = (
            f"HTTP/1.1 {self.status} Dripping\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        for byte in range(len(head)):
            if handler.server.stopping.wait(self.interval):
                break
            handler.wfile.write(head[byte : byte + 1])
            handler.wfile.flush()
        else:
            handler.wfile.write(body)
        handler.close_connection = True


@dataclass
class Huge(Action):
    """A ``size``-byte JSON-looking body, streamed; ``sent`` counts the bytes that got out
    and ``finished`` is set once the server stopped sending (done, or the client hung up)."""

    size: int = 50 * 1024 * 1024
    sent: int = 0
    finished: threading.Event = field(default_factory=threading.Event)

    def serve(self, handler: _Handler, request: Received) -> None:
        block = b"[" + b"0," * (32 * 1024)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(self.size))
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            while self.sent < self.size and not handler.server.stopping.is_set():
                piece = block[: self.size - self.sent]
                handler.wfile.write(piece)
                self.sent += len(piece)
        finally:
            self.finished.set()


@dataclass
class Token(Action):
    """A ``user-token`` success whose JWT is made when served (recorded in ``tokens``).

    ``lifetime`` is ``exp - iat``; ``skew`` seconds are added to ``iat`` (Upsolve's clock
    ahead of ours); the claims named in ``drop`` are left out; ``claims`` override the rest.
    """

    lifetime: int = 3600
    skew: int = 0
    drop: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict)

    def serve(self, handler: _Handler, request: Received) -> None:
        iat = int(time.time()) + self.skew
        token = _token(
            self.lifetime, self.drop, **{"iat": iat, "exp": iat + self.lifetime, **self.claims}
        )
        handler.server.tokens.append(token)
        Respond(200, ok({"token": token})).serve(handler, request)


class Close(Action):
    """Read the request, then drop the connection without a byte of answer."""

    def serve(self, handler: _Handler, request: Received) -> None:
        handler.close_connection = True


@dataclass
class Upsolve(Action):
    """The contract's happy path, stateless; ``delay`` seconds before answering.

    ``register-organization`` answers a UUID derived from the ``externalId``,
    ``register-user`` echoes the ``userId`` and ``user-token`` issues a fresh
    HS256 JWT of the requested lifetime (recorded in ``FaultServer.tokens``).
    """

    delay: float = 0.0

    def serve(self, handler: _Handler, request: Received) -> None:
        if self.delay:
            handler.server.stopping.wait(self.delay)
        body = request.body if isinstance(request.body, dict) else {}
        if not request.bearer:
            Respond(401, {"status": "error", "message": "Invalid API key"}).serve(handler, request)
            return
        if request.call == "register-organization":
            external = str(body.get("externalId"))
            data = {
                "projectOrganizationId": str(uuid.uuid5(uuid.NAMESPACE_URL, external)),
                "externalId": external,
            }
        elif request.call == "register-user":
            data = {"message": "User registered", "userId": body.get("userId")}
        elif request.call == "user-token":
            token = _token(int(body.get("expiration") or 3600))
            handler.server.tokens.append(token)
            data = {"token": token}
        else:
            Respond(404, {"status": "error", "message": "Not found"}).serve(handler, request)
            return
        Respond(200, ok(data)).serve(handler, request)


def _body_or_token_answer(
    body: bytes | str | Mapping[str, Any], handler: _Handler
) -> tuple[bytes, str]:
    """``body`` encoded, or (when empty) a ``user-token`` answer with a new token."""
    if body:
        return _encode(body)
    token = _token(3600)
    handler.server.tokens.append(token)
    return _encode(ok({"token": token}))


def _encode(body: bytes | str | Mapping[str, Any]) -> tuple[bytes, str]:
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/html; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json"


def _token(lifetime: int, drop: tuple[str, ...] = (), **claims: Any) -> str:
    now = int(time.time())
    payload = {"iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex, **claims}
    for name in drop:
        payload.pop(name, None)
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


def make_token(lifetime: int = 3600, *, drop: tuple[str, ...] = (), **claims: Any) -> str:
    """A JWT like Upsolve's (``iat``, ``exp``, a unique ``jti``); ``claims`` override them and
    the claims named in ``drop`` are left out."""
    return _token(lifetime, drop, **claims)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a real API would
    disable_nagle_algorithm = True  # headers and body go out at once, as from a real server
    timeout = 30  # a client that stops reading cannot pin a server thread for ever

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = self.path.split("?", 1)[0]
        call = path[len(API_PATH) :].strip("/") if path.startswith(API_PATH) else path
        headers = dict(self.headers.items())
        scheme, _, credentials = headers.get("Authorization", "").partition(" ")
        if "Authorization" in headers:
            headers["Authorization"] = f"{scheme} [redacted]"
        request = Received(
            call=call,
            method=self.command,
            headers=headers,
            body=body,
            bearer=scheme == "Bearer" and credentials == self.server.api_key,
            port=self.client_address[1],
        )
        self.server.record(request)
        try:
            self.server.next_action(call).serve(self, request)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True  # the client gave up: fine

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the tests read ``FaultServer.requests`` instead."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, api_key: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api_key = api_key
        self.stopping = threading.Event()
        self.requests: list[Received] = []
        self.tokens: list[str] = []
        self.scripts: dict[str, deque[Action]] = {}
        self.lock = threading.Lock()
        self.default: Action = Upsolve()

    def record(self, request: Received) -> None:
        with self.lock:
            self.requests.append(request)

    def next_action(self, call: str) -> Action:
        with self.lock:
            for key in (call, "*"):
                queue = self.scripts.get(key)
                if queue:
                    return queue.popleft()
            return self.default

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Broken connections are what these tests are about: no tracebacks on stderr."""


class FaultServer:
    """A threaded HTTP server on an ephemeral loopback port; see the module docstring.

    ``tls`` (a ``(certfile, keyfile)`` pair) serves HTTPS with that certificate.
    """

    def __init__(
        self, *, api_key: str = "up_admin_test_0123456789abcdef", tls: tuple[str, str] | None = None
    ) -> None:
        self._server = _Server(api_key)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and wake every stalled or dripping handler."""
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The URL to put in ``UPSOLVE["API_URL"]``."""
        return self.url + API_PATH

    def script(self, *actions: Action, call: str = "*") -> None:
        """Answer the next requests (to ``call``, or to any call) with ``actions``, in order."""
        with self._server.lock:
            self._server.scripts.setdefault(call, deque()).extend(actions)

    def clear(self) -> None:
        """Forget every scripted action not served yet."""
        with self._server.lock:
            self._server.scripts.clear()

    def always(self, action: Action) -> None:
        """Answer every unscripted request with ``action`` (instead of :class:`Upsolve`)."""
        with self._server.lock:
            self._server.default = action

    @property
    def requests(self) -> list[Received]:
        """Every request read so far, oldest first (a copy)."""
        with self._server.lock:
            return list(self._server.requests)

    @property
    def tokens(self) -> list[str]:
        """Every token issued by :class:`Upsolve` so far."""
        with self._server.lock:
            return list(self._server.tokens)

    def calls(self) -> list[str]:
        """The calls made so far, in order, e.g. ``["register-user", "user-token"]``."""
        return [request.call for request in self.requests]

    def count(self, call: str | None = None) -> int:
        """How many requests were read (to ``call``, when given)."""
        return sum(1 for request in self.requests if call is None or request.call == call)


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port bound by nobody listening: every connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # held, so no other process can take the port meanwhile
        yield int(sock.getsockname()[1])


@contextmanager
def unaccepting_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: connections hang until their timeout."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        filler.connect(("127.0.0.1", port))  # takes the only slot of the queue, never accepted
        yield port


@contextmanager
def dripping_handshake_port(interval: float = 0.1, lasts: float = 6.0) -> Iterator[int]:
    """A loopback port that answers a TLS ClientHello with a record a byte every ``interval``
    seconds, for ``lasts`` seconds, then hangs up: a handshake no timeout ends in between.

    The record announces 16 KiB, so no client can finish the handshake meanwhile.
    """
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 0x4000  # handshake, TLS 1.2, 16 KiB
    stopping = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(4096)  # the ClientHello
            ends = time.monotonic() + lasts
            for byte in range(len(record)):
                if stopping.wait(interval) or time.monotonic() > ends:
                    return
                try:
                    conn.sendall(record[byte : byte + 1])
                except OSError:
                    return  # the client hung up

    def accept(listener: socket.socket) -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(None)
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        acceptor = threading.Thread(target=accept, args=(listener,))
        acceptor.start()
        try:
            yield int(listener.getsockname()[1])
        finally:
            stopping.set()
            acceptor.join(timeout=5)
