"""A plan change reaches the dashboard on the members' next page, not their next login.

A token carries the properties its user was registered with, ``plan`` among them.
When an organization's plan changes, its members' tokens that speak for another
plan are dropped: the next page that needs one registers the new properties and
fetches a new token, so the sandbox's "Revenue overview" shows the new plan's window.
"""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from django_upsolve.models import UpsolveProfile
from django_upsolve.services import clear_token

from .models import Organization


@receiver(post_save, sender=Organization, dispatch_uid="saas.drop_tokens_of_another_plan")
def drop_tokens_of_another_plan(sender: Any, instance: Organization, **kwargs: Any) -> None:
    """Clear the stored tokens of members registered with a plan other than the current one."""
    stale = (
        UpsolveProfile.objects.filter(user__profile__organization=instance)
        .exclude(token="")
        .exclude(properties__plan=instance.plan)
    )
    for profile in stale:
        clear_token(profile)
