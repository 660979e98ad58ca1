"""Reading Upsolve JWTs: shape check, unverified claims, expiry and freshness.

We never hold Upsolve's signing key, so the signature is not verified here;
the token is only ever sent back to Upsolve, which does verify it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.utils import timezone

from .conf import upsolve_settings

logger = logging.getLogger(__name__)

#: Longest token we accept; real ones are well under 2 KiB.
MAX_TOKEN_LENGTH = 8192
#: A gap between Upsolve's clock and ours beyond this many seconds is logged (WARNING).
MAX_CLOCK_SKEW = 300
#: ...at most once per this many seconds, per process.
SKEW_LOG_INTERVAL = 3600
#: An ``iat`` further than this from our clock is no clock skew but a stale or bogus token.
MAX_CREDIBLE_SKEW = 24 * 3600
#: The refresh margin is cut to this fraction of a token's lifetime when longer.
MAX_MARGIN_FRACTION = 0.5
#: Claims beyond this (year 5138) are not times; it also keeps ``float()`` from overflowing.
MAX_TIMESTAMP = 10**11

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")


class TokenRejected(ValueError):
    """The token is not a usable JWT (wrong shape, unreadable payload, ...)."""


class TokenExpired(TokenRejected):
    """The token is a JWT but already expired (or expires before it was issued)."""


@dataclass(frozen=True)
class Claims:
    """The timing claims of a JWT, in seconds since the epoch, when readable."""

    issued_at: float | None
    expires_at: float | None


def is_jwt_shaped(token: object) -> bool:
    """True for a compact JWT made only of base64url segments (nothing to escape)."""
    return (
        isinstance(token, str)
        and 0 < len(token) <= MAX_TOKEN_LENGTH
        and _JWT_SHAPE.fullmatch(token) is not None
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not (isinstance(value, int) or math.isfinite(value)) or not 0 < value < MAX_TIMESTAMP:
        return None
    return float(value)


def read_claims(token: str) -> Claims:
    """Read ``iat`` and ``exp`` without verifying the signature; missing or bad values are None."""
    if not is_jwt_shaped(token):
        raise TokenRejected("The token is not a JWT.")
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as err:
        raise TokenRejected("The token's payload cannot be read.") from err
    if not isinstance(payload, dict):
        raise TokenRejected("The token's payload is not an object.")
    return Claims(issued_at=_number(payload.get("iat")), expires_at=_number(payload.get("exp")))


def expiry_of(token: str, *, requested: int, received_at: datetime) -> datetime:
    """When ``token`` expires by our clock, never later than the lifetime we asked for.

    Upsolve states the token's lifetime as ``exp - iat``, both by its own clock, for
    the call that receives it: counted from ``received_at`` it holds whatever the gap
    between the two clocks. A gap beyond ``MAX_CLOCK_SKEW`` is logged (once per
    ``SKEW_LOG_INTERVAL``). Without a credible ``iat`` (missing, or over
    ``MAX_CREDIBLE_SKEW`` away) the gap cannot be told, so ``exp`` is read by our clock;
    without a readable ``exp`` the requested lifetime is used (and a warning logged).
    Raises ``TokenRejected`` when the token is not a JWT, and ``TokenExpired`` when it
    is already expired or expires before it was issued.
    """
    claims = read_claims(token)
    now = received_at.timestamp()
    ceiling = received_at + timedelta(seconds=requested)
    if claims.expires_at is None:
        logger.warning("Upsolve token has no readable 'exp'; assuming the requested lifetime.")
        return ceiling
    issued_at = claims.issued_at
    if issued_at is not None and claims.expires_at <= issued_at:
        raise TokenExpired("The token expires before it was issued.")
    if issued_at is not None and abs(issued_at - now) <= MAX_CREDIBLE_SKEW:
        _check_skew(issued_at - now)
        lifetime = claims.expires_at - issued_at
    else:
        lifetime = claims.expires_at - now
    if lifetime <= 0:
        raise TokenExpired("The token has already expired.")
    if lifetime > requested:
        logger.warning("Upsolve token lives longer than requested; capping its expiry.")
        return ceiling
    return received_at + timedelta(seconds=lifetime)


def effective_margin(lifetime: float, margin: float) -> float:
    """``margin``, cut to ``MAX_MARGIN_FRACTION`` of a token's ``lifetime`` when longer.

    A token that lives less than the margin would count as stale from the moment it
    arrives and never be used. At half its lifetime a short token still serves for
    half its life, and the browser keeps the other half to fetch the next one. The
    first cut logs a WARNING (once per process): ``REFRESH_MARGIN`` should be shorter.
    """
    ceiling = max(lifetime, 0.0) * MAX_MARGIN_FRACTION
    if margin <= ceiling:
        return margin
    # Only the configured margin is a setting to fix (the sweep asks for longer ones).
    if margin == upsolve_settings.REFRESH_MARGIN and _first_time("margin", None):
        logger.warning(
            "Upsolve tokens live %.0f s, less than twice UPSOLVE['REFRESH_MARGIN'] (%s s): "
            "refreshing them %.0f s before they expire instead. Lower REFRESH_MARGIN or "
            "raise TOKEN_EXPIRATION.",
            lifetime,
            margin,
            ceiling,
        )
    return ceiling


def is_fresh(
    expires_at: datetime | None,
    margin: float,
    *,
    now: datetime | None = None,
    received_at: datetime | None = None,
) -> bool:
    """True when a token expiring at ``expires_at`` is still valid ``margin`` seconds from now.

    Given when the token was received, the margin is first cut to fit its lifetime
    (:func:`effective_margin`), so a token shorter than the margin is still used.
    """
    if expires_at is None:
        return False
    now = now or timezone.now()
    if received_at is not None:
        margin = effective_margin((expires_at - received_at).total_seconds(), margin)
    return expires_at - now > timedelta(seconds=margin)


def _check_skew(skew: float) -> None:
    """Log a large gap between Upsolve's clock (``iat``) and ours at receipt."""
    if abs(skew) > MAX_CLOCK_SKEW and _first_time("skew", SKEW_LOG_INTERVAL):
        logger.warning(
            "Upsolve's clock runs %.0f s %s ours (a token's 'iat' against its receipt). "
            "Expiry does not depend on it, but check this server's time synchronisation.",
            abs(skew),
            "behind" if skew < 0 else "ahead of",
        )


_logged: dict[str, float] = {}
_logged_lock = threading.Lock()


def _first_time(topic: str, interval: float | None) -> bool:
    """True once per ``interval`` seconds for ``topic`` (once per process for ``None``)."""
    now = time.monotonic()
    with _logged_lock:
        last = _logged.get(topic)
        if last is not None and (interval is None or now - last < interval):
            return False
        _logged[topic] = now
        return True
