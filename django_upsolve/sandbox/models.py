"""What the sandbox remembers: the organizations and users registered with it."""

from __future__ import annotations

import uuid

from django.db import models


class SandboxOrganization(models.Model):
    """An organization (tenant) registered through ``/register-organization``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project_id = models.UUIDField(db_index=True)
    name = models.CharField(max_length=255)
    # NULL, not "", means "no externalId": it keeps such rows out of the unique constraint.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="upsolve_sandbox_org_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SandboxUser(models.Model):
    """A project user registered (or updated) through ``/register-user``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project_id = models.UUIDField(db_index=True)
    organization = models.ForeignKey(
        SandboxOrganization, on_delete=models.CASCADE, related_name="users"
    )
    role_id = models.UUIDField()
    name = models.CharField(max_length=255)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name
