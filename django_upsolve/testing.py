"""Test mode: Upsolve answered in-process and recorded, for the test suites of projects.

With ``UPSOLVE["TEST_MODE"] = True`` in the test settings, :func:`~django_upsolve.client.get_client`
returns a :class:`RecordingClient`: the three calls build and check their bodies as usual, then,
instead of any HTTP, are appended to :data:`outbox` and answered as the API contract answers
them. A login costs no network and well under a millisecond of Upsolve work, and the tags render
iframes with the fake tokens, which are JWTs whose ``iat``/``exp`` span ``TOKEN_EXPIRATION``.

Like ``django.core.mail.outbox``, the outbox is one list for the process: empty it in
``setUp`` (``outbox.clear()``) or use the ``upsolve_outbox`` fixture of
``django_upsolve.sandbox.pytest_plugin``, which empties it around every test. The API key and
``API_URL`` are never read in test mode; ``PROJECT_ID`` and ``DEFAULT_ROLE_ID`` (ids, not
secrets) are sent in the bodies as usual.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from .budget import CallPolicy
from .client import UpsolveClient
from .conf import upsolve_settings

#: The ``iss`` claim of every fake token, so that no one mistakes one for Upsolve's.
ISSUER = "django-upsolve-test-mode"
#: Organization ids are derived from the project and ``externalId`` in this namespace, so an
#: organization registered again gets the same id, as Upsolve's 409 would say.
ORGANIZATION_NAMESPACE = uuid.UUID("0b7d0f4e-53c3-4e0c-9d63-5f1c2a7e8d11")


@dataclass(frozen=True)
class RecordedCall:
    """One call test mode answered instead of Upsolve.

    ``name`` is the endpoint (``"register-user"``), ``body`` the JSON body as it would have
    been sent (the API key travels only in a header, so it is never here) and ``answer`` the
    ``data`` answered (for ``user-token``, ``answer["token"]`` is the fake token).
    """

    name: str
    body: dict[str, Any]
    answer: dict[str, Any]


#: Every call answered in test mode, oldest first. Cleared in place, never replaced, so
#: ``from django_upsolve.testing import outbox`` stays valid.
outbox: list[RecordedCall] = []


def calls_to(name: str) -> list[RecordedCall]:
    """The recorded calls to one endpoint, e.g. ``calls_to("user-token")``."""
    return [call for call in outbox if call.name == name]


def fake_token(user_id: str, expiration: int) -> str:
    """An unsigned JWT for ``user_id`` issued now and expiring ``expiration`` seconds later."""
    issued = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": user_id,
        "iat": issued,
        "exp": issued + expiration,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, None, algorithm="none")


def _answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` Upsolve's contract answers to ``body`` on endpoint ``name``."""
    if name == "register-organization":
        seed = f"{body['projectId']}:{body['externalId']}"
        organization_id = uuid.uuid5(ORGANIZATION_NAMESPACE, seed)
        return {"projectOrganizationId": str(organization_id), "externalId": body["externalId"]}
    if name == "register-user":
        return {"userId": body["userId"]}
    return {"token": fake_token(body["userId"], body["expiration"])}


class RecordingClient(UpsolveClient):
    """:class:`UpsolveClient` whose calls are recorded in :data:`outbox`, never sent.

    Bodies are built and checked exactly as for Upsolve (a value the contract refuses still
    raises ``UpsolveInvalidRequest``), and the answers go through the same parsing; only the
    transport, the retries and the circuit breaker are left out.
    """

    def __init__(self, *, project_id: str) -> None:
        self.project_id = project_id

    def __repr__(self) -> str:
        return f"RecordingClient(project_id={self.project_id!r})"

    @classmethod
    def from_settings(cls) -> RecordingClient:
        """A recording client for ``UPSOLVE["PROJECT_ID"]``."""
        return cls(project_id=upsolve_settings.PROJECT_ID)

    def _call(self, call: str, body: dict[str, Any], policy: CallPolicy | None) -> dict[str, Any]:
        # A JSON round trip: what would have been sent, detached from the caller's objects.
        sent = json.loads(json.dumps(body, ensure_ascii=False, allow_nan=False))
        answer = _answer(call, sent)
        outbox.append(RecordedCall(call, sent, answer))
        return dict(answer)
