"""The tasks a worker runs in background mode, on Django's tasks framework.

Both are idempotent: a sync brings a user to "registered, holding a token valid for long
enough" and does nothing more when another run got there first. Both honour the circuit
breaker: a sync that finds it open is deferred to when it closes where the backend supports
``run_after``, and otherwise ends (the next page or sweep queues it again). Failures are
logged and recorded on the profile by the services, as in inline mode.

This module is imported only in background mode (and by workers): defining a task needs the
backend ``UPSOLVE["TASK_BACKEND"]`` to exist.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from . import background, breaker, refresh, services
from .conf import upsolve_settings
from .exceptions import UpsolveBreakerOpen, UpsolveError, UpsolveImproperlyConfigured
from .taskframework import task, task_backends

logger = logging.getLogger(__name__)

#: A deferred sync waits at least this long: while a trial call decides whether the breaker
#: closes (``open_until`` has passed then), a shorter wait would only find it still open.
MIN_DEFERRAL = timedelta(seconds=5)


def _deferral_start() -> datetime | None:
    """When a sync that found the breaker open should run again; ``None`` when the backend
    cannot defer (or the breaker has closed meanwhile)."""
    open_until = breaker.status().open_until
    if open_until is None or not task_backends[upsolve_settings.TASK_BACKEND].supports_defer:
        return None
    now = timezone.now()  # Aware or naive, as the backend expects it (USE_TZ).
    return now + max(timedelta(seconds=open_until - time.time() + 1), MIN_DEFERRAL)


@task(backend=upsolve_settings.TASK_BACKEND)
def sync_user(
    user_pk: str,
    *,
    tenant: str,
    queued_at: str,
    fresh_token: bool = False,
    valid_for: float | None = None,
) -> str:
    """Register a membership (user and tenant) if needed and store a token; the outcome.

    ``queued_at`` (ISO 8601) is the mark the task was queued with (see :mod:`.background`):
    the task clears it when it ends, and a task that finds it taken over when it starts ends
    at once as ``superseded``.
    """
    mark = datetime.fromisoformat(queued_at)
    if not background.owns_mark(user_pk, tenant, mark):
        return "superseded"
    owned = True  # Cleared at the end, unless handed to a deferred task.
    try:
        user = get_user_model()._default_manager.filter(pk=user_pk).first()
        if user is None:
            return "gone"
        synced = services.sync_in_background(
            user, tenant=tenant, fresh_token=fresh_token, valid_for=valid_for
        )
        return "synced" if synced is not None else "not-listed"
    except UpsolveBreakerOpen:
        start = _deferral_start()
        if start is None:
            return "breaker-open"
        if not background.move_mark(user_pk, tenant, mark, to=start):
            return "superseded"
        owned = False  # Moved to the deferred task's start, it is that task's mark now.
        deferred = background.enqueue_sync(
            user_pk,
            tenant,
            queued_at=start,
            fresh_token=fresh_token,
            valid_for=valid_for,
            run_after=start,
        )
        return "deferred" if deferred else "breaker-open"
    except UpsolveError:
        return "failed"  # Logged and recorded on the profile by the services.
    except UpsolveImproperlyConfigured as err:  # The worker's settings, not this user's.
        logger.error("Upsolve sync of user pk=%s not run: %s", user_pk, err)
        return "misconfigured"
    finally:
        if owned:
            background.unmark_queued(user_pk, tenant, mark)


@task(backend=upsolve_settings.TASK_BACKEND)
def refresh_active_tokens() -> dict[str, int]:
    """Queue the refresh of active users' tokens before they go stale, then run again later
    (even when this sweep failed: the chain of sweeps must not end with it)."""
    try:
        return refresh.queue_due().as_dict()
    finally:
        refresh.schedule_next(refresh_active_tokens)
