"""What a request embeds: its user's token, or the reason a placeholder shows instead.

``embed_for`` is that one decision, for the template tags and the token endpoint;
``refresh_attributes`` is what ``upsolve.js`` needs to swap the token before it expires,
and ``share_url`` the iframe's address. Nothing here raises for Upsolve, database or
adapter failures: they are logged and the answer is the ``unavailable`` placeholder.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token as get_csrf_token
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .conf import upsolve_settings
from .services import fresh_profile, membership_of
from .tokens import is_jwt_shaped

logger = logging.getLogger("django_upsolve.embed")

Kind = Literal["dashboard", "application"]
#: Why no token is embedded: not signed in, left out by the adapter, or none to be had now.
Reason = Literal["anonymous", "not-available", "unavailable"]
#: The share pages' themes; the first is the default.
THEMES = ("light", "dark")


@dataclass(frozen=True)
class EmbedToken:
    """A user's current token and when it expires."""

    token: str
    expires_at: datetime

    @property
    def expires_epoch(self) -> int:
        """The expiry in whole seconds since the epoch, rounded up.

        Rounded up, a browser that asks ``REFRESH_MARGIN`` before it never asks while the
        server still finds the token fresh.
        """
        return math.ceil(self.expires_at.timestamp())


@dataclass(frozen=True)
class Placeholder:
    """No token to embed, and why (the placeholder template words each reason)."""

    reason: Reason


def embed_for(request: HttpRequest) -> EmbedToken | Placeholder:
    """What ``request`` embeds: its user's token, refreshed first when stale, or a placeholder.

    The adapter is asked once, and a fresh stored token costs no HTTP call. A stored
    token that is not JWT-shaped is never handed out: it could need escaping.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Placeholder("anonymous")
    try:
        membership = membership_of(user)
        if membership is None:
            return Placeholder("not-available")
        profile = fresh_profile(membership)
    except Exception:
        logger.exception("Could not get an Upsolve token for user pk=%s.", user.pk)
        return Placeholder("unavailable")
    if profile is None or profile.token_expires_at is None or not is_jwt_shaped(profile.token):
        return Placeholder("unavailable")
    return EmbedToken(profile.token, profile.token_expires_at)


def refresh_attributes(request: HttpRequest, token: EmbedToken) -> list[tuple[str, str]]:
    """The data- attributes that configure ``upsolve.js``; empty without a token endpoint.

    Only iframes need them: reading the CSRF token makes the response set its cookie.
    """
    try:
        token_url = reverse("django_upsolve:token")
    except NoReverseMatch:
        logger.warning(
            "No token endpoint, so Upsolve embeds will not refresh in the browser: add "
            'path("upsolve/", include("django_upsolve.urls")) to your URLconf.'
        )
        return []
    attributes = [
        ("data-upsolve-token-url", token_url),
        ("data-upsolve-expires", str(token.expires_epoch)),
        ("data-upsolve-now", str(int(timezone.now().timestamp()))),
        ("data-upsolve-refresh-margin", str(upsolve_settings.REFRESH_MARGIN)),
        ("data-upsolve-csrf-header", _csrf_header_name()),
        ("data-upsolve-csrf-token", get_csrf_token(request)),
    ]
    if not (settings.CSRF_COOKIE_HTTPONLY or settings.CSRF_USE_SESSIONS):
        attributes.append(("data-upsolve-csrf-cookie", settings.CSRF_COOKIE_NAME))
    return attributes


def _csrf_header_name() -> str:
    """``CSRF_HEADER_NAME`` as a browser sends it: ``HTTP_X_CSRFTOKEN`` → ``X-CSRFTOKEN``."""
    name = settings.CSRF_HEADER_NAME.removeprefix("HTTP_")
    return name.replace("_", "-")


def share_url(
    kind: Kind, object_id: object, token: str, params: Iterable[tuple[str, str]] = ()
) -> str:
    """``<hub>/share/<kind>/<id>?jwt=<token>&<params>``, every part URL-encoded.

    Dashboards live under ``HUB_URL`` and application spaces under
    ``APPLICATION_HUB_URL``. Raises ``ValueError`` for an empty id.
    """
    path_id = str(object_id).strip()
    if not path_id:
        raise ValueError(f"An Upsolve {kind} id must not be empty.")
    base = upsolve_settings.HUB_URL if kind == "dashboard" else upsolve_settings.APPLICATION_HUB_URL
    query = urlencode([("jwt", token), *params])
    return f"{base}/share/{kind}/{quote(path_id, safe='')}?{query}"
