"""``UpsolveClient``: the three Upsolve calls over one pooled ``requests.Session``.

Every call has a connect and a read timeout and a wall-clock deadline over
all its attempts, body reading included. Connection errors, 5xx and 429 are
retried a bounded number of times with jittered backoff; redirects are never
followed; bodies are read up to ``MAX_RESPONSE_BYTES``. Failures raise the
typed errors of ``django_upsolve.exceptions`` and feed the circuit breaker.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from django.utils import timezone
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from . import __version__, breaker, payloads, transport
from .conf import upsolve_settings
from .exceptions import (
    UpsolveAuthError,
    UpsolveBadResponse,
    UpsolveBreakerOpen,
    UpsolveConflict,
    UpsolveConnectionError,
    UpsolveError,
    UpsolveNotFound,
    UpsolvePermissionError,
    UpsolveRateLimited,
    UpsolveTimeout,
    UpsolveTLSError,
    UpsolveUnavailable,
    UpsolveValidationError,
    excerpt,
)
from .tokens import TokenExpired, TokenRejected, expiry_of

logger = logging.getLogger("django_upsolve.client")

USER_AGENT = f"django-upsolve/{__version__} python-requests/{requests.__version__}"
#: A 429 whose Retry-After is at most this many seconds is retried; longer ones fail fast.
SHORT_RETRY_AFTER = 1.0
#: Below this much time left, another attempt is not worth starting.
MIN_ATTEMPT_TIME = 0.05


@dataclass(frozen=True)
class CallPolicy:
    """How hard one operation tries: retries per call, and a wall-clock deadline shared by all
    calls and attempts of the operation (``ends_at`` on the ``time.monotonic()`` clock)."""

    max_retries: int
    ends_at: float

    @classmethod
    def within(cls, seconds: float, *, max_retries: int) -> CallPolicy:
        """A policy whose deadline is ``seconds`` from now."""
        return cls(max_retries, time.monotonic() + seconds)

    @classmethod
    def login(cls) -> CallPolicy:
        """In a request/response cycle: ``LOGIN_MAX_RETRIES`` retries, ``LOGIN_DEADLINE`` s."""
        return cls.within(
            upsolve_settings.LOGIN_DEADLINE, max_retries=upsolve_settings.LOGIN_MAX_RETRIES
        )

    @classmethod
    def background(cls) -> CallPolicy:
        """Admin actions and commands: ``MAX_RETRIES`` retries, ``DEADLINE`` s."""
        return cls.within(upsolve_settings.DEADLINE, max_retries=upsolve_settings.MAX_RETRIES)

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.ends_at - time.monotonic()


@dataclass(frozen=True)
class RegisteredOrganization:
    organization_id: str
    external_id: str | None
    already_registered: bool = False


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    already_registered: bool = False


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    received_at: datetime

    def __repr__(self) -> str:
        return f"IssuedToken(expires_at={self.expires_at!r})"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta or HTTP date); None when unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = when.timestamp() - (now if now is not None else time.time())
        return max(0.0, seconds)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


class UpsolveClient:
    """The Upsolve API. Thread-confined: use ``get_client()`` for one client per thread."""

    def __init__(
        self,
        *,
        api_key: str,
        project_id: str,
        api_url: str,
        timeout: tuple[float, float],
        max_response_bytes: int,
        session: requests.Session | None = None,
    ) -> None:
        self._api_key = api_key
        self.project_id = project_id
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.session = session or self.create_session()

    def __repr__(self) -> str:
        return f"UpsolveClient(api_url={self.api_url!r}, project_id={self.project_id!r})"

    @classmethod
    def from_settings(cls) -> UpsolveClient:
        """A client configured from ``settings.UPSOLVE``."""
        return cls(
            api_key=upsolve_settings.API_KEY,
            project_id=upsolve_settings.PROJECT_ID,
            api_url=upsolve_settings.API_URL,
            timeout=upsolve_settings.TIMEOUT,
            max_response_bytes=upsolve_settings.MAX_RESPONSE_BYTES,
        )

    def create_session(self) -> requests.Session:
        """The pooled session; override to mount adapters or proxies.

        Its ``transport.DeadlineAdapter`` ends an answer whose headers are still coming in when
        the deadline passes (proxies, or other adapters, lose that bound).
        """
        session = requests.Session()
        adapter = transport.DeadlineAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers.update(
            {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity"}
        )
        # Never let a .netrc or proxy environment rewrite our Authorization header.
        session.trust_env = False
        return session

    # The three calls ------------------------------------------------------

    def register_organization(
        self, *, fields: payloads.OrganizationFields, policy: CallPolicy | None = None
    ) -> RegisteredOrganization:
        """``/register-organization``; a 409 naming the organization counts as registered."""
        body = fields.to_body(project_id=self.project_id)
        try:
            data = self._call("register-organization", body, policy)
            already = False
        except UpsolveConflict as err:
            if "projectOrganizationId" not in err.data:
                raise
            data, already = err.data, True
        organization_id = data.get("projectOrganizationId")
        if not isinstance(organization_id, str):
            raise UpsolveBadResponse(
                "The answer has no projectOrganizationId.", call="register-organization"
            )
        payloads.uuid_text(organization_id, field="projectOrganizationId")
        external = data.get("externalId")
        return RegisteredOrganization(
            organization_id=organization_id.lower(),
            external_id=external if isinstance(external, str) else None,
            already_registered=already,
        )

    def register_user(
        self,
        *,
        organization_id: str,
        user_id: str,
        fields: payloads.UserFields,
        policy: CallPolicy | None = None,
    ) -> RegisteredUser:
        """``/register-user``: ``fields`` for user ``user_id`` in organization
        ``organization_id``; a 409 naming the user counts as registered."""
        body = fields.to_body(
            project_id=self.project_id, organization_id=organization_id, user_id=user_id
        )
        try:
            data = self._call("register-user", body, policy)
            already = False
        except UpsolveConflict as err:
            if "userId" not in err.data:
                raise
            data, already = err.data, True
        returned = data.get("userId", body["userId"])
        try:
            returned_id = payloads.uuid_text(returned, field="userId")
        except UpsolveError as err:
            raise UpsolveBadResponse(
                "The answer's userId is not a UUID.", call="register-user"
            ) from err
        return RegisteredUser(user_id=returned_id, already_registered=already)

    def user_token(
        self, *, user_id: str, expiration: int, policy: CallPolicy | None = None
    ) -> IssuedToken:
        """``/user-token``: a JWT and when it expires by our clock."""
        body = payloads.token_body(user_id=user_id, expiration=expiration)
        try:
            return _issued_token(self._call("user-token", body, policy), expiration)
        except TokenExpired:
            logger.warning("Upsolve issued an already expired token; asking once more.")
        try:
            return _issued_token(self._call("user-token", body, policy), expiration)
        except TokenExpired as err:
            raise UpsolveBadResponse(str(err), call="user-token") from err

    # Transport --------------------------------------------------------------

    def _call(self, call: str, body: dict[str, Any], policy: CallPolicy | None) -> dict[str, Any]:
        policy = policy or CallPolicy.background()
        payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if policy.remaining() < MIN_ATTEMPT_TIME:
            # Spent waiting on our side (locks, earlier calls): says nothing of Upsolve's health.
            raise UpsolveTimeout("The deadline ran out before the call.", call=call)
        attempt = 0
        last_error: UpsolveError | None = None
        while True:
            if not breaker.allow_request():
                if last_error is not None:
                    raise last_error  # The breaker opened between our attempts.
                raise UpsolveBreakerOpen("Calls to Upsolve are paused after failures.", call=call)
            try:
                data = self._attempt(call, payload, policy)
            except UpsolveError as err:
                self._feed_breaker(err)
                delay = self._retry_delay(err, attempt, policy)
                if delay is None:
                    raise
                logger.info("Retrying Upsolve %s in %.2f s after: %s", call, delay, err)
                time.sleep(delay)
                attempt += 1
                last_error = err
                continue
            breaker.record_success()
            return data

    @staticmethod
    def _feed_breaker(err: UpsolveError) -> None:
        if not err.counts_as_failure:
            breaker.record_success()  # Upsolve answered sensibly: it is up.
        elif isinstance(err, UpsolveRateLimited) and (err.retry_after or 0) > SHORT_RETRY_AFTER:
            breaker.record_failure(open_for=err.retry_after)
        else:
            breaker.record_failure()

    @staticmethod
    def _retry_delay(err: UpsolveError, attempt: int, policy: CallPolicy) -> float | None:
        if not err.retryable or attempt >= policy.max_retries:
            return None
        if isinstance(err, UpsolveRateLimited) and err.retry_after is not None:
            if err.retry_after > SHORT_RETRY_AFTER or attempt > 0:
                return None
            delay = err.retry_after
        else:
            delay = min(0.25 * 2**attempt, 2.0) * random.uniform(0.5, 1.0)
        if policy.remaining() - delay < MIN_ATTEMPT_TIME:
            return None
        return delay

    def _attempt(self, call: str, payload: bytes, policy: CallPolicy) -> dict[str, Any]:
        remaining = policy.remaining()
        connect, read = (min(limit, remaining) for limit in self.timeout)
        try:
            with transport.deadline(policy.ends_at):
                response = self.session.post(
                    f"{self.api_url}/{call}",
                    data=payload,
                    headers={
                        "Authorization": f"Bearer {self._api_key}",
                        "Content-Type": "application/json",
                    },
                    timeout=(connect, read),
                    stream=True,
                    allow_redirects=False,
                )
        except requests.exceptions.RequestException as err:
            if policy.remaining() <= 0:  # Cut by the deadline, whatever the socket then said.
                raise UpsolveTimeout("The deadline ran out before the answer.", call=call) from err
            if isinstance(err, requests.exceptions.SSLError):
                raise UpsolveTLSError("TLS failure talking to Upsolve.", call=call) from err
            if isinstance(err, requests.exceptions.Timeout):
                raise UpsolveTimeout("Upsolve did not answer in time.", call=call) from err
            raise UpsolveConnectionError("Could not connect to Upsolve.", call=call) from err
        with response:
            body = self._read_body(response, call, policy)
        return self._interpret(call, response, body)

    def _read_body(self, response: requests.Response, call: str, policy: CallPolicy) -> bytes:
        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = policy.remaining()
                if remaining <= 0:
                    raise UpsolveTimeout(
                        "The deadline ran out while reading the answer.",
                        status_code=response.status_code,
                        call=call,
                    )
                _limit_socket_wait(raw, min(self.timeout[1], remaining))
                chunk = raw.read1(16 * 1024)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise UpsolveBadResponse(
                        f"The answer is larger than {self.max_response_bytes} bytes.",
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

    def _interpret(self, call: str, response: requests.Response, body: bytes) -> dict[str, Any]:
        status = response.status_code
        parsed = _parse_json(body)
        short = excerpt(body, self._api_key)
        if 200 <= status < 300:
            if not isinstance(parsed, dict) or not isinstance(parsed.get("data"), dict):
                raise UpsolveBadResponse(
                    "The answer is not the documented JSON.",
                    status_code=status,
                    call=call,
                    body_excerpt=short,
                )
            if parsed.get("status", "success") != "success":
                raise UpsolveBadResponse(
                    "The answer's status is not 'success'.",
                    status_code=status,
                    call=call,
                    body_excerpt=short,
                )
            data: dict[str, Any] = parsed["data"]
            return data
        if 300 <= status < 400:
            raise UpsolveBadResponse(
                "Upsolve answered with a redirect, which is not followed.",
                status_code=status,
                call=call,
            )
        if status in (400, 422):
            raise UpsolveValidationError(
                f"Upsolve rejected the request (fields: {_error_fields(parsed) or 'unknown'}).",
                status_code=status,
                call=call,
            )
        if status == 401:
            raise UpsolveAuthError("The API key was refused.", status_code=status, call=call)
        if status == 403:
            raise UpsolvePermissionError(
                "The API key may not do this.", status_code=status, call=call
            )
        if status == 404:
            raise UpsolveNotFound("Not found.", status_code=status, call=call, body_excerpt=short)
        if status == 409:
            conflict = parsed.get("data") if isinstance(parsed, dict) else None
            raise UpsolveConflict(
                "Conflict.",
                status_code=status,
                call=call,
                body_excerpt=short,
                data=conflict if isinstance(conflict, dict) else None,
            )
        if status == 429:
            raise UpsolveRateLimited(
                "Rate limited by Upsolve.",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status_code=status,
                call=call,
                body_excerpt=short,
            )
        if status >= 500:
            raise UpsolveUnavailable(
                "Upsolve is unavailable.", status_code=status, call=call, body_excerpt=short
            )
        raise UpsolveBadResponse(
            "Unexpected status.", status_code=status, call=call, body_excerpt=short
        )


def _issued_token(data: dict[str, Any], expiration: int) -> IssuedToken:
    """Check the ``user-token`` answer; ``TokenExpired`` when the token is already stale."""
    received_at = timezone.now()
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise UpsolveBadResponse("The answer has no token.", call="user-token")
    try:
        expires_at = expiry_of(token, requested=expiration, received_at=received_at)
    except TokenExpired:
        raise
    except TokenRejected as err:
        raise UpsolveBadResponse(str(err), call="user-token") from err
    return IssuedToken(token=token, expires_at=expires_at, received_at=received_at)


def _parse_json(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _error_fields(parsed: object) -> str:
    """Field names from a validation answer (never the values)."""
    if not isinstance(parsed, dict):
        return ""
    errors = parsed.get("errors")
    if not isinstance(errors, list):
        return ""
    names = [
        " ".join(e["field"].split())[:64]
        for e in errors[:10]
        if isinstance(e, dict) and isinstance(e.get("field"), str) and e["field"].strip()
    ]
    return ", ".join(names)


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


_local = threading.local()


def get_client() -> UpsolveClient:
    """This thread's client for the current settings (sessions are not shared across threads)."""
    config = (
        upsolve_settings.API_KEY,
        upsolve_settings.PROJECT_ID,
        upsolve_settings.API_URL,
        upsolve_settings.TIMEOUT,
        upsolve_settings.MAX_RESPONSE_BYTES,
    )
    cached: tuple[object, UpsolveClient] | None = getattr(_local, "client", None)
    if cached is not None and cached[0] == config:
        return cached[1]
    if cached is not None:
        cached[1].session.close()
    client = UpsolveClient.from_settings()
    _local.client = (config, client)
    return client
