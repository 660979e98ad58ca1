"""The four configurations compared, the time scale they share, and what every process of
the bench agrees on (no Django here: the driver and the stand-in import this too)."""

from __future__ import annotations

import math

#: No Upsolve at all: the baseline every other configuration is compared with.
NO_APP = "noapp"
#: Upsolve's own example, in Django: a ``user-token`` call on every authenticated request.
SEED = "seed"
#: django-upsolve with ``SYNC_ON_LOGIN = True``: logins and stale pages wait on Upsolve.
INLINE = "inline"
#: django-upsolve with ``SYNC_ON_LOGIN = "background"`` and a ``db_worker``.
BACKGROUND = "background"

CONFIGS = (NO_APP, SEED, INLINE, BACKGROUND)
LABELS = {
    NO_APP: "no app",
    SEED: "seed middleware",
    INLINE: "app, inline",
    BACKGROUND: "app, background",
}
APP_CONFIGS = (INLINE, BACKGROUND)

#: The stand-in's API key, which every configuration that calls Upsolve is given.
API_KEY = "up_admin_bench_0123456789abcdef"
#: Every bench user's password.
PASSWORD = "bench-password"
#: The dashboard page's query parameter asking for a table of that many rows beside the embed.
ROWS_PARAMETER = "rows"
#: The header naming the page view or login a web process's Upsolve call was made for.
VIEW_HEADER = "X-Bench-View"

HOUR = 3600
#: django-upsolve's defaults, scaled down together with the clock.
TOKEN_EXPIRATION = HOUR
REFRESH_MARGIN = 300
ACTIVE_WINDOW = 8 * HOUR


def scaled(seconds: float, scale: float) -> int:
    """``seconds`` of real time at ``scale`` (120: an hour lasts 30 s), in whole seconds,
    rounded up: the settings take whole seconds, and none may round down to 0."""
    return max(1, math.ceil(seconds / scale))
