"""Views the background tests' processes serve: a page with an embed, and async views."""

from __future__ import annotations

from django.contrib.auth import aauthenticate, alogin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt

from django_upsolve.services import aget_token

DASHBOARD = "background/dashboard.html"


def dashboard(request: HttpRequest) -> TemplateResponse:
    """A page embedding one dashboard, as a project's sync view would."""
    return TemplateResponse(request, DASHBOARD)


async def async_dashboard(request: HttpRequest) -> TemplateResponse:
    """The same page from an async view: Django renders a TemplateResponse in a thread."""
    return TemplateResponse(request, DASHBOARD)


async def async_render(request: HttpRequest, template: str) -> HttpResponse:
    """``background/<template>.html`` rendered on the event loop itself, where the ORM cannot
    be used. ``?user=awaited`` loads the user first, as some async views do."""
    if request.GET.get("user") == "awaited":
        request.user = await request.auser()
    return HttpResponse(render_to_string(f"background/{template}.html", request=request))


async def async_token(request: HttpRequest) -> JsonResponse:
    """The user's token through ``aget_token``, as an async API view would get it."""
    user = await request.auser()
    return JsonResponse({"token": await aget_token(user)})


@csrf_exempt
async def async_login(request: HttpRequest) -> JsonResponse:
    """A login through ``aauthenticate`` and ``alogin``, as an async login view does it."""
    user = await aauthenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return JsonResponse({"error": "invalid_login"}, status=400)
    await alogin(request, user)
    return JsonResponse({"user": user.pk})


async def ping(request: HttpRequest) -> HttpResponse:
    """An answer that needs nothing but the event loop."""
    return HttpResponse("pong")
