"""The flow: ensure the tenant, ensure the user, hold a fresh token.

Public API: ``get_token``, ``aget_token``, ``get_fresh_profile``, ``sync_login``,
``sync_in_background``, ``refresh_token``, ``reregister``, ``clear_token``; ``membership_of`` and
``fresh_profile`` for callers that need the adapter's answer themselves (the embed).
Each operation asks the adapter once (a :class:`Membership`) and passes the answer
down. Concurrent callers for one user (or one tenant) are serialised by a cache
lock, re-read the database once they hold it, and skip work another caller
already did; unique constraints back this up.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import router, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import background, payloads, signals
from . import cache as shared_cache
from .budget import CallPolicy
from .client import IssuedToken, get_client
from .conf import upsolve_settings
from .exceptions import (
    UpsolveAuthError,
    UpsolveBreakerOpen,
    UpsolveError,
    UpsolveNotEligible,
    UpsolveNotFound,
    UpsolveTimeout,
    UpsolveTLSError,
)
from .locks import LockTimeout, cache_lock
from .memberships import Membership, login_memberships, membership_of, membership_profile
from .models import UpsolveProfile, UpsolveTenant
from .redaction import error_record
from .rowlocks import row_locked
from .stored_token import StoredToken, mark_seen, read_stored_token

__all__ = [
    "CurrentToken",
    "Membership",
    "NoToken",
    "aget_token",
    "clear_token",
    "current_token",
    "fresh_profile",
    "get_fresh_profile",
    "get_token",
    "invalidate",
    "mark_seen",
    "membership_of",
    "refresh_token",
    "reregister",
    "savepoint_if_in_transaction",
    "sync_in_background",
    "sync_login",
]
from .tokens import is_jwt_shaped

logger = logging.getLogger(__name__)

#: Seconds a lock outlives its holder's deadline, should the holder die.
LOCK_SLACK = 5.0
#: After a failed sync, pages wait this long before trying that user again (logins do not).
FAILED_SYNC_PAUSE = timedelta(seconds=30)
#: Authentication failures are logged at ERROR at most once per this many seconds.
AUTH_LOG_INTERVAL = 60


def get_token(
    user: AbstractBaseUser,
    *,
    force: bool = False,
    tenant: str | None = None,
    request: HttpRequest | None = None,
) -> str | None:
    """The token ``user`` may use now, or ``None``; never raises.

    The membership is ``tenant`` (an external id), else the one ``request`` is about, else
    the user's first (see :func:`.memberships.membership_of`).

    A fresh stored token costs one narrow read and no HTTP call. When it is stale or
    missing, inline mode registers the user as needed and fetches a token within the login
    budget; background mode never waits: it queues a sync and answers the stored token while
    it is still valid, else ``None``. ``force=True`` fetches a new token now, in either mode.
    Failures are logged and recorded on the profile.
    """
    try:
        if not getattr(user, "is_authenticated", False):
            return None
        membership = membership_of(user, request=request, tenant=tenant)
        if membership is None:
            return None
        if force:
            profile = fresh_profile(membership, force=True)
            return profile.token if profile is not None else None
        answer = current_token(membership)
    except Exception:
        logger.exception("Could not get an Upsolve token for user pk=%s.", user.pk)
        return None
    return answer.token if isinstance(answer, CurrentToken) else None


async def aget_token(
    user: AbstractBaseUser,
    *,
    force: bool = False,
    tenant: str | None = None,
    request: HttpRequest | None = None,
) -> str | None:
    """:func:`get_token` for async views; the database work runs in a thread."""
    return await sync_to_async(get_token)(user, force=force, tenant=tenant, request=request)


@dataclass(frozen=True)
class CurrentToken:
    """A token the user may embed now. ``refreshing``: stale, and a new one is on its way."""

    token: str
    expires_at: datetime
    refreshing: bool = False

    def __repr__(self) -> str:
        return f"CurrentToken(expires_at={self.expires_at!r}, refreshing={self.refreshing})"

    @property
    def expires_epoch(self) -> int:
        """The expiry in whole seconds since the epoch, rounded up.

        Rounded up, a browser that asks ``REFRESH_MARGIN`` before it never asks while the
        server still finds the token fresh.
        """
        return math.ceil(self.expires_at.timestamp())


@dataclass(frozen=True)
class NoToken:
    """No usable token. ``pending``: a queued sync will bring one (background mode)."""

    pending: bool = False


def current_token(membership: Membership) -> CurrentToken | NoToken:
    """The token ``membership``'s user may embed now, in either sync mode.

    One narrow read (:mod:`.stored_token`). A fresh token for the adapter's tenant is the
    answer. Otherwise inline mode syncs within the login budget, as :func:`fresh_profile`;
    background mode never waits on Upsolve: it queues one sync (deduplicated per user) and
    answers the stored token while it is still valid, or that a token is pending.
    """
    user, now, margin = membership.user, timezone.now(), upsolve_settings.REFRESH_MARGIN
    row = read_stored_token(user.pk, membership.external_id)
    fingerprint = membership.user_fields.fingerprint
    usable = row is not None and row.usable(fingerprint, now=now)
    if row is not None and usable and row.fresh(margin, now=now):
        _note_seen(row, membership, now)
        return _current(row)
    if upsolve_settings.SYNC_MODE != "background":
        profile = fresh_profile(membership)
        if profile is None or not is_jwt_shaped(profile.token) or not profile.token_expires_at:
            return NoToken()
        return CurrentToken(profile.token, profile.token_expires_at)
    failing = row is not None and row.failed_within(FAILED_SYNC_PAUSE, now=now)
    queued = row is not None and row.queued_within(background.QUEUED_TTL, now=now)
    if not (failing or queued):
        queued = background.request_sync(membership)
    if row is None or not row.seen_within(_seen_interval(), now=now):
        mark_seen(user.pk, membership.external_id, now=now)
    if row is not None and usable:
        return _current(row, refreshing=queued)
    return NoToken(pending=queued)


def _current(row: StoredToken, *, refreshing: bool = False) -> CurrentToken:
    assert row.expires_at is not None  # usable_for checked it
    return CurrentToken(row.token, row.expires_at, refreshing)


def _seen_interval() -> timedelta:
    """A page records its user as seen at most this often: an eighth of ``ACTIVE_WINDOW``."""
    return timedelta(seconds=upsolve_settings.ACTIVE_WINDOW / 8)


def _note_seen(row: StoredToken, membership: Membership, now: datetime) -> None:
    if not row.seen_within(_seen_interval(), now=now):
        mark_seen(membership.user.pk, membership.external_id, now=now)


def get_fresh_profile(
    user: AbstractBaseUser, *, force: bool = False, tenant: str | None = None
) -> UpsolveProfile | None:
    """The profile of a membership of ``user`` holding a fresh token (inline mode), or ``None``.

    The adapter is asked first: a membership it no longer lists gets no token.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    membership = membership_of(user, tenant=tenant)
    return fresh_profile(membership, force=force) if membership is not None else None


def fresh_profile(membership: Membership, *, force: bool = False) -> UpsolveProfile | None:
    """:func:`get_fresh_profile` for a user whose membership the caller already has.

    Token and expiry come from one read, so a concurrent refresh cannot split them.
    """
    margin = upsolve_settings.REFRESH_MARGIN
    if not force:
        profile = _stored_profile(membership)
        if (
            profile is not None
            and profile.has_fresh_token(margin)
            and profile.access_fingerprint == membership.user_fields.fingerprint
        ):
            return profile
        if profile is not None and _failed_recently(profile):
            return None  # Pages do not retry a failing user on every view.
    # Failures are logged and recorded inside the savepoint, so the record is kept.
    with savepoint_if_in_transaction(), suppress(UpsolveError):
        _sync(membership, CallPolicy.login(), token_after=timezone.now() if force else None)
    profile = _stored_profile(membership)
    return profile if profile is not None and profile.has_fresh_token(margin) else None


def _failed_recently(profile: UpsolveProfile) -> bool:
    failed_at = profile.last_error_at
    return failed_at is not None and timezone.now() - failed_at < FAILED_SYNC_PAUSE


def _stored_profile(membership: Membership) -> UpsolveProfile | None:
    return (
        UpsolveProfile.objects.select_related("tenant")
        .filter(user_id=membership.user.pk, tenant__external_id=membership.external_id)
        .first()
    )


def savepoint_if_in_transaction() -> AbstractContextManager[object]:
    """A savepoint when the caller is inside a transaction (e.g. ``ATOMIC_REQUESTS``).

    A database error in a sync then rolls back only the sync, and the caller's
    transaction (a login's session, a page's queries) stays usable.
    """
    using = router.db_for_write(UpsolveProfile)
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()


def sync_login(user: AbstractBaseUser, request: HttpRequest | None = None) -> UpsolveProfile | None:
    """Inline login: register as needed and store a token fetched for this login, for the
    active membership and the next ones up to ``LOGIN_MEMBERSHIPS``, within one login budget.

    Returns the active membership's profile (``None`` when the adapter lists none); raises
    the ``UpsolveError`` of the active membership, every failure being recorded.
    """
    policy, now = CallPolicy.login(), timezone.now()
    active: UpsolveProfile | None = None
    for position, membership in enumerate(login_memberships(user, request)):
        try:
            profile = _sync(membership, policy, token_after=now)
        except UpsolveError:
            if position == 0:
                raise
            continue
        if position == 0:
            active = profile
    return active


def sync_in_background(
    user: AbstractBaseUser,
    *,
    tenant: str | None = None,
    fresh_token: bool = False,
    valid_for: float | None = None,
) -> UpsolveProfile | None:
    """A worker's sync (background mode) of one membership: register as needed and hold a
    token valid for ``valid_for`` seconds (default ``REFRESH_MARGIN``), on the background
    budget. ``fresh_token`` replaces even a still-fresh token (the sync a login queued).

    Returns ``None`` when the adapter does not list the membership; raises ``UpsolveError``.
    """
    return _sync_user(
        user,
        CallPolicy.background(),
        tenant=tenant,
        token_after=timezone.now() if fresh_token else None,
        valid_for=valid_for,
    )


def refresh_token(
    user: AbstractBaseUser, *, tenant: str | None = None, policy: CallPolicy | None = None
) -> UpsolveProfile:
    """Fetch and store a new token now (admin actions, commands). Raises ``UpsolveError``."""
    return _require(
        _sync_user(
            user, policy or CallPolicy.background(), tenant=tenant, token_after=timezone.now()
        )
    )


def reregister(
    user: AbstractBaseUser, *, tenant: str | None = None, policy: CallPolicy | None = None
) -> UpsolveProfile:
    """Send the member's current name, role and properties again, then fetch a new token."""
    return _require(
        _sync_user(
            user,
            policy or CallPolicy.background(),
            tenant=tenant,
            token_after=timezone.now(),
            force_register=True,
        )
    )


def clear_token(profile: UpsolveProfile) -> None:
    """Forget the stored token; the next page that needs one fetches a new one."""
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        token="", token_expires_at=None, updated_at=timezone.now()
    )
    profile.token, profile.token_expires_at = "", None


def invalidate(user: AbstractBaseUser, *, tenant: str | None = None) -> int:
    """Void the stored tokens of ``user`` (of one membership when ``tenant`` is given) now.

    For access that changes outside what the adapter answers, or to act before the next
    render: the next page fetches a new token, registering the member again if their role
    or properties changed. Returns how many memberships were voided.
    """
    profiles = UpsolveProfile.objects.filter(user_id=user.pk)
    if tenant is not None:
        profiles = profiles.filter(tenant__external_id=tenant)
    return profiles.update(
        token="", token_expires_at=None, access_fingerprint="", updated_at=timezone.now()
    )


def _require(profile: UpsolveProfile | None) -> UpsolveProfile:
    if profile is None:
        raise UpsolveNotEligible("The adapter leaves this membership out of Upsolve.")
    return profile


def _sync_user(
    user: AbstractBaseUser,
    policy: CallPolicy,
    *,
    tenant: str | None,
    token_after: datetime | None,
    force_register: bool = False,
    valid_for: float | None = None,
) -> UpsolveProfile | None:
    """:func:`_sync` after asking the adapter; ``None`` when it does not list the membership."""
    membership = membership_of(user, tenant=tenant)
    if membership is None:
        return None
    return _sync(
        membership,
        policy,
        token_after=token_after,
        force_register=force_register,
        valid_for=valid_for,
    )


def _sync(
    membership: Membership,
    policy: CallPolicy,
    *,
    token_after: datetime | None,
    force_register: bool = False,
    valid_for: float | None = None,
) -> UpsolveProfile:
    """Bring the membership to: tenant registered, user registered, fresh token stored.

    ``token_after``: a token refreshed before this moment is replaced even if fresh.
    ``valid_for``: a token expiring within this many seconds counts as stale (default
    ``REFRESH_MARGIN``). Failures are logged, recorded and re-raised as ``UpsolveError``.
    """
    user = membership.user
    failure: UpsolveError | None = None
    try:
        with (
            cache_lock(
                _lock_name(membership),
                wait=max(policy.remaining(), 0),
                hold=policy.remaining() + LOCK_SLACK,
            ) as in_cache,
            _profile_for_sync(membership, policy, in_cache=in_cache) as profile,
        ):
            sync = _UserSync(membership, profile, policy)
            try:
                assert profile.tenant is not None  # membership_profile sets it
                tenant = _ensure_registered(profile.tenant, membership.organization_fields, policy)
                if force_register or sync.registration_outdated():
                    sync.register(tenant)
                    # A token issued before speaks for the old role or properties.
                    token_after = timezone.now()
                else:
                    sync.note_fingerprint()
                if _needs_token(profile, token_after, valid_for):
                    sync.fetch_token(tenant)
            except UpsolveError as err:
                failure = err
    except LockTimeout as err:
        timeout = UpsolveTimeout("Another request is already syncing this membership.")
        _log_failure(f"Upsolve sync skipped for user pk={user.pk}: %s", timeout)
        raise timeout from err
    except UpsolveError as err:  # The tenant's own values are invalid: no profile to record on.
        _log_failure(f"Upsolve sync failed for user pk={user.pk}: %s", err)
        raise
    if failure is not None:  # Recorded outside the row lock's transaction, so it is kept.
        _record_failure(profile, user, failure)
        raise failure
    return profile


def _lock_name(membership: Membership) -> str:
    """The cache lock of one membership (external ids may be long or hold any character)."""
    digest = hashlib.sha256(membership.external_id.encode()).hexdigest()[:24]
    return f"profile:{membership.user.pk}:{digest}"


@contextmanager
def _profile_for_sync(
    membership: Membership, policy: CallPolicy, *, in_cache: bool
) -> Iterator[UpsolveProfile]:
    """The membership's profile, safe from concurrent syncs: by the cache lock the caller
    holds, or, when the cache could not be used, by its row lock (waited for within budget)."""
    profile = membership_profile(membership)
    if in_cache:
        yield profile
        return
    with row_locked(UpsolveProfile.objects.all(), profile.pk, wait=policy.remaining()) as locked:
        yield locked


def _needs_token(
    profile: UpsolveProfile, token_after: datetime | None, valid_for: float | None
) -> bool:
    margin = upsolve_settings.REFRESH_MARGIN if valid_for is None else valid_for
    if not profile.has_fresh_token(margin):
        return True
    refreshed = profile.token_refreshed_at
    return token_after is not None and (refreshed is None or refreshed < token_after)


def _ensure_registered(
    tenant: UpsolveTenant, fields: payloads.OrganizationFields, policy: CallPolicy
) -> UpsolveTenant:
    """``tenant``, registered with Upsolve; registered once across all callers."""
    if tenant.is_registered:
        return tenant
    try:
        with cache_lock(
            f"tenant:{tenant.pk}",
            wait=max(policy.remaining(), 0),
            hold=policy.remaining() + LOCK_SLACK,
        ):
            return _register_tenant(tenant.pk, fields, policy)
    except LockTimeout as err:
        raise UpsolveTimeout("Another request is already registering this tenant.") from err


def _register_tenant(
    pk: int, fields: payloads.OrganizationFields, policy: CallPolicy
) -> UpsolveTenant:
    """Register tenant ``pk`` unless another caller just did (called with its cache lock).

    Where the database has row locks, the row stays locked during the call, which also
    serialises processes that do not share the cache. Elsewhere (SQLite) a transaction held
    across the call would lock out every other writer and fail with "database is locked".
    """
    try:
        with row_locked(UpsolveTenant.objects.all(), pk, wait=policy.remaining()) as tenant:
            if tenant.is_registered:
                return tenant
            result = get_client().register_organization(fields=fields, policy=policy)
            tenant.upsolve_id = result.organization_id
            tenant.name, tenant.properties = fields.name, fields.properties
            tenant.registered_at = timezone.now()
            tenant.last_error, tenant.last_error_at = "", None
            tenant.save()
    except UpsolveError as err:
        UpsolveTenant.objects.filter(pk=pk).update(
            last_error=error_record(err), last_error_at=timezone.now()
        )
        raise
    logger.info("Registered tenant %s with Upsolve.", tenant.external_id)
    signals.tenant_registered.send(sender=UpsolveTenant, tenant=tenant)
    return tenant


@dataclass(frozen=True)
class _UserSync:
    """One sync of one user: the profile being brought up to date and what it is built from."""

    membership: Membership
    profile: UpsolveProfile
    policy: CallPolicy

    @property
    def user(self) -> AbstractBaseUser:
        return self.membership.user

    def registration_outdated(self) -> bool:
        """Whether Upsolve must be told (again): never told, or new details."""
        profile = self.profile
        return not profile.is_registered or self.membership.user_fields != _sent_fields(profile)

    def register(self, tenant: UpsolveTenant) -> None:
        """Send the user's current name, role and properties, in ``tenant``."""
        user, profile, fields = self.user, self.profile, self.membership.user_fields
        result = get_client().register_user(
            organization_id=str(tenant.upsolve_id),
            user_id=str(profile.upsolve_user_id),
            fields=fields,
            policy=self.policy,
        )
        profile.upsolve_user_id = result.user_id
        profile.tenant = tenant
        profile.role_id, profile.name = fields.role_id, fields.name
        profile.properties = fields.properties
        profile.access_fingerprint = fields.fingerprint
        profile.registered_at = timezone.now()
        profile.save(
            update_fields=[
                "upsolve_user_id",
                "tenant",
                "role_id",
                "name",
                "properties",
                "access_fingerprint",
                "registered_at",
                "updated_at",
            ]
        )
        logger.info("Registered user pk=%s with Upsolve.", user.pk)
        signals.user_registered.send(sender=UpsolveProfile, profile=profile, user=user)

    def note_fingerprint(self) -> None:
        """Record the fingerprint of registered fields that are unchanged (rows from before
        fingerprints, or cleared by :func:`invalidate`), without a call."""
        fingerprint = self.membership.user_fields.fingerprint
        if self.profile.access_fingerprint != fingerprint:
            self.profile.access_fingerprint = fingerprint
            self.profile.save(update_fields=["access_fingerprint", "updated_at"])

    def fetch_token(self, tenant: UpsolveTenant) -> None:
        """Store a new token; a user Upsolve forgot (404) is registered again, once."""
        profile = self.profile
        try:
            issued = self._user_token(tenant)
        except UpsolveNotFound:
            logger.warning("Upsolve does not know user pk=%s; registering again.", self.user.pk)
            self.register(tenant)
            issued = self._user_token(tenant)
        profile.token, profile.token_expires_at = issued.token, issued.expires_at
        profile.token_refreshed_at = issued.received_at
        profile.last_error, profile.last_error_at = "", None
        profile.save(
            update_fields=[
                "token",
                "token_expires_at",
                "token_refreshed_at",
                "last_error",
                "last_error_at",
                "updated_at",
            ]
        )
        signals.token_refreshed.send(sender=UpsolveProfile, profile=profile, user=self.user)

    def _user_token(self, tenant: UpsolveTenant) -> IssuedToken:
        return get_client().user_token(
            user_id=str(self.profile.upsolve_user_id),
            organization_id=str(tenant.upsolve_id),
            expiration=upsolve_settings.TOKEN_EXPIRATION,
            policy=self.policy,
        )


def _sent_fields(profile: UpsolveProfile) -> payloads.UserFields:
    """What Upsolve was last told about the profile's user (the fields stored on it)."""
    return payloads.UserFields(
        name=profile.name, role_id=str(profile.role_id), properties=profile.properties
    )


def _record_failure(profile: UpsolveProfile, user: AbstractBaseUser, err: UpsolveError) -> None:
    """Log the failure (secret-free) and record it on the profile; the stored token is kept."""
    _log_failure(f"Upsolve sync failed for user pk={user.pk}: %s", err)
    profile.last_error, profile.last_error_at = error_record(err), timezone.now()
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        last_error=profile.last_error, last_error_at=profile.last_error_at
    )
    signals.sync_failed.send(sender=UpsolveProfile, user=user, profile=profile, error=err)


def _log_failure(template: str, err: UpsolveError) -> None:
    """Warn about ``err``; a refused API key is an ERROR, logged once per interval; a TLS
    failure is an ERROR; a skip by the open breaker (which logged the outage) is INFO."""
    if isinstance(err, UpsolveAuthError):
        first = shared_cache.run(
            lambda cache: cache.add("django_upsolve:log:auth", 1, timeout=AUTH_LOG_INTERVAL),
            fallback=shared_cache.MEMORY,
        )
        if first:
            logger.error(template + " (check UPSOLVE['API_KEY'])", err)
        else:
            logger.debug(template, err)
    elif isinstance(err, UpsolveTLSError):
        logger.error(template, err)
    elif isinstance(err, UpsolveBreakerOpen):
        logger.info(template, err)
    else:
        logger.warning(template, err)
