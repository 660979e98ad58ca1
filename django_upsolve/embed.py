"""What a request embeds: its user's token, or the reason a placeholder shows instead.

``embed_for`` is that one decision, for the template tags and the token endpoint;
``refresh_attributes`` is what ``upsolve.js`` needs to swap the token before it expires (on
its script tag), ``frame_attributes`` what each iframe carries for it, and ``share_url`` the
iframe's address. Nothing here raises for Upsolve, database or
adapter failures: they are logged and the answer is the ``unavailable`` placeholder.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.http import HttpRequest
from django.middleware.csrf import get_token as get_csrf_token
from django.urls import (
    NoReverseMatch,
    URLResolver,
    get_resolver,
    get_script_prefix,
    get_urlconf,
    reverse,
)
from django.utils import timezone
from django.utils.translation import get_language

from .conf import upsolve_settings
from .exceptions import UpsolveImproperlyConfigured
from .memberships import membership_of
from .redaction import has_control
from .services import CurrentToken, NoToken, current_token

logger = logging.getLogger(__name__)

Kind = Literal["dashboard", "application"]
#: Why no token is embedded: not signed in, left out by the adapter, none to be had now, or
#: one on its way (background mode: ``upsolve.js`` fills the frame when it comes).
Reason = Literal["anonymous", "not-available", "unavailable", "pending"]
#: The request attribute holding its decision, shared by every embed of the page.
DECISION_ATTRIBUTE = "_django_upsolve_embed"
#: The ports a browser leaves out of an origin.
DEFAULT_PORTS = {"http": 80, "https": 443}
#: The share pages' themes; the first is the default.
THEMES = ("light", "dark")


#: The token a request embeds (its expiry, and whether a new one is on its way).
EmbedToken = CurrentToken


@dataclass(frozen=True)
class Placeholder:
    """No token to embed, and why (the placeholder template words each reason)."""

    reason: Reason
    #: The tenant a pending frame waits for (its refreshes name it).
    tenant: str = ""


def embed_for(request: HttpRequest, *, tenant: str | None = None) -> EmbedToken | Placeholder:
    """What ``request`` embeds: its user's token, or a placeholder and why.

    The membership is ``tenant`` (an external id, as a page's refresh names it) when given
    and still listed by the adapter, else the one the request is about.

    Decided once per request, so every embed of a page shares one narrow read
    (:func:`.services.current_token`); the adapter is asked once. A fresh stored token costs
    no HTTP call; a stale one is refreshed within the login budget in inline mode, and in
    background mode a sync is queued and nothing waits (``pending`` until a token comes).
    """
    decisions: dict[str | None, EmbedToken | Placeholder] = request.__dict__.setdefault(
        DECISION_ATTRIBUTE, {}
    )
    if tenant not in decisions:
        decisions[tenant] = _decide(request, tenant)
    return decisions[tenant]


def _decide(request: HttpRequest, tenant: str | None) -> EmbedToken | Placeholder:
    try:
        # Inside the try: loading a lazy request.user reads the session and user tables.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return Placeholder("anonymous")
        if tenant is None:
            membership = membership_of(user, request=request)
        else:
            membership = membership_of(user, tenant=tenant)
        if membership is None:
            return Placeholder("not-available")
        answer = current_token(membership)
    except SynchronousOnlyOperation:
        logger.error(
            "The Upsolve tags read the database, which an async context cannot do: render "
            "this template through a TemplateResponse (Django renders it in a thread) or "
            "with sync_to_async(), and use aget_token() in async code."
        )
        return Placeholder("unavailable")
    except UpsolveImproperlyConfigured as err:
        # The system checks report it too; a traceback per page would add nothing.
        logger.warning("No Upsolve token for this request: %s", err)
        return Placeholder("unavailable")
    except Exception:
        logger.exception("Could not get an Upsolve token for this request.")
        return Placeholder("unavailable")
    if isinstance(answer, NoToken):
        if answer.pending:
            return Placeholder("pending", membership.external_id)
        return Placeholder("unavailable")
    return answer


def refresh_attributes(
    request: HttpRequest, token: EmbedToken | None, tenant: str
) -> list[tuple[str, str]]:
    """The data- attributes that configure ``upsolve.js``, written on its script tag; empty
    without a token endpoint.

    ``token`` is ``None`` for a pending frame: the script asks for one at once. The CSRF token
    travels in an attribute, and is read (which makes the response set its cookie), unless the
    browser already holds a cookie the script can read: masking a token costs more than the
    rest of a render.
    """
    token_url = _token_url()
    if token_url is None:
        return []
    attributes = [
        ("data-upsolve-token-url", token_url),
        ("data-upsolve-tenant", tenant),
        ("data-upsolve-expires", _expires(token)),
        ("data-upsolve-now", str(int(timezone.now().timestamp()))),
        ("data-upsolve-refresh-margin", str(upsolve_settings.REFRESH_MARGIN)),
        ("data-upsolve-csrf-header", _csrf_header_name()),
    ]
    readable = not (settings.CSRF_COOKIE_HTTPONLY or settings.CSRF_USE_SESSIONS)
    if not (readable and settings.CSRF_COOKIE_NAME in request.COOKIES):
        attributes.append(("data-upsolve-csrf-token", get_csrf_token(request)))
    if readable:
        attributes.append(("data-upsolve-csrf-cookie", settings.CSRF_COOKIE_NAME))
    return attributes


def frame_attributes(token: EmbedToken | None) -> list[tuple[str, str]]:
    """What each iframe carries for ``upsolve.js``: the token endpoint, which marks it as an
    embed to keep fresh, and its token's expiry, which the script updates on each swap; empty
    without a token endpoint. Every embed of a page needs these, only the first the rest."""
    token_url = _token_url()
    if token_url is None:
        return []
    return [("data-upsolve-token-url", token_url), ("data-upsolve-expires", _expires(token))]


def _token_url() -> str | None:
    """:func:`token_endpoint`, or ``None`` (with a WARNING) when the URLconf lacks it."""
    try:
        return token_endpoint()
    except NoReverseMatch:
        logger.warning(
            "No token endpoint, so Upsolve embeds will not refresh in the browser: add "
            'path("upsolve/", include("django_upsolve.urls")) to your URLconf.'
        )
        return None


def _expires(token: EmbedToken | None) -> str:
    """When ``token`` expires, for the script (0 for a pending frame: ask at once)."""
    return str(token.expires_epoch if token is not None else 0)


def token_endpoint() -> str:
    """The token endpoint's path (``reverse("django_upsolve:token")``); raises
    ``NoReverseMatch`` when the URLconf does not include ``django_upsolve.urls``.

    Every embed needs it, and ``reverse`` costs a tenth of a render, so the path is remembered
    per URL resolver, script prefix and language: all that ``reverse`` reads. Django builds a
    new resolver when the URLconf changes (``clear_url_caches()``), which starts afresh here.
    """
    urlconf = get_urlconf()
    return _token_endpoint(urlconf, get_resolver(urlconf), get_script_prefix(), get_language())


@functools.lru_cache(maxsize=64)
def _token_endpoint(
    urlconf: str | None, resolver: URLResolver, script_prefix: str, language: str | None
) -> str:
    """``reverse`` itself; every argument but ``urlconf`` is only part of the key."""
    return reverse("django_upsolve:token", urlconf=urlconf)


def _csrf_header_name() -> str:
    """``CSRF_HEADER_NAME`` as a browser sends it: ``HTTP_X_CSRFTOKEN`` → ``X-CSRFTOKEN``."""
    name = settings.CSRF_HEADER_NAME.removeprefix("HTTP_")
    return name.replace("_", "-")


def share_url(
    kind: Kind, object_id: object, token: str | None, params: Iterable[tuple[str, str]] = ()
) -> str:
    """``<hub>/share/<kind>/<id>?jwt=<token>&<params>``, every part URL-encoded.

    Dashboards live under ``HUB_URL`` and application spaces under
    ``APPLICATION_HUB_URL``. Without a token (a pending frame) there is no ``jwt``
    parameter: ``upsolve.js`` adds it. Raises ``ValueError`` for an id
    :func:`checked_object_id` refuses.
    """
    path_id = checked_object_id(kind, object_id)
    base = upsolve_settings.HUB_URL if kind == "dashboard" else upsolve_settings.APPLICATION_HUB_URL
    query = urlencode([*([("jwt", token)] if token is not None else []), *params])
    return f"{base}/share/{kind}/{quote(path_id, safe='')}?{query}"


def checked_object_id(kind: Kind, object_id: object) -> str:
    """``object_id`` as the hub's path takes it (stripped); ``ValueError`` for ``None``, an id
    that is empty, ``.`` or ``..`` (a browser would resolve it to another path of the hub) or
    one that holds control characters."""
    path_id = "" if object_id is None else str(object_id).strip()
    if path_id in {"", ".", ".."} or has_control(path_id):
        raise ValueError(f"{object_id!r} is not an Upsolve {kind} id.")
    return path_id


def hub_origins() -> tuple[str, ...]:
    """The origins embeds may load from: ``upsolve.js`` swaps no other frame."""
    return _origins(upsolve_settings.HUB_URL, upsolve_settings.APPLICATION_HUB_URL)


@functools.lru_cache(maxsize=8)
def _origins(*urls: str) -> tuple[str, ...]:
    """The distinct origins of ``urls``; remembered, as every page's script tag names them."""
    origins: list[str] = []
    for url in urls:
        origin = _origin(url)
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _origin(url: str) -> str:
    """``url``'s origin as a browser serializes it (``URL.origin``), which ``upsolve.js``
    compares it with: scheme and host in lower case, the host in punycode, no default port."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    # A name IDNA cannot encode stays as it is: the browser refuses such an address anyway.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"  # IPv6
    port = parts.port
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
