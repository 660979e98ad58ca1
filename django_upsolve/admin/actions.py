"""Profile actions. Each delegates to ``django_upsolve.services`` and reports through messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .. import services
from ..budget import CallPolicy
from ..exceptions import (
    UpsolveBreakerOpen,
    UpsolveError,
    UpsolveImproperlyConfigured,
    UpsolveNotEligible,
)
from ..models import UpsolveProfile

logger = logging.getLogger(__name__)

#: Most profiles one action handles: each may call Upsolve within the admin request.
ACTION_LIMIT = 100
#: Failures named in the error message; the others are only counted.
ERRORS_NAMED = 3
#: Characters of each failure named in an action's error message (longer than a list cell's).
FAILURE_LENGTH = 160


def _run(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[UpsolveProfile],
    operation: Callable[[UpsolveProfile, CallPolicy], object],
    *,
    log_message: str,
    success: Callable[[int], str],
) -> None:
    """Apply ``operation`` to each selected profile; stop early once the breaker is open.

    All profiles share one background budget (``DEADLINE``), so an action during an
    outage ends within it instead of waiting out each profile's retries in turn.
    """
    profiles = list(queryset.select_related("user", "tenant")[: ACTION_LIMIT + 1])
    if len(profiles) > ACTION_LIMIT:
        modeladmin.message_user(
            request,
            _(
                "Select at most %(limit)d profiles at a time: each one may call Upsolve "
                "during this request."
            )
            % {"limit": ACTION_LIMIT},
            messages.ERROR,
        )
        return
    policy = CallPolicy.background()
    succeeded = 0
    failures: list[str] = []
    not_tried = 0
    unusable_setting = ""
    for index, profile in enumerate(profiles):
        try:
            operation(profile, policy)
        except UpsolveImproperlyConfigured as err:
            # A setting the app cannot use fails every profile alike: named once, no traceback.
            unusable_setting = str(err)
            break
        except UpsolveError as err:
            failures.append(f"{profile}: {Truncator(str(err)).chars(FAILURE_LENGTH)}")
            if isinstance(err, UpsolveBreakerOpen):
                not_tried = len(profiles) - index - 1
                break
        except Exception:
            # A bug in the project's adapter must not turn the action into a 500.
            logger.exception("Unexpected error in an Upsolve admin action on %s.", profile.pk)
            failures.append(f"{profile}: {_('unexpected error, see the server log')}")
        else:
            succeeded += 1
            modeladmin.log_change(request, profile, log_message)
    if succeeded:
        modeladmin.message_user(request, success(succeeded), messages.SUCCESS)
    if unusable_setting:
        modeladmin.message_user(request, unusable_setting, messages.ERROR)
    if failures:
        named = "; ".join(failures[:ERRORS_NAMED])
        more = len(failures) - ERRORS_NAMED
        if more > 0:
            named += " " + ngettext("(and %(count)d more)", "(and %(count)d more)", more) % {
                "count": more
            }
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d profile failed: %(errors)s",
                "%(count)d profiles failed: %(errors)s",
                len(failures),
            )
            % {"count": len(failures), "errors": named},
            messages.ERROR,
        )
    if not_tried:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d profile was not tried: Upsolve's circuit breaker is open. "
                "Try again once it has closed.",
                "%(count)d profiles were not tried: Upsolve's circuit breaker is open. "
                "Try again once it has closed.",
                not_tried,
            )
            % {"count": not_tried},
            messages.WARNING,
        )


def _tenant(profile: UpsolveProfile) -> str:
    """The external id of the profile's tenant; a profile without one (a row kept from before
    profiles were per membership) cannot be synced: the services would pick another."""
    if profile.tenant is None:
        raise UpsolveNotEligible(
            _("it has no tenant (a row from before profiles were per membership)")
        )
    return profile.tenant.external_id


@admin.action(permissions=["change"], description=gettext_lazy("Refresh the Upsolve token now"))
def refresh_tokens(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[UpsolveProfile]
) -> None:
    _run(
        modeladmin,
        request,
        queryset,
        lambda profile, policy: services.refresh_token(
            profile.user, tenant=_tenant(profile), policy=policy
        ),
        log_message="Refreshed the Upsolve token.",
        success=lambda n: (
            ngettext(
                "Refreshed the token of %(count)d profile.",
                "Refreshed the tokens of %(count)d profiles.",
                n,
            )
            % {"count": n}
        ),
    )


@admin.action(
    permissions=["change"],
    description=gettext_lazy("Register again with Upsolve (after a role or property change)"),
)
def reregister(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[UpsolveProfile]
) -> None:
    _run(
        modeladmin,
        request,
        queryset,
        lambda profile, policy: services.reregister(
            profile.user, tenant=_tenant(profile), policy=policy
        ),
        log_message="Registered again with Upsolve.",
        success=lambda n: (
            ngettext(
                "Registered %(count)d profile again.", "Registered %(count)d profiles again.", n
            )
            % {"count": n}
        ),
    )


@admin.action(permissions=["change"], description=gettext_lazy("Clear the stored token"))
def clear_tokens(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[UpsolveProfile]
) -> None:
    _run(
        modeladmin,
        request,
        queryset,
        lambda profile, policy: services.clear_token(profile),
        log_message="Cleared the stored Upsolve token.",
        success=lambda n: (
            ngettext(
                "Cleared the token of %(count)d profile.",
                "Cleared the tokens of %(count)d profiles.",
                n,
            )
            % {"count": n}
        ),
    )
