"""Answer ``requests`` calls to ``UPSOLVE["API_URL"]`` with the sandbox, in-process.

::

    from django_upsolve.sandbox.testing import sandbox_responses

    with sandbox_responses() as sandbox:
        ...  # code that calls Upsolve through requests
    assert sandbox.count("register-user") == 1

Under pytest, the ``upsolve_sandbox`` fixture of
``django_upsolve.sandbox.pytest_plugin`` does the same. Callbacks run in the
thread that made the request, so the sandbox tables are read and written
through that thread's database connection: with the ``transactional_db``
fixture, requests made from other threads see the same data.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import responses
from django.db.models import QuerySet
from requests import PreparedRequest
from requests.structures import CaseInsensitiveDict

from ..conf import upsolve_settings
from .emulator import Emulator
from .models import SandboxOrganization, SandboxUser

REDACTED = "[redacted]"


@dataclass(frozen=True)
class SandboxCall:
    """One request the sandbox answered.

    ``path`` is the endpoint name (``"register-user"``), ``headers`` are the
    request headers with the ``Authorization`` credentials redacted,
    ``json_body`` is the decoded body (None when it was not JSON) and
    ``status`` the status answered.
    """

    path: str
    headers: Mapping[str, str]
    json_body: Any
    status: int


def _redacted(headers: Mapping[str, str]) -> CaseInsensitiveDict[str]:
    recorded = CaseInsensitiveDict(dict(headers))
    if "Authorization" in recorded:
        scheme, space, _ = recorded["Authorization"].partition(" ")
        recorded["Authorization"] = f"{scheme} {REDACTED}" if space else REDACTED
    return recorded


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class SandboxHandle:
    """The running sandbox: its emulator and the calls it answered (thread-safe)."""

    def __init__(self, emulator: Emulator, api_url: str) -> None:
        self.emulator = emulator
        self.api_url = api_url
        self._calls: list[SandboxCall] = []
        self._lock = threading.Lock()

    @property
    def calls(self) -> list[SandboxCall]:
        """Every call answered so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, name: str) -> list[SandboxCall]:
        """The calls made to one endpoint, e.g. ``calls_to("user-token")``."""
        return [call for call in self.calls if call.path == name]

    def count(self, name: str) -> int:
        """How many calls were made to one endpoint."""
        return len(self.calls_to(name))

    def fail_next(
        self,
        status: int,
        body: bytes | str | Mapping[str, Any] = b"",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls with this response; see :meth:`Emulator.fail_next`."""
        self.emulator.fail_next(status, body, headers, times)

    def organizations(self) -> QuerySet[SandboxOrganization]:
        """The organizations registered with the sandbox."""
        return SandboxOrganization.objects.all()

    def users(self) -> QuerySet[SandboxUser]:
        """The users registered with the sandbox."""
        return SandboxUser.objects.select_related("organization")

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        url = (request.url or "").split("?", 1)[0].split("#", 1)[0]
        path = url[len(self.api_url) :].strip("/")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer = self.emulator.handle(path, request.headers, body, in_process=True)
        call = SandboxCall(path, _redacted(request.headers), _json_or_none(body), answer.status)
        with self._lock:
            self._calls.append(call)
        return answer.status, dict(answer.headers), answer.body


@contextmanager
def sandbox_responses(
    emulator: Emulator | None = None, *, api_url: str | None = None
) -> Iterator[SandboxHandle]:
    """Route POSTs under ``api_url`` (default ``UPSOLVE["API_URL"]``) to the sandbox.

    Other requests are refused by ``responses`` with a ``ConnectionError``.
    """
    base = (api_url or upsolve_settings.API_URL).rstrip("/")
    handle = SandboxHandle(emulator or Emulator(), base)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            responses.POST,
            re.compile(re.escape(base) + "/", re.IGNORECASE),
            callback=handle._answer,
            content_type=None,
        )
        yield handle
