"""The demo's pages: a home page and the analytics page that embeds the Upsolve dashboard."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Profile


def _organization_context(request: HttpRequest) -> dict[str, object]:
    profile = Profile.objects.select_related("organization").filter(user=request.user).first()
    organization = profile.organization if profile else None
    members = organization.members.select_related("user") if organization else []
    return {"organization": organization, "members": members}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Who you are and who else is in your organization."""
    return render(request, "saas/home.html", _organization_context(request))


@login_required
def analytics(request: HttpRequest) -> HttpResponse:
    """Your organization's dashboard, embedded with ``{% upsolve_dashboard %}``."""
    context = _organization_context(request) | {"dashboard_id": settings.DEMO_DASHBOARD_ID}
    return render(request, "saas/analytics.html", context)
