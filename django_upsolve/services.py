"""The app's Python API: which token a member may use now, and the syncs behind it.

``get_token``/``aget_token`` and ``current_token`` answer the request path (one narrow read;
inline mode syncs within the login budget, background mode queues and never waits);
``sync_login``, ``sync_in_background``, ``refresh_token``, ``reregister``, ``invalidate`` and
``clear_token`` start or undo syncs, which :mod:`.sync` carries out. Each operation asks the
adapter once (a :class:`.memberships.Membership`) and passes the answer down.
"""

from __future__ import annotations

import logging
import math
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import SynchronousOnlyOperation
from django.db import router, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import background
from .budget import CallPolicy
from .conf import upsolve_settings
from .exceptions import (
    UpsolveError,
    UpsolveImproperlyConfigured,
    UpsolveInvalidRequest,
    UpsolveNotEligible,
)
from .memberships import Membership, login_memberships, membership_of
from .models import UpsolveProfile
from .stored_token import StoredToken, mark_seen, of_membership, read_stored_token
from .sync import sync_membership
from .tokens import is_jwt_shaped

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

logger = logging.getLogger(__name__)

#: After a failed sync, pages wait this long before trying that user again (logins do not).
FAILED_SYNC_PAUSE = timedelta(seconds=30)


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
    it is still valid, else ``None``. ``force=True`` fetches a new token now, in either mode
    (when that fails, the answer is the stored token while it is fresh).
    Failures are logged and recorded on the profile.
    """
    user_pk = None  # Read once the user is loaded: the handlers below must not load it again.
    try:
        if not getattr(user, "is_authenticated", False):
            return None
        user_pk = user.pk
        membership = membership_of(user, request=request, tenant=tenant)
        if membership is None:
            return None
        if force:
            profile = fresh_profile(membership, force=True)
            return profile.token if profile is not None else None
        answer = current_token(membership)
    except SynchronousOnlyOperation:
        logger.error(
            "get_token() reads the database, which an async context cannot do: use "
            "aget_token() in async code."
        )
        return None
    except UpsolveImproperlyConfigured as err:
        logger.warning("No Upsolve token for user pk=%s: %s", user_pk, err)
        return None
    except Exception:
        logger.exception("Could not get an Upsolve token for user pk=%s.", user_pk)
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
    #: The membership's tenant (external id): a page names it, so its refreshes stay there.
    tenant: str = ""

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
    background mode never waits on Upsolve: it queues one sync (deduplicated per user).
    Until a new token comes, both answer the stored one while it is still valid and was
    issued for the member's current access; background mode otherwise says that a token is
    pending.
    """
    user, now, margin = membership.user, timezone.now(), upsolve_settings.REFRESH_MARGIN
    row = read_stored_token(user.pk, membership.external_id)
    try:
        fingerprint: str | None = membership.user_fields.fingerprint
    except UpsolveInvalidRequest:
        # The adapter's values for this member are invalid: no stored token speaks for them,
        # and the sync below logs and records why (then pauses, as after any failure).
        fingerprint = None
    usable = row is not None and row.usable(fingerprint, now=now)
    if row is not None and usable and row.fresh(margin, now=now):
        _note_seen(row, membership, now)
        return _current(row, membership)
    if upsolve_settings.SYNC_MODE != "background":
        profile = fresh_profile(membership)
        if profile is not None and is_jwt_shaped(profile.token) and profile.token_expires_at:
            return CurrentToken(
                profile.token, profile.token_expires_at, tenant=membership.external_id
            )
        # The refresh failed (or waits out a recent failure): the stored token while it lasts,
        # as it is now (the sync may have taken seconds, or voided it).
        row = read_stored_token(user.pk, membership.external_id)
        if row is not None and row.usable(fingerprint, now=timezone.now()):
            return _current(row, membership)
        return NoToken()
    failing = row is not None and row.failed_within(FAILED_SYNC_PAUSE, now=now)
    queued = row is not None and row.queued_within(background.QUEUED_TTL, now=now)
    if not (failing or queued):
        queued = background.request_sync(membership)
    if row is None or not row.seen_within(_seen_interval(), now=now):
        mark_seen(user.pk, membership.external_id, now=now)
    if row is not None and usable:
        return _current(row, membership, refreshing=queued)
    return NoToken(pending=queued)


def _current(row: StoredToken, membership: Membership, *, refreshing: bool = False) -> CurrentToken:
    assert row.expires_at is not None  # StoredToken.usable checked it
    return CurrentToken(row.token, row.expires_at, refreshing, membership.external_id)


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

    Token and expiry come from one read, so a concurrent refresh cannot split them. A token
    counts only if it was issued for the member's current access: a failed sync keeps the
    stored token, which may be for a role or properties the member no longer has.
    """
    if not force:
        profile = _stored_profile(membership)
        if profile is not None and _holds_fresh_token(profile, membership):
            return profile
        if profile is not None and _failed_recently(profile):
            return None  # Pages do not retry a failing user on every view.
    # Failures are logged and recorded inside the savepoint, so the record is kept.
    with savepoint_if_in_transaction(), suppress(UpsolveError):
        token_after = timezone.now() if force else None
        sync_membership(membership, CallPolicy.login(), token_after=token_after)
    profile = _stored_profile(membership)
    return profile if profile is not None and _holds_fresh_token(profile, membership) else None


def _holds_fresh_token(profile: UpsolveProfile, membership: Membership) -> bool:
    return (
        profile.has_fresh_token(upsolve_settings.REFRESH_MARGIN)
        and profile.access_fingerprint == membership.user_fields.fingerprint
    )


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
            profile = sync_membership(membership, policy, token_after=now)
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

    Returns ``None`` when the adapter does not list the membership, which then no longer
    counts as active (the sweeps leave it alone); raises ``UpsolveError``.
    """
    synced = _sync_user(
        user,
        CallPolicy.background(),
        tenant=tenant,
        token_after=timezone.now() if fresh_token else None,
        valid_for=valid_for,
    )
    if synced is None and tenant is not None:
        of_membership(user.pk, tenant).update(last_seen_at=None)
    return synced


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
    return sync_membership(
        membership,
        policy,
        token_after=token_after,
        force_register=force_register,
        valid_for=valid_for,
    )
