"""Template tags that embed Upsolve for the current user: ``{% load upsolve %}``.

``{% upsolve_dashboard dashboard_id theme="light" width="100%" height="800" title="…" %}``
    An ``<iframe>`` on ``<HUB_URL>/share/dashboard/<id>?jwt=<token>&theme=<theme>``.
``{% upsolve_application application_id … %}``
    The same on ``<APPLICATION_HUB_URL>/share/application/<id>``.
``{% upsolve_token %}`` / ``{% upsolve_token as token %}``
    The bare token (empty when there is none), for custom front ends.

The iframe tags accept the iframe attributes ``width``, ``height``, ``title``,
``loading``, ``referrerpolicy``, ``class`` and ``id``; ``theme`` (``light`` or
``dark``) and every other keyword (e.g. ``dbAuthToken=…``) become query
parameters. A stale token is refreshed first; a fresh one costs no HTTP call.
Anonymous users, users the adapter leaves out, and users for whom no token can
be had get the ``django_upsolve/placeholder.html`` template instead (its
``reason`` is ``anonymous``, ``not-available`` or ``unavailable``): these tags
never raise.
The first iframe of a page also loads ``django_upsolve/upsolve.js``, which
swaps the token shortly before it expires (see that file for its data- attributes).
What a request embeds is decided in ``django_upsolve.embed``; this module parses
the options and renders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.template import Context, Engine
from django.templatetags.static import static
from django.urls import NoReverseMatch
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..embed import (
    THEMES,
    EmbedToken,
    Kind,
    Placeholder,
    checked_object_id,
    embed_for,
    frame_attributes,
    hub_origins,
    refresh_attributes,
    share_url,
)

logger = logging.getLogger(__name__)
register = template.Library()

#: The refresh script, as a static file.
SCRIPT = "django_upsolve/upsolve.js"
PLACEHOLDER_TEMPLATE = "django_upsolve/placeholder.html"
#: Keywords that set attributes of the ``<iframe>``; all others are query parameters.
IFRAME_ATTRIBUTES = ("width", "height", "title", "loading", "referrerpolicy", "class", "id")
TITLES = {"dashboard": _("Analytics dashboard"), "application": _("Analytics workspace")}
#: Set on the request once a page has loaded the refresh script.
SCRIPT_FLAG = "_django_upsolve_script_included"


@register.simple_tag(takes_context=True)
def upsolve_dashboard(context: Context, dashboard_id: Any, **options: Any) -> SafeString:
    """Dashboard ``dashboard_id`` in an iframe for the current user, or the placeholder."""
    return _embed(context, "dashboard", dashboard_id, options)


@register.simple_tag(takes_context=True)
def upsolve_application(context: Context, application_id: Any, **options: Any) -> SafeString:
    """Application space ``application_id`` in an iframe for the current user, or a placeholder."""
    return _embed(context, "application", application_id, options)


@register.simple_tag(takes_context=True)
def upsolve_token(context: Context) -> str:
    """The current user's token, refreshed if stale; ``""`` for anonymous users or on failure."""
    request = _request(context)
    embed = embed_for(request) if request is not None else None
    return embed.token if isinstance(embed, EmbedToken) else ""


def _request(context: Context) -> HttpRequest | None:
    request = context.get("request")
    if isinstance(request, HttpRequest) and hasattr(request, "user"):
        return request
    logger.warning(
        "The Upsolve tags need the request and its user in the template context: add "
        "'django.template.context_processors.request' and AuthenticationMiddleware."
    )
    return None


def _embed(context: Context, kind: Kind, object_id: Any, options: dict[str, Any]) -> SafeString:
    try:
        attributes, params = _split_options(kind, options)
        try:
            object_id = checked_object_id(kind, object_id)
        except ValueError as err:  # A template's mistake: no token is looked up for it.
            logger.warning("%s The embed shows its placeholder.", err)
            return _placeholder(context, None, kind, attributes, "unavailable")
        request = _request(context)
        if request is None:
            return _placeholder(context, None, kind, attributes, "anonymous")
        embed = embed_for(request)
        if isinstance(embed, Placeholder) and embed.reason != "pending":
            return _placeholder(context, request, kind, attributes, embed.reason)
        token = embed if isinstance(embed, EmbedToken) else None
        frame = frame_attributes(token)
        if token is None and not frame:  # Nothing could fill a pending frame.
            return _placeholder(context, request, kind, attributes, "unavailable")
        include_script = bool(frame) and not getattr(request, SCRIPT_FLAG, False)
        src = share_url(kind, object_id, token.token if token else None, params)
        html = _iframe(kind, src, attributes, frame, pending=token is None)
        if include_script:
            # Django 6's context processor names it in the context; django-csp on the request.
            nonce = context.get("csp_nonce") or getattr(request, "csp_nonce", None)
            html += _script(nonce, refresh_attributes(request, token, embed.tenant))
            setattr(request, SCRIPT_FLAG, True)
        return SafeString(html)
    except Exception:
        logger.exception("Could not render the Upsolve %s embed.", kind)
        try:
            return _placeholder(context, None, kind, {"title": str(TITLES[kind])}, "unavailable")
        except Exception:
            logger.exception("Could not render %s.", PLACEHOLDER_TEMPLATE)
            return SafeString("")


def _iframe(
    kind: Kind,
    src: str,
    attributes: dict[str, str],
    frame: list[tuple[str, str]],
    *,
    pending: bool,
) -> str:
    """The iframe element, every value escaped (whatever the caller's autoescape says).

    Built here rather than by a template: a page's embed is on every view, and the template
    engine cost more than the rest of a render. A pending frame is hidden, its address in
    ``data-upsolve-src``, beside the placeholder's message, until ``upsolve.js`` fills it.
    """
    names = (
        ("data-upsolve-src" if pending else "src", src),
        *attributes.items(),
        ("data-upsolve-embed", kind),
        *frame,
    )
    element = f"<iframe{' hidden' if pending else ''}{_attributes(names)}></iframe>"
    if not pending:
        return element
    message = escape(gettext("Preparing your analytics…"))
    return (
        '<div class="upsolve-pending" data-upsolve-pending>\n  <p class="upsolve-placeholder" '
        f'role="status" data-upsolve-placeholder="pending" data-upsolve-kind="{kind}">'
        f"{message}</p>\n  {element}\n</div>"
    )


def _script(csp_nonce: object, refresh: list[tuple[str, str]]) -> str:
    """The refresh script's tag, with the page's CSP nonce when it has one.

    The tag carries the script's whole configuration, the refresh attributes of the page's
    embeds included: markup injected into the page can add iframes, but not this tag, so it
    cannot choose where the script posts the CSRF token or which tenant it asks for.
    """
    nonce = f' nonce="{escape(str(csp_nonce))}"' if csp_nonce else ""
    names = (("data-upsolve-origins", " ".join(hub_origins())), *refresh)
    src = escape(static(SCRIPT))
    return f'\n<script src="{src}" defer{_attributes(names)}{nonce}></script>'


def _attributes(names: Iterable[tuple[str, str]]) -> str:
    """`` name="value"`` for each pair, every value escaped."""
    return "".join(f' {name}="{escape(value)}"' for name, value in names)


def _split_options(
    kind: Kind, options: dict[str, Any]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split tag keywords into iframe attributes and share-URL query parameters."""
    attributes: dict[str, str] = {
        "title": str(TITLES[kind]),
        "width": "100%",
        "height": "800",
        "loading": "lazy",
        "referrerpolicy": "strict-origin",
    }
    theme = options.pop("theme", None) or THEMES[0]
    if theme not in THEMES:
        logger.warning("Unknown Upsolve theme %r; using %r.", theme, THEMES[0])
        theme = THEMES[0]
    params = [("theme", _text(theme))]
    for name, value in options.items():
        if value is None or value == "":  # an unset variable leaves its option out
            continue
        if name in IFRAME_ATTRIBUTES:
            attributes[name] = _text(value)
        elif name == "jwt":
            logger.warning("The Upsolve tags set the 'jwt' parameter themselves; ignoring it.")
        else:
            params.append((name, _text(value)))
    return attributes, params


def _text(value: Any) -> str:
    """``value`` as plain text, so that even a template literal (a ``SafeString``) is escaped."""
    return str.__str__(str(value))


def _placeholder(
    context: Context,
    request: HttpRequest | None,
    kind: Kind,
    attributes: dict[str, str],
    reason: str,
) -> SafeString:
    return _render(
        context,
        PLACEHOLDER_TEMPLATE,
        {
            "kind": kind,
            "reason": reason,
            "title": attributes["title"],
            "css_class": attributes.get("class", ""),
            "element_id": attributes.get("id", ""),
            "login_url": _login_url(request) if reason == "anonymous" else "",
        },
    )


def _login_url(request: HttpRequest | None) -> str:
    try:
        url = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        return ""
    if request is None:
        return url
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"


def _render(context: Context, name: str, values: dict[str, Any]) -> SafeString:
    engine = context.template.engine if context.template is not None else Engine.get_default()
    inner = context.new(values)
    # Our templates escape their values even inside the caller's {% autoescape off %}.
    inner.autoescape = True
    return engine.get_template(name).render(inner)
