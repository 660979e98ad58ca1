"""The sandbox over HTTP: the three API calls and the dashboard share pages.

The share pages may be framed by pages of the same site only
(``X-Frame-Options: SAMEORIGIN``): the sandbox is mounted inside the site that
embeds it, and nothing else should frame it. Served on a loopback host, they may also be
framed by ``http://localhost`` and ``http://127.0.0.1`` on any port (a CSP source cannot
name an IPv6 address), so that browsing ``localhost`` while the settings say ``127.0.0.1``
still shows the dashboard: their own strict Content-Security-Policy then says so (its
``frame-ancestors`` overrides ``X-Frame-Options`` in browsers). They are never cached, load no
inline script or style (they work under a strict Content-Security-Policy) and
send no referrer, since their URL carries the token. A dashboard declared in
``UPSOLVE_SANDBOX["DASHBOARDS"]`` (see :mod:`.dashboards`) draws its charts,
filtered by the token's properties; any other id shows the token's claims.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import jwt
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from . import panels
from .dashboards import get_dashboard
from .emulator import Emulator, EmulatorResponse, error_response

#: The emulator behind the HTTP views; tests may queue faults on it with
#: ``emulator.fail_next(...)`` and drop them with ``emulator.clear_faults()``.
emulator = Emulator()

THEMES = ("light", "dark")
#: The share pages' policy on a loopback host: no inline script or style, framed by loopback
#: names.
LOOPBACK_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*"
)


def _http(answer: EmulatorResponse) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, headers=answer.headers)


@csrf_exempt
def api(request: HttpRequest, endpoint: str) -> HttpResponse:
    """``POST api/<endpoint>``: one Upsolve API call, answered by :data:`emulator`."""
    if request.method != "POST":
        response = _http(error_response(405, "Method not allowed"))
        response["Allow"] = "POST"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return _http(error_response(413, "Request body too large"))
    return _http(emulator.handle(endpoint, request.headers, body))


def format_duration(seconds: int) -> str:
    """``H:MM:SS``, the format the countdown script also uses."""
    minutes, seconds = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _timestamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def _share(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    theme = request.GET.get("theme")
    context: dict[str, Any] = {
        "kind": kind,
        "object_id": object_id,
        "theme": theme if theme in THEMES else THEMES[0],
    }
    token = request.GET.get("jwt", "")
    try:
        claims = emulator.decode_token(token)
    except jwt.ExpiredSignatureError:
        context.update(error="expired", title="Token expired")
    except jwt.InvalidTokenError:
        context.update(error="invalid" if token else "missing", title="Invalid token")
    else:
        properties = claims.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        context.update(
            user_name=claims.get("userName"),
            user_id=claims["sub"],
            organization_name=claims.get("organizationName"),
            external_id=claims.get("externalId"),
            role_id=claims.get("roleId"),
            properties=sorted(properties.items()),
            issued_at=claims["iat"],
            issued_at_iso=_timestamp(claims["iat"]),
            expires_at=claims["exp"],
            expires_at_iso=_timestamp(claims["exp"]),
            time_left=format_duration(claims["exp"] - int(emulator.clock())),
        )
        dashboard = get_dashboard(object_id) if kind == "dashboard" else None
        if dashboard is not None:
            context.update(dashboard=dashboard, panels=panels.draw(dashboard, properties))
            return render(request, "upsolve_sandbox/dashboard.html", context)
        return render(request, "upsolve_sandbox/share.html", context)
    return render(request, "upsolve_sandbox/error.html", context, status=401)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def framed_by_loopback(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """On a loopback host, let the loopback names frame the page (see the module's doc)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if _is_loopback(split_domain_port(request.get_host())[0]):
            response["Content-Security-Policy"] = LOOPBACK_POLICY
        return response

    return wrapped


@require_safe
@never_cache
@xframe_options_sameorigin
@framed_by_loopback
def share_dashboard(request: HttpRequest, dashboard_id: str) -> HttpResponse:
    """``share/dashboard/<id>?jwt=...&theme=light``: a declared dashboard, else the token card."""
    return _share(request, "dashboard", dashboard_id)


@require_safe
@never_cache
@xframe_options_sameorigin
@framed_by_loopback
def share_application(request: HttpRequest, application_id: str) -> HttpResponse:
    """``share/application/<id>?jwt=...&theme=light``: a stand-in for an application space."""
    return _share(request, "application", application_id)
