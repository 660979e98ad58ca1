"""How Upsolve data reads in the admin: masked tokens, state badges, short errors.

Every page of the app shows a moment the same way (:func:`when`, ISO 8601 in the current
time zone, to the second: short tokens and the breaker's cool-down are counted in seconds)
and an empty value the same way (:data:`EMPTY`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.admin import AdminSite
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ..models import TokenState, UpsolveProfile
from ..redaction import redact

#: Characters of a token shown at each end; the middle, and so the signature, stays hidden.
MASK_HEAD = 6
MASK_TAIL = 4
#: Tokens shorter than this are masked entirely (the visible ends would be too large a share).
MASK_MIN_LENGTH = 32
#: Characters of a recorded error shown in a list cell or badge (``short_error``).
SHORT_ERROR_LENGTH = 80
#: What every page shows for an empty value (also the admins' ``empty_value_display``).
EMPTY = "—"
#: How every page shows a moment: 2026-12-01 16:05:09.
MOMENT_FORMAT = "Y-m-d H:i:s"


def admin_url(site: AdminSite, model: type[Model], view: str, *args: Any) -> str | None:
    """The URL of ``model``'s ``view`` ("change", "changelist") on ``site``, if it is there."""
    opts = model._meta
    try:
        return reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def link(url: str | None, text: object) -> SafeString | str:
    """``text`` linked to ``url``; plain text without one."""
    return format_html('<a href="{}">{}</a>', url, text) if url else str(text)


def mask_token(token: str) -> str:
    """A few leading and trailing characters of ``token``, never the whole of it."""
    if not token:
        return ""
    if len(token) < MASK_MIN_LENGTH:
        return "…"
    return f"{token[:MASK_HEAD]}…{token[-MASK_TAIL:]}"


def short_error(message: str) -> str:
    """The start of an error message, redacted (errors are recorded redacted; belt and braces)."""
    return Truncator(redact(message)).chars(SHORT_ERROR_LENGTH)


def error_label(message: str) -> SafeString | str:
    """A short error with the whole (redacted) message on hover."""
    if not message:
        return EMPTY
    return format_html('<span title="{}">{}</span>', redact(message), short_error(message))


def when(moment: datetime | None) -> str:
    """``moment`` in the current time zone, the one way the app shows moments."""
    if moment is None:
        return EMPTY
    return date_format(timezone.localtime(moment), MOMENT_FORMAT)


def short_uuid(value: object) -> SafeString | str:
    """The first block of a UUID, the whole of it on hover."""
    if value is None:
        return EMPTY
    text = str(value)
    return format_html('<span title="{}">{}…</span>', text, text.split("-", 1)[0])


def badge(level: str, text: str, title: str = "") -> SafeString:
    """A small coloured label; ``level`` is ``ok``, ``warning``, ``error`` or ``none``."""
    return format_html(
        '<span class="upsolve-badge upsolve-badge--{}" title="{}">{}</span>', level, title, text
    )


def _moment_in(template: str, moment: datetime) -> SafeString:
    """``template`` with ``moment`` in it as one unbreakable piece: a narrow list column
    wraps the badge before the moment, never inside it."""
    return format_html(
        template, time=format_html('<span class="upsolve-moment">{}</span>', when(moment))
    )


def token_badge(profile: UpsolveProfile, *, margin: float, now: datetime) -> SafeString:
    state = profile.token_state(margin, now=now)
    expires = profile.token_expires_at
    if state == TokenState.NONE or expires is None:
        return badge("none", _("none"))
    if state == TokenState.EXPIRED:
        return badge("error", _moment_in(_("expired {time}"), expires))
    if state == TokenState.EXPIRING:
        return badge("warning", _moment_in(_("expiring {time}"), expires))
    return badge("ok", _moment_in(_("valid until {time}"), expires))


def registration_badge(registered_at: datetime | None, last_error: str) -> SafeString:
    """Registered (when: on hover); else failing (the error on hover) or not yet.

    The moment itself is on the change page: a list column stays narrow.
    """
    if registered_at is not None:
        return badge("ok", _("registered"), when(registered_at))
    if last_error:
        return badge("error", _("failing"), short_error(last_error))
    return badge("none", _("not yet"))
