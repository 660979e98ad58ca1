"""Reading Upsolve JWTs: shape check, unverified claims, expiry and freshness.

We never hold Upsolve's signing key, so the signature is not verified here;
the token is only ever sent back to Upsolve, which does verify it.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.utils import timezone

logger = logging.getLogger("django_upsolve.tokens")

#: Longest token we accept; real ones are well under 2 KiB.
MAX_TOKEN_LENGTH = 8192
#: How far our clock may run ahead of Upsolve's before a token's ``exp`` counts as past.
MAX_CLOCK_SKEW = 300
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

    The lifetime ``exp - iat`` is counted from ``received_at``, so clock skew
    between Upsolve and us does not matter; it is only cut short when ``exp`` is
    near or past by our clock even allowing for ``MAX_CLOCK_SKEW``. Without
    readable claims the requested lifetime is used (and a warning logged).
    Raises ``TokenRejected`` when the token is not a JWT or is already expired.
    """
    claims = read_claims(token)
    now = received_at.timestamp()
    ceiling = received_at + timedelta(seconds=requested)
    if claims.expires_at is None:
        logger.warning("Upsolve token has no readable 'exp'; assuming the requested lifetime.")
        return ceiling
    if claims.issued_at is not None:
        lifetime = claims.expires_at - claims.issued_at
        if lifetime <= 0:
            raise TokenExpired("The token expires before it was issued.")
        lifetime = min(lifetime, claims.expires_at + MAX_CLOCK_SKEW - now)
    else:
        lifetime = claims.expires_at - now
    if lifetime <= 0:
        raise TokenExpired("The token has already expired.")
    if lifetime > requested:
        logger.warning("Upsolve token lives longer than requested; capping its expiry.")
        return ceiling
    return received_at + timedelta(seconds=lifetime)


def is_fresh(expires_at: datetime | None, margin: float, *, now: datetime | None = None) -> bool:
    """True when a token expiring at ``expires_at`` is still valid ``margin`` seconds from now."""
    if expires_at is None:
        return False
    now = now or timezone.now()
    return expires_at - now > timedelta(seconds=margin)
