"""A stand-in Upsolve for the bench: the three calls of ``docs/contract.rst``, after a delay.

::

    python -m pathbench.standin --latency 0.08 --source web-inline --source worker

It listens on one port per *source* (each web site and the worker get their own
``API_URL``), so every call is counted against the process that made it, and reads the
``X-Bench-View`` header a web process adds (:mod:`pathbench.tagging`) to tell which page
view or login made it. It prints one JSON line, ``{"control": port, "sources": {name:
port}}``, then serves until killed. It runs in its own process so that its threads never
compete with the bench's clients for one interpreter lock.

The calls answer as Upsolve does for a healthy project: ``/register-organization`` and
``/register-user`` register (again, idempotently), ``/user-token`` answers 404 for a user
it was never told about and otherwise an HS256 JWT with ``iat`` and ``exp = iat +
expiration``. It is lenient where the bench does not need strictness: any
``projectOrganizationId`` is taken, and only the API key is checked.

The control port answers the bench: ``GET /calls`` (every call since the last reset, as
``[source, call, view]``), ``GET /count?source=&call=``, ``POST /reset``, ``POST /latency``
``{"seconds": s}`` and ``POST /users`` ``{"ids": [...]}`` (users registered beforehand).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from pathbench.configs import API_KEY, VIEW_HEADER

SIGNING_KEY = "request-path-bench-signing-key-0123456789"
API_PATH = "/v1/api/projects/"
NAMESPACE = uuid.UUID("6f1d7c4e-5b0a-4c36-9a51-0d2b8e7f3a10")

Answer = tuple[int, dict[str, Any]]


def ok(data: dict[str, Any]) -> Answer:
    return 200, {"status": "success", "data": data}


class Upsolve:
    """The state shared by every port: registered users, the calls made, the delay."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self._lock = threading.Lock()
        self._users: set[str] = set()
        self._calls: list[tuple[str, str, str]] = []

    def answer(self, source: str, call: str, body: dict[str, Any], view: str) -> Answer:
        """Count the call, wait the latency, and answer it as the contract says."""
        with self._lock:
            self._calls.append((source, call, view))
        time.sleep(self.latency)
        if call == "register-organization":
            external_id = str(body.get("externalId", ""))
            return ok(
                {
                    "projectOrganizationId": str(uuid.uuid5(NAMESPACE, external_id)),
                    "externalId": external_id,
                }
            )
        if call == "register-user":
            user_id = str(body.get("userId") or uuid.uuid4())
            self.register([user_id])
            return ok({"message": "User registered", "userId": user_id})
        if call == "user-token":
            return self._token(str(body.get("userId", "")), int(body.get("expiration", 3600)))
        return 404, {"status": "error", "message": f"No such call: {call}"}

    def _token(self, user_id: str, expiration: int) -> Answer:
        with self._lock:
            known = user_id in self._users
        if not known:
            return 404, {"status": "error", "message": "User not found"}
        now = int(time.time())
        claims = {"sub": user_id, "iat": now, "exp": now + expiration}
        return ok({"token": jwt.encode(claims, SIGNING_KEY, algorithm="HS256")})

    def register(self, user_ids: list[str]) -> None:
        with self._lock:
            self._users.update(user_ids)

    def calls(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._calls)

    def count(self, source: str, call: str) -> int:
        with self._lock:
            return sum(1 for made in self._calls if made[0] == source and made[1] == call)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 with JSON bodies, and no request log on stderr."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle's algorithm holds the body
    # until the client's delayed ACK of the headers (40 ms on Linux), a latency of our own.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        parsed = json.loads(self.rfile.read(length) or b"{}") if length else {}
        return parsed if isinstance(parsed, dict) else {}

    def send_json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ApiHandler(JsonHandler):
    """``POST /v1/api/projects/<call>`` on a source's port."""

    def do_POST(self) -> None:
        body = self.read_json()
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self.send_json(401, {"status": "error", "message": "Invalid API key"})
            return
        call = self.path.removeprefix(API_PATH)
        view = self.headers.get(VIEW_HEADER, "")
        self.send_json(*self.server.upsolve.answer(self.server.source, call, body, view))


class ControlHandler(JsonHandler):
    """What the bench asks of the stand-in between phases."""

    def do_GET(self) -> None:
        upsolve, url = self.server.upsolve, urlsplit(self.path)
        if url.path == "/calls":
            self.send_json(200, {"calls": upsolve.calls()})
        elif url.path == "/count":
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            count = upsolve.count(query.get("source", ""), query.get("call", ""))
            self.send_json(200, {"count": count})
        else:
            self.send_json(404, {})

    def do_POST(self) -> None:
        upsolve, body = self.server.upsolve, self.read_json()
        if self.path == "/reset":
            upsolve.reset()
        elif self.path == "/latency":
            upsolve.latency = float(body["seconds"])
        elif self.path == "/users":
            upsolve.register([str(user_id) for user_id in body["ids"]])
        else:
            self.send_json(404, {})
            return
        self.send_json(200, {})


class Server(ThreadingHTTPServer):
    """One listening port of the stand-in, named after the process that calls it."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, upsolve: Upsolve, source: str, handler: type[JsonHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.upsolve, self.source = upsolve, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.08, help="seconds per call")
    parser.add_argument("--source", action="append", default=[], help="one port per source")
    args = parser.parse_args()
    upsolve = Upsolve(args.latency)
    control = Server(upsolve, "control", ControlHandler)
    servers = [Server(upsolve, source, ApiHandler) for source in args.source]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ports = {server.source: server.server_address[1] for server in servers}
    print(json.dumps({"control": control.server_address[1], "sources": ports}), flush=True)
    sys.stdout.close()
    control.serve_forever()


if __name__ == "__main__":
    main()
