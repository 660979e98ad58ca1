"""The sync engine: bring one membership to "tenant registered, user registered, a fresh
token stored", once across all callers.

Concurrent callers for one membership (or one tenant) are serialised by a cache lock, or by
the database row lock when the cache cannot be used; they re-read the rows once they hold
it and skip work another caller already did, and unique constraints back this up. Every
failure is logged (secret-free), recorded on the profile or tenant, and sent as the
``sync_failed`` signal, then raised as ``UpsolveError``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from . import cache as shared_cache
from . import payloads, signals
from .budget import CallPolicy
from .client import IssuedToken, get_client
from .conf import upsolve_settings
from .exceptions import (
    UpsolveAuthError,
    UpsolveBreakerOpen,
    UpsolveConflict,
    UpsolveError,
    UpsolveNotFound,
    UpsolveTimeout,
    UpsolveTLSError,
)
from .locks import LockTimeout, cache_lock
from .memberships import Membership, membership_profile
from .models import UpsolveProfile, UpsolveTenant
from .redaction import error_record
from .rowlocks import row_locked

logger = logging.getLogger(__name__)

#: Seconds a lock outlives its holder's deadline, should the holder die.
LOCK_SLACK = 5.0
#: Authentication failures are logged at ERROR at most once per this many seconds.
AUTH_LOG_INTERVAL = 60


def sync_membership(
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
        """Send the user's current name, role and properties, in ``tenant``.

        A stored token issued for other access is voided with it: the fingerprint now names
        the new access, and the call for a token to match may still fail.
        """
        user, profile, fields = self.user, self.profile, self.membership.user_fields
        updating = profile.is_registered and fields != _sent_fields(profile)
        result = get_client().register_user(
            organization_id=str(tenant.upsolve_id),
            user_id=str(profile.upsolve_user_id),
            fields=fields,
            policy=self.policy,
        )
        if updating and result.already_registered:
            # Upsolve kept the user it had: its tokens would still carry the old role and
            # properties. Failing keeps the old record, so no stored token is served for the
            # new access, and the next sync tries again.
            raise UpsolveConflict(
                "The user exists; Upsolve did not confirm their new name, role or properties.",
                status_code=409,
                call="register-user",
            )
        # The token is written only to void it: the one read before the call may have been
        # voided meanwhile (``invalidate``), and must not come back.
        voided = profile.access_fingerprint != fields.fingerprint
        if voided:
            profile.token, profile.token_expires_at = "", None
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
                *(["token", "token_expires_at"] if voided else []),
                "registered_at",
                "updated_at",
            ]
        )
        logger.info(
            "Registered user pk=%s in tenant %s with Upsolve.", user.pk, self.membership.external_id
        )
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
            logger.warning(
                "Upsolve does not know user pk=%s in tenant %s; registering again.",
                self.user.pk,
                self.membership.external_id,
            )
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
