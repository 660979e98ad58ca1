"""What we know of each tenant and user at Upsolve, and each user's current token."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import ClassVar, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tokens import is_fresh


class TokenState(models.TextChoices):
    """Where a profile's stored token stands (see ``UpsolveProfile.token_state``)."""

    VALID = "valid", _("valid")
    EXPIRING = "expiring", _("expiring")
    EXPIRED = "expired", _("expired")
    NONE = "none", _("none")


def token_state_filter(state: TokenState, *, now: datetime, margin: float) -> Q:
    """Profiles whose token is in ``state``; "expiring" means valid for ``margin`` s or less.

    As in Python (:func:`.tokens.is_fresh`), a token shorter than twice the margin is fresh
    until half its lifetime is left: more time left than has passed since it was received.
    """
    has_token = ~Q(token="") & Q(token_expires_at__isnull=False)
    if state == TokenState.NONE:
        return ~has_token
    if state == TokenState.EXPIRED:
        return has_token & Q(token_expires_at__lte=now)
    fresh = Q(token_expires_at__gt=now + timedelta(seconds=margin)) | Q(
        GreaterThan(
            ExpressionWrapper(F("token_expires_at") - Value(now), output_field=DurationField()),
            ExpressionWrapper(Value(now) - F("token_refreshed_at"), output_field=DurationField()),
        ),
        token_refreshed_at__isnull=False,
        token_expires_at__gt=now,
    )
    if state == TokenState.EXPIRING:
        return has_token & Q(token_expires_at__gt=now) & ~fresh
    return has_token & fresh


#: Characters of an error message kept on a tenant or profile.
LAST_ERROR_LENGTH = 500


class RegistrationRecord(models.Model):
    """What a tenant and a profile share: when Upsolve accepted it, its last failure, and
    the row's own timestamps. Abstract: each model keeps its own table."""

    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, db_index=True)
    last_error = models.CharField(_("last error"), max_length=LAST_ERROR_LENGTH, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


_M = TypeVar("_M", bound=RegistrationRecord)


class _RegistrationQuerySet(models.QuerySet[_M]):
    """Filters for operators (admin, ``upsolve_status``) shared by tenants and profiles.

    ``REGISTERED`` and ``FAILING`` are the conditions behind the filters, also usable in
    ``Count(filter=...)``.
    """

    REGISTERED: ClassVar[Q]
    FAILING: ClassVar[Q] = Q(last_error_at__isnull=False)

    def registered(self) -> Self:
        return self.filter(self.REGISTERED)

    def not_registered(self) -> Self:
        return self.filter(~self.REGISTERED)

    def failing(self) -> Self:
        return self.filter(self.FAILING)


class UpsolveTenantQuerySet(_RegistrationQuerySet["UpsolveTenant"]):
    """Tenant filters and per-tenant user counts."""

    REGISTERED = Q(upsolve_id__isnull=False)

    @staticmethod
    def with_failing_users_condition() -> Q:
        return Q(pk__in=UpsolveProfile.objects.failing().values("tenant_id"))

    def with_user_counts(self, *, now: datetime | None = None) -> Self:
        """Annotate ``user_count``, ``valid_token_count`` and ``last_token_refresh``.

        Correlated subqueries rather than joins: counts cannot multiply, and a
        paginated list only counts the users of the tenants on its page.
        """
        now = now or timezone.now()
        profiles = UpsolveProfile.objects.filter(tenant=OuterRef("pk")).order_by().values("tenant")
        valid = profiles.filter(token_state_filter(TokenState.VALID, now=now, margin=0))
        return self.annotate(
            user_count=Coalesce(Subquery(profiles.annotate(n=Count("pk")).values("n")), 0),
            valid_token_count=Coalesce(Subquery(valid.annotate(n=Count("pk")).values("n")), 0),
            last_token_refresh=Subquery(
                profiles.annotate(last=Max("token_refreshed_at")).values("last")
            ),
        )


class UpsolveTenant(RegistrationRecord):
    """An organization of the project, registered (or to be registered) with Upsolve."""

    external_id = models.CharField(_("external id"), max_length=255, unique=True)
    name = models.CharField(_("name"), max_length=255, db_index=True)
    upsolve_id = models.UUIDField(
        _("Upsolve organization id"), null=True, blank=True, unique=True, editable=False
    )
    properties = models.JSONField(_("properties"), default=dict, blank=True)

    objects = UpsolveTenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("Upsolve tenant")
        verbose_name_plural = _("Upsolve tenants")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_registered(self) -> bool:
        return self.upsolve_id is not None


class UpsolveProfileQuerySet(_RegistrationQuerySet["UpsolveProfile"]):
    """Profile filters, token states included."""

    REGISTERED = Q(registered_at__isnull=False)

    def in_token_state(
        self, state: TokenState, *, margin: float, now: datetime | None = None
    ) -> Self:
        return self.filter(token_state_filter(state, now=now or timezone.now(), margin=margin))


class UpsolveProfile(RegistrationRecord):
    """One membership (a user in a tenant) as an Upsolve user: its stable UUID, sent as
    ``userId``, and its current token. A user in several tenants has one profile in each."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="upsolve_profiles",
        verbose_name=_("user"),
    )
    tenant = models.ForeignKey(
        UpsolveTenant,
        on_delete=models.PROTECT,
        related_name="profiles",
        null=True,
        blank=True,
        verbose_name=_("tenant"),
    )
    upsolve_user_id = models.UUIDField(
        _("Upsolve user id"), default=uuid.uuid4, unique=True, editable=False
    )
    role_id = models.UUIDField(_("role id"), null=True, blank=True)
    name = models.CharField(_("name sent"), max_length=255, blank=True)
    properties = models.JSONField(_("properties sent"), default=dict, blank=True)
    #: A digest of the name, role and properties the token was issued for (see
    #: ``payloads.UserFields.fingerprint``): a change the adapter reports voids the token.
    access_fingerprint = models.CharField(
        _("access fingerprint"), max_length=64, blank=True, editable=False
    )
    token = models.TextField(_("token"), blank=True, editable=False)
    token_expires_at = models.DateTimeField(
        _("token expires at"), null=True, blank=True, db_index=True
    )
    token_refreshed_at = models.DateTimeField(_("token refreshed at"), null=True, blank=True)
    #: When a background sync of this user was queued; cleared when it ends (background mode).
    sync_queued_at = models.DateTimeField(_("sync queued at"), null=True, blank=True)
    #: The latest login or page that used the token: the proactive refresh serves these users.
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True, db_index=True)
    # Indexed for profiles only: "failing" filters the many profiles, not the few tenants.
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, db_index=True)

    objects = UpsolveProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("Upsolve profile")
        verbose_name_plural = _("Upsolve profiles")
        ordering = ["-pk"]
        constraints = [
            # One Upsolve user per membership; also the index of every request's one read.
            models.UniqueConstraint(fields=["user", "tenant"], name="upsolve_profile_membership"),
        ]
        indexes = [
            models.Index(fields=["tenant", "token_expires_at"]),
            # The latest refresh per tenant (admin tenants list) from the index alone.
            models.Index(fields=["tenant", "token_refreshed_at"], name="upsolve_profile_refreshed"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None

    @property
    def external_id(self) -> str | None:
        """The tenant's external id: with the user, it names the membership."""
        return self.tenant.external_id if self.tenant is not None else None

    def has_fresh_token(self, margin: float, *, now: datetime | None = None) -> bool:
        """Whether the stored token stays valid for at least ``margin`` seconds."""
        return bool(self.token) and is_fresh(
            self.token_expires_at, margin, now=now, received_at=self.token_refreshed_at
        )

    def token_state(self, margin: float, *, now: datetime | None = None) -> TokenState:
        """The state ``token_state_filter`` would put this profile in."""
        now = now or timezone.now()
        if not self.token or self.token_expires_at is None:
            return TokenState.NONE
        if not is_fresh(self.token_expires_at, 0, now=now):
            return TokenState.EXPIRED
        if not is_fresh(
            self.token_expires_at, margin, now=now, received_at=self.token_refreshed_at
        ):
            return TokenState.EXPIRING
        return TokenState.VALID
