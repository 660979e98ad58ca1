"""What we know of each tenant and user at Upsolve, and each user's current token."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tokens import is_fresh


class UpsolveTenant(models.Model):
    """An organization of the project, registered (or to be registered) with Upsolve."""

    external_id = models.CharField(_("external id"), max_length=255, unique=True)
    name = models.CharField(_("name"), max_length=255, db_index=True)
    upsolve_id = models.UUIDField(
        _("Upsolve organization id"), null=True, blank=True, unique=True, editable=False
    )
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, db_index=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Upsolve tenant")
        verbose_name_plural = _("Upsolve tenants")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_registered(self) -> bool:
        return self.upsolve_id is not None


class UpsolveProfile(models.Model):
    """A user's Upsolve identity (a stable UUID sent as ``userId``) and current token."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="upsolve_profile",
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
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, db_index=True)
    token = models.TextField(_("token"), blank=True, editable=False)
    token_expires_at = models.DateTimeField(
        _("token expires at"), null=True, blank=True, db_index=True
    )
    token_refreshed_at = models.DateTimeField(_("token refreshed at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Upsolve profile")
        verbose_name_plural = _("Upsolve profiles")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["tenant", "token_expires_at"])]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_registered(self) -> bool:
        return self.registered_at is not None

    def has_fresh_token(self, margin: float, *, now: datetime | None = None) -> bool:
        """Whether the stored token stays valid for at least ``margin`` seconds."""
        return bool(self.token) and is_fresh(self.token_expires_at, margin, now=now)

    def has_valid_token(self) -> bool:
        """Whether the stored token has not expired yet."""
        return self.has_fresh_token(0, now=timezone.now())
