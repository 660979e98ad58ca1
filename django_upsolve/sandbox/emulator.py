"""The Upsolve API, emulated: one request in, one response out, whatever the transport.

:class:`Emulator` answers the three calls of the contract in
``docs/contract.rst`` (``/register-organization``, ``/register-user``,
``/user-token``). The Django views (``views.py``) and the ``responses``
callbacks (``testing.py``) both hand requests to it, so the sandbox behaves
the same over HTTP and in-process.

Settings, read on every request (``override_settings`` works):

``UPSOLVE_SANDBOX["API_KEY"]``
    The key the sandbox accepts. Without it, ``UPSOLVE["API_KEY"]`` is accepted only when it
    is not the production key; ``UPSOLVE_SANDBOX["ALLOW_PRODUCTION_KEY"] = True`` lifts that
    rule (:mod:`.keys` says when a key counts as the production key). Only the
    ``Authorization: Bearer <key>`` header is read: an ``apiKey`` in the body is ignored,
    so a client that sends it there gets a 401.
``UPSOLVE_SANDBOX["SIGNING_KEY"]``
    The HS256 key of the tokens (use at least 32 bytes); defaults to a key
    derived from ``SECRET_KEY``.
``UPSOLVE_SANDBOX["MAX_ORGANIZATIONS"]``, ``["MAX_USERS"]``, ``["MAX_PROPERTIES_BYTES"]``
    What the sandbox stores at most (defaults in :data:`.conf.LIMITS`: 10,000
    organizations, 10,000 users, 16 KiB of ``properties`` JSON per organization or user).
    A registration that would store one more organization or user than allowed is a 429
    with ``Retry-After: 60`` (the client does not retry it and pauses its calls for that
    long); ``properties`` over the size are a 422 naming the field, as any invalid value.
    Updating a user already registered is always allowed. Concurrent registrations on a
    database other than SQLite may pass a bound by as many as run at once.

The project is ``UPSOLVE["PROJECT_ID"]``; any other ``projectId`` is a 404.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import jwt
from django.db import IntegrityError, connections, router, transaction
from django.utils.crypto import salted_hmac

from ..conf import upsolve_settings
from .conf import sandbox_limit, sandbox_setting
from .keys import accepted_key
from .models import SandboxOrganization, SandboxUser

logger = logging.getLogger(__name__)

#: Token lifetime when ``/user-token`` is sent no ``expiration``, in seconds.
DEFAULT_EXPIRATION = 3600
#: Longest token lifetime the sandbox grants, in seconds.
MAX_EXPIRATION = 7 * 24 * 3600
#: Longest ``name``, ``externalId`` or ``projectOrganizationId`` accepted.
MAX_TEXT_LENGTH = 255
#: Seconds a client is told to wait when the sandbox holds all the organizations or users
#: it may store.
FULL_RETRY_AFTER = 60

_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DURATION = re.compile(r"([1-9][0-9]{0,9})([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NIL = uuid.UUID(int=0)
_JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}

#: SQLite has one writer at a time, and two transactions that both read before
#: writing (``update_or_create``) fail at once with "database is locked" rather
#: than wait; a shared-cache in-memory database never waits at all. So on SQLite
#: the sandbox answers one request at a time; other databases run requests
#: concurrently and rely on their own row and index locks.
_SQLITE_LOCK = threading.Lock()


@dataclass(frozen=True)
class EmulatorResponse:
    """What the emulator answers: an HTTP status, headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


def json_response(status: int, payload: Mapping[str, Any]) -> EmulatorResponse:
    """A JSON answer, UTF-8 encoded, never cached."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return EmulatorResponse(status, dict(_JSON_HEADERS), body)


def error_response(status: int, message: str, **extra: Any) -> EmulatorResponse:
    """An error answer: ``{"status": "error", "message": ..., **extra}``."""
    return json_response(status, {"status": "error", "message": message, **extra})


def signing_key() -> str:
    """The HS256 key of sandbox tokens: the configured one, else one derived from SECRET_KEY."""
    configured = sandbox_setting("SIGNING_KEY")
    if configured:
        return str(configured)
    return salted_hmac("django_upsolve.sandbox", "jwt-signing-key", algorithm="sha256").hexdigest()


def _configured_project() -> uuid.UUID | None:
    value = upsolve_settings.get("PROJECT_ID")
    if isinstance(value, str) and _UUID.fullmatch(value):
        return uuid.UUID(value)
    return None


def _database() -> str:
    """The database alias of the sandbox tables (a router may give them their own)."""
    return router.db_for_write(SandboxOrganization)


def _serialised() -> AbstractContextManager[object]:
    return _SQLITE_LOCK if connections[_database()].vendor == "sqlite" else nullcontext()


class _Reject(Exception):
    """Ends a request early with an error answer."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.response = error_response(status, message, **extra)


def _make_room(stored: int, limit_name: str, noun: str) -> None:
    """Refuse with a 429 when the sandbox already holds as many ``noun`` as allowed."""
    limit = sandbox_limit(limit_name)
    if stored >= limit:
        reject = _Reject(429, f"The sandbox holds its maximum of {limit} {noun}.")
        answer = reject.response
        headers = {**answer.headers, "Retry-After": str(FULL_RETRY_AFTER)}
        reject.response = EmulatorResponse(answer.status, headers, answer.body)
        raise reject


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class _Body:
    """Field validation for one request body; errors name fields, never values.

    Required accessors return a placeholder when the field is invalid; the
    placeholder is never used because :meth:`check` raises first.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.errors: list[dict[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def check(self) -> None:
        if self.errors:
            raise _Reject(422, "Validation failed", errors=self.errors)

    def _missing(self, field: str) -> bool:
        if self.data.get(field) is None:
            self.fail(field, "is required")
            return True
        return False

    def optional_uuid(self, field: str) -> uuid.UUID | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, str) and _UUID.fullmatch(value):
            return uuid.UUID(value)
        self.fail(field, "must be a UUID")
        return None

    def uuid(self, field: str) -> uuid.UUID:
        if self._missing(field):
            return _NIL
        return self.optional_uuid(field) or _NIL

    def optional_text(self, field: str) -> str | None:
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.fail(field, "must be a non-empty string")
        elif len(value) > MAX_TEXT_LENGTH:
            self.fail(field, f"must be at most {MAX_TEXT_LENGTH} characters")
        elif "\x00" in value:
            self.fail(field, "must not contain NUL characters")
        else:
            return value
        return None

    def text(self, field: str) -> str:
        if self._missing(field):
            return ""
        return self.optional_text(field) or ""

    def properties(self, *, required: bool) -> dict[str, Any]:
        value = self.data.get("properties")
        if value is None:
            if required:
                self.fail("properties", "is required")
            return {}
        if not isinstance(value, dict):
            self.fail("properties", "must be an object")
            return {}
        for key, item in value.items():
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                self.fail("properties", "values must be strings or numbers")
                return value
            if "\x00" in key or (isinstance(item, str) and "\x00" in item):
                self.fail("properties", "must not contain NUL characters")
                return value
        limit = sandbox_limit("MAX_PROPERTIES_BYTES")
        if len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > limit:
            self.fail("properties", f"must be at most {limit} bytes as JSON")
        return value

    def expiration(self) -> int:
        value = self.data.get("expiration")
        if value is None:
            return DEFAULT_EXPIRATION
        seconds = 0
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
            seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
        if 0 < seconds <= MAX_EXPIRATION:
            return seconds
        self.fail(
            "expiration",
            "must be a whole number of seconds or a duration like '30s', '15m', '1h' or '1d',"
            " at most 7 days",
        )
        return DEFAULT_EXPIRATION


def _organization_data(org: SandboxOrganization) -> dict[str, Any]:
    return {"projectOrganizationId": str(org.pk), "externalId": org.external_id}


class Emulator:
    """Answers Upsolve API requests from the sandbox tables.

    ``handle()`` never raises: every failure is a JSON error answer. ``clock``
    (seconds since the epoch) dates the tokens and judges their expiry.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._faults: deque[EmulatorResponse] = deque()
        self._lock = threading.Lock()
        self._routes: dict[str, Callable[[_Body], dict[str, Any]]] = {
            "register-organization": self._register_organization,
            "register-user": self._register_user,
            "user-token": self._user_token,
        }

    # Fault injection -------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: bytes | str | Mapping[str, Any] = b"",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests, whatever they are, with this response.

        ``body`` may be bytes, text (sent as ``text/plain`` unless ``headers``
        say otherwise) or a mapping (sent as JSON). Faults queue up in order.
        """
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code.")
        if times < 1:
            raise ValueError("times must be at least 1.")
        if isinstance(body, Mapping):
            fault = json_response(status, body)
        else:
            raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
            fault = EmulatorResponse(status, {"Content-Type": "text/plain; charset=utf-8"}, raw)
        if headers:
            given = {name.lower() for name in headers}
            kept = {k: v for k, v in fault.headers.items() if k.lower() not in given}
            fault = EmulatorResponse(status, {**kept, **headers}, fault.body)
        with self._lock:
            self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        """Drop every fault queued by :meth:`fail_next` and not yet served."""
        with self._lock:
            self._faults.clear()

    def _next_fault(self) -> EmulatorResponse | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # Requests --------------------------------------------------------------

    def handle(
        self, path: str, headers: Mapping[str, str], body: bytes, *, in_process: bool = False
    ) -> EmulatorResponse:
        """Answer one POST to ``path`` (relative to the API base, e.g. ``"/register-user"``).

        ``in_process`` says the request comes from this process (the ``responses`` sandbox of
        tests), not over HTTP: then ``UPSOLVE["API_KEY"]`` is never the production key.
        """
        fault = self._next_fault()
        if fault is not None:
            return fault
        route = self._routes.get(path.strip("/"))
        lowered = {str(name).lower(): str(value) for name, value in headers.items()}
        try:
            if route is None:
                raise _Reject(404, "Not found")
            self._authenticate(lowered, in_process=in_process)
            parsed = self._parse(lowered, body)
            with _serialised():
                data = route(parsed)
            return json_response(200, {"status": "success", "data": data})
        except _Reject as reject:
            return reject.response
        except Exception:
            logger.exception("The Upsolve sandbox failed to answer %s.", path)
            return error_response(500, "Internal server error")

    @staticmethod
    def _authenticate(headers: Mapping[str, str], *, in_process: bool) -> None:
        expected = accepted_key(in_process=in_process)
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if not (
            expected
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), expected.encode())
        ):
            raise _Reject(401, "Invalid API key")

    @staticmethod
    def _parse(headers: Mapping[str, str], body: bytes) -> _Body:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise _Reject(400, "Content-Type must be application/json")
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise _Reject(400, "Request body must be a JSON object")
        return _Body(data)

    @staticmethod
    def _project(project_id: uuid.UUID) -> uuid.UUID:
        if project_id != _configured_project():
            raise _Reject(404, "Project not found")
        return project_id

    @staticmethod
    def _organization(project_id: uuid.UUID, reference: str) -> SandboxOrganization:
        """The project's organization whose id, or else whose externalId, is ``reference``."""
        organizations = SandboxOrganization.objects.filter(project_id=project_id)
        found = None
        if _UUID.fullmatch(reference):
            found = organizations.filter(pk=reference).first()
        found = found or organizations.filter(external_id=reference).first()
        if found is None:
            raise _Reject(404, "Organization not found")
        return found

    def _register_organization(self, body: _Body) -> dict[str, Any]:
        project_id = body.uuid("projectId")
        name = body.text("name")
        external_id = body.optional_text("externalId")
        properties = body.properties(required=False)
        body.check()
        self._project(project_id)
        if external_id is not None:
            existing = SandboxOrganization.objects.filter(
                project_id=project_id, external_id=external_id
            ).first()
            if existing is not None:
                raise _Reject(
                    409, "Organization already registered", data=_organization_data(existing)
                )
        _make_room(SandboxOrganization.objects.count(), "MAX_ORGANIZATIONS", "organizations")
        try:
            with transaction.atomic(using=_database()):
                org = SandboxOrganization.objects.create(
                    project_id=project_id, name=name, external_id=external_id, properties=properties
                )
        except IntegrityError:
            existing = SandboxOrganization.objects.get(
                project_id=project_id, external_id=external_id
            )
            raise _Reject(
                409, "Organization already registered", data=_organization_data(existing)
            ) from None
        return _organization_data(org)

    def _register_user(self, body: _Body) -> dict[str, Any]:
        project_id = body.uuid("projectId")
        reference = body.text("projectOrganizationId")
        role_id = body.uuid("userRoleId")
        name = body.text("name")
        properties = body.properties(required=True)
        user_id = body.optional_uuid("userId")
        body.check()
        self._project(project_id)
        values = {
            "organization": self._organization(project_id, reference),
            "role_id": role_id,
            "name": name,
            "properties": properties,
        }
        if user_id is None or not SandboxUser.objects.filter(pk=user_id).exists():
            _make_room(SandboxUser.objects.count(), "MAX_USERS", "users")
        if user_id is None:
            user, created = SandboxUser.objects.create(project_id=project_id, **values), True
        else:
            try:
                user, created = SandboxUser.objects.update_or_create(
                    pk=user_id, project_id=project_id, defaults=values
                )
            except IntegrityError:
                raise _Reject(409, "User already registered in another project") from None
        message = "User registered" if created else "User updated"
        return {"message": message, "userId": str(user.pk)}

    def _user_token(self, body: _Body) -> dict[str, Any]:
        user_id = body.uuid("userId")
        organization_id = body.optional_uuid("organizationId")
        expiration = body.expiration()
        body.check()
        project_id = _configured_project()
        users = SandboxUser.objects.select_related("organization")
        user = (
            None if project_id is None else users.filter(pk=user_id, project_id=project_id).first()
        )
        if user is None:
            raise _Reject(404, "User not found")
        if organization_id is not None and organization_id != user.organization_id:
            raise _Reject(403, "Organization does not match user")
        return {"token": self.issue_token(user, expiration)}

    # Tokens ----------------------------------------------------------------

    def issue_token(self, user: SandboxUser, expiration: int = DEFAULT_EXPIRATION) -> str:
        """A signed token for ``user``, valid ``expiration`` seconds from ``clock()``."""
        issued_at = int(self.clock())
        org = user.organization
        claims = {
            "iat": issued_at,
            "exp": issued_at + expiration,
            "sub": str(user.pk),
            "projectId": str(user.project_id),
            "organizationId": str(org.pk),
            "externalId": org.external_id,
            "organizationName": org.name,
            "userName": user.name,
            "roleId": str(user.role_id),
            "properties": user.properties,
        }
        return jwt.encode(claims, signing_key(), algorithm="HS256")

    def decode_token(self, token: str) -> dict[str, Any]:
        """Verify a sandbox token's HS256 signature and expiry; return its claims.

        Raises ``jwt.ExpiredSignatureError`` when it has expired by ``clock()``
        and ``jwt.InvalidTokenError`` (its base class) for anything else wrong.
        """
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key(),
            algorithms=["HS256"],
            options={"require": ["iat", "exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        if any(
            isinstance(claims[name], bool) or not isinstance(claims[name], int)
            for name in ("iat", "exp")
        ):
            raise jwt.InvalidTokenError("The token's iat and exp must be integers.")
        if claims["exp"] <= self.clock():
            raise jwt.ExpiredSignatureError("The token has expired.")
        return claims
