"""A plan change reaches the dashboard on the members' next page, not their next login.

A token carries the properties its user was registered with, ``plan`` among them.
When an organization's plan changes, its members' tokens that speak for another
plan are dropped: the next page that needs one registers the new properties and
fetches a new token, so the sandbox's "Revenue overview" shows the new plan's window.
Only the tokens of memberships of that organization: a member of two keeps the other's.
"""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from django_upsolve.models import UpsolveProfile
from django_upsolve.services import clear_token

from .adapter import tenant_of
from .models import Organization


@receiver(post_save, sender=Organization, dispatch_uid="saas.drop_tokens_of_another_plan")
def drop_tokens_of_another_plan(sender: Any, instance: Organization, **kwargs: Any) -> None:
    """Clear the stored tokens of its memberships registered with another plan than its own."""
    stale = (
        UpsolveProfile.objects.filter(tenant__external_id=tenant_of(instance).external_id)
        .exclude(token="")
        .exclude(properties__plan=instance.plan)
    )
    for profile in stale:
        clear_token(profile)
