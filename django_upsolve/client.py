"""``UpsolveClient``: the three Upsolve calls over one pooled ``requests.Session``.

Every call has a connect and a read timeout and a wall-clock deadline over
all its attempts, body reading included (``transport``). Connection errors, 5xx and 429
are retried within the operation's budget (``budget.CallPolicy``); redirects are never
followed; bodies are read up to ``MAX_RESPONSE_BYTES``. Failures raise the typed errors
of ``django_upsolve.exceptions`` and feed the circuit breaker.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from django.utils import timezone

from . import __version__, breaker, payloads, transport
from .budget import SHORT_RETRY_AFTER, CallPolicy
from .conf import upsolve_settings
from .exceptions import (
    UpsolveBadResponse,
    UpsolveBreakerOpen,
    UpsolveConflict,
    UpsolveError,
    UpsolveRateLimited,
    UpsolveTimeout,
    error_for,
)
from .redaction import excerpt, redact_url
from .tokens import TokenExpired, TokenRejected, expiry_of

logger = logging.getLogger(__name__)

USER_AGENT = f"django-upsolve/{__version__} python-requests/{requests.__version__}"


@dataclass(frozen=True)
class ClientOptions:
    """The settings a client is built from; equal options make an equal client."""

    api_key: str = dataclasses.field(repr=False)
    project_id: str
    api_url: str
    timeout: tuple[float, float]
    max_response_bytes: int


def client_options() -> ClientOptions:
    """The client's options from ``settings.UPSOLVE``."""
    return ClientOptions(
        api_key=upsolve_settings.API_KEY,
        project_id=upsolve_settings.PROJECT_ID,
        api_url=upsolve_settings.API_URL,
        timeout=upsolve_settings.TIMEOUT,
        max_response_bytes=upsolve_settings.MAX_RESPONSE_BYTES,
    )


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
        url = redact_url(self.api_url)
        return f"UpsolveClient(api_url={url!r}, project_id={self.project_id!r})"

    @classmethod
    def from_settings(cls) -> UpsolveClient:
        """A client configured from ``settings.UPSOLVE``."""
        return cls(**dataclasses.asdict(client_options()))

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
        data, already = self._register(
            "register-organization", body, policy, "projectOrganizationId"
        )
        organization_id = data.get("projectOrganizationId")
        if not isinstance(organization_id, str):
            raise UpsolveBadResponse(
                "The answer has no projectOrganizationId.", call="register-organization"
            )
        try:
            organization_id = payloads.uuid_text(organization_id, field="projectOrganizationId")
        except UpsolveError as err:
            raise UpsolveBadResponse(
                "The answer's projectOrganizationId is not a UUID.", call="register-organization"
            ) from err
        external = data.get("externalId")
        return RegisteredOrganization(
            organization_id=organization_id,
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
        data, already = self._register("register-user", body, policy, "userId")
        returned = data.get("userId", body["userId"])
        try:
            returned_id = payloads.uuid_text(returned, field="userId")
        except UpsolveError as err:
            raise UpsolveBadResponse(
                "The answer's userId is not a UUID.", call="register-user"
            ) from err
        return RegisteredUser(user_id=returned_id, already_registered=already)

    def user_token(
        self,
        *,
        user_id: str,
        expiration: int,
        organization_id: str | None = None,
        policy: CallPolicy | None = None,
    ) -> IssuedToken:
        """``/user-token``: a JWT and when it expires by our clock.

        ``organization_id`` is the user's organization: user-scoped keys require it, and the
        services always send it.
        """
        body = payloads.token_body(
            user_id=user_id, expiration=expiration, organization_id=organization_id
        )
        try:
            return _issued_token(self._call("user-token", body, policy), expiration)
        except TokenExpired:
            logger.warning("Upsolve issued an already expired token; asking once more.")
        try:
            return _issued_token(self._call("user-token", body, policy), expiration)
        except TokenExpired as err:
            raise UpsolveBadResponse(str(err), call="user-token") from err

    # One call, its attempts and their answers --------------------------------

    def _register(
        self, call: str, body: dict[str, Any], policy: CallPolicy | None, id_field: str
    ) -> tuple[dict[str, Any], bool]:
        """``call``'s data and False; or, for a 409 whose data has ``id_field`` (the object
        exists already), that data and True."""
        try:
            return self._call(call, body, policy), False
        except UpsolveConflict as err:
            if id_field not in err.data:
                raise
            return err.data, True

    def _call(self, call: str, body: dict[str, Any], policy: CallPolicy | None) -> dict[str, Any]:
        policy = policy or CallPolicy.background()
        payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if policy.spent():
            # Spent waiting on our side (locks, earlier calls): says nothing of Upsolve's health.
            raise UpsolveTimeout("The deadline ran out before the call.", call=call)
        attempt = 0
        last_error: UpsolveError | None = None
        while True:
            if not breaker.allow_request(budget=policy.remaining()):
                if last_error is not None:
                    raise last_error  # The breaker opened between our attempts.
                raise UpsolveBreakerOpen("Calls to Upsolve are paused after failures.", call=call)
            try:
                data = self._attempt(call, payload, policy)
            except UpsolveError as err:
                _feed_breaker(err, policy)
                delay = policy.retry_delay(err, attempt)
                if delay is None:
                    raise
                logger.info("Retrying Upsolve %s in %.2f s after: %s", call, delay, err)
                time.sleep(delay)
                attempt += 1
                last_error = err
                continue
            breaker.record_success(budget=policy.remaining())
            return data

    def _attempt(self, call: str, payload: bytes, policy: CallPolicy) -> dict[str, Any]:
        answer = transport.post(
            self.session,
            f"{self.api_url}/{call}",
            data=payload,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
            },
            timeout=self.timeout,
            ends_at=policy.ends_at,
            max_bytes=self.max_response_bytes,
            call=call,
        )
        parsed = _parse_json(answer.body)
        if not 200 <= answer.status < 300:
            short = excerpt(answer.body, self._api_key)
            raise error_for(call, answer.status, parsed, answer.headers, short)
        if not isinstance(parsed, dict) or not isinstance(parsed.get("data"), dict):
            message = "The answer is not the documented JSON."
        elif parsed.get("status", "success") != "success":
            message = "The answer's status is not 'success'."
        else:
            data: dict[str, Any] = parsed["data"]
            return data
        short = excerpt(answer.body, self._api_key)
        raise UpsolveBadResponse(message, status_code=answer.status, call=call, body_excerpt=short)


def _feed_breaker(err: UpsolveError, policy: CallPolicy) -> None:
    budget = policy.remaining()
    if not err.counts_as_failure:
        breaker.record_success(budget=budget)  # Upsolve answered sensibly: it is up.
    elif isinstance(err, UpsolveRateLimited) and (err.retry_after or 0) > SHORT_RETRY_AFTER:
        breaker.record_failure(open_for=err.retry_after, budget=budget)
    else:
        breaker.record_failure(budget=budget)


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


_local = threading.local()


def get_client() -> UpsolveClient:
    """This thread's client for the current settings (sessions are not shared across threads);
    with ``UPSOLVE["TEST_MODE"]``, a :class:`~django_upsolve.testing.RecordingClient`."""
    if upsolve_settings.TEST_MODE:
        from .testing import RecordingClient  # imported here: it imports this module

        return RecordingClient.from_settings()
    options = client_options()
    cached: tuple[ClientOptions, UpsolveClient] | None = getattr(_local, "client", None)
    if cached is not None and cached[0] == options:
        return cached[1]
    if cached is not None:
        cached[1].session.close()
    client = UpsolveClient(**dataclasses.asdict(options))
    _local.client = (options, client)
    return client
