"""The customers of the demo SaaS (organizations) and which of them each user belongs to."""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A customer of the SaaS: one Upsolve tenant, whose data its members may see."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PRO = "pro", "Pro"

    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)
    plan = models.CharField(max_length=10, choices=Plan.choices, default=Plan.FREE)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user in one organization. A user may belong to several, each with its own title."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    job_title = models.CharField(max_length=100, blank=True)

    class Meta:
        #: The order joined: a user's first membership is the one shown until they switch.
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="saas_membership_unique_user_organization"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization}"


class Invoice(models.Model):
    """A bill an organization sent one of its customers: the rows its revenue dashboard reads."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invoices"
    )
    number = models.CharField(max_length=20)
    customer = models.CharField(max_length=100)
    issued_on = models.DateField(db_index=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["-issued_on", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="saas_invoice_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer}"
