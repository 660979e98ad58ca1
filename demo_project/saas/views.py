"""The demo's pages: a home page, the analytics page that embeds the Upsolve dashboard, and
the navbar's switch between the organizations a user belongs to."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from .organizations import active_membership, memberships_of, switch


def _organization_context(request: HttpRequest) -> dict[str, object]:
    """The organization the page is about, the user's memberships (for the switch) and the
    organization's members."""
    memberships = memberships_of(request.user)
    active = active_membership(request, memberships)
    organization = active.organization if active is not None else None
    members = organization.members.select_related("user") if organization else []
    return {"organization": organization, "memberships": memberships, "members": members}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Who you are and who else is in your organization."""
    return render(request, "saas/home.html", _organization_context(request))


@login_required
@cache_control(private=True)  # it holds the user's token: no shared cache may keep it
def analytics(request: HttpRequest) -> HttpResponse:
    """Your organization's dashboard, embedded with ``{% upsolve_dashboard %}``."""
    context = _organization_context(request) | {"dashboard_id": settings.DEMO_DASHBOARD_ID}
    return render(request, "saas/analytics.html", context)


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Show another of your organizations from now on, then go back to the page you were on.

    Only the session changes: the dashboard then embeds that membership's own token.
    """
    if switch(request, request.POST.get("organization", "")) is None:
        raise Http404("You are not a member of that organization.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    return HttpResponseRedirect(back)
