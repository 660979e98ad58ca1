"""What an embed needs: the current user's token with its expiry, and the share URLs.

Used by the template tags and the token endpoint; never raises for Upsolve,
database or adapter failures (they are logged and the caller shows a placeholder).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import quote, urlencode

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from .conf import upsolve_settings
from .services import get_fresh_profile
from .tokens import is_jwt_shaped

logger = logging.getLogger("django_upsolve.embed")

Kind = Literal["dashboard", "application"]


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


def current_token(user: AbstractBaseUser | AnonymousUser) -> EmbedToken | None:
    """The token ``user`` may embed with, refreshed first when it is stale, or ``None``.

    ``None`` for anonymous or ineligible users and whenever no valid token can
    be had. A fresh stored token costs no HTTP call.
    """
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    try:
        profile = get_fresh_profile(user)
    except Exception:
        logger.exception("Could not get an Upsolve token for user pk=%s.", user.pk)
        return None
    if profile is None or profile.token_expires_at is None:
        return None
    if not is_jwt_shaped(profile.token):  # never render something that needs escaping
        return None
    return EmbedToken(profile.token, profile.token_expires_at)


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
