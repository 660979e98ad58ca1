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

import time
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model

from . import background, breaker, refresh, services
from .conf import upsolve_settings
from .exceptions import UpsolveBreakerOpen, UpsolveError
from .taskframework import Task, task, task_backends


def _defer_until_breaker_closes(scheduled: Task[..., Any], *args: object, **kwargs: object) -> bool:
    """Enqueue ``scheduled`` again for when the breaker's cool-down ends, if the backend can."""
    open_until = breaker.status().open_until
    backend = upsolve_settings.TASK_BACKEND
    if open_until is None or not task_backends[backend].supports_defer:
        return False
    run_after = datetime.fromtimestamp(max(open_until, time.time()) + 1, tz=UTC)
    scheduled.using(backend=backend, run_after=run_after).enqueue(*args, **kwargs)
    return True


@task(backend=upsolve_settings.TASK_BACKEND)
def sync_user(
    user_pk: str,
    *,
    tenant: str | None = None,
    fresh_token: bool = False,
    valid_for: float | None = None,
) -> str:
    """Register a membership (user and tenant) if needed and store a token; the outcome."""
    user = get_user_model()._default_manager.filter(pk=user_pk).first()
    if user is None:
        return "gone"
    deferred = False
    try:
        synced = services.sync_in_background(
            user, tenant=tenant, fresh_token=fresh_token, valid_for=valid_for
        )
        return "synced" if synced is not None else "not-listed"
    except UpsolveBreakerOpen:
        deferred = _defer_until_breaker_closes(
            sync_user, user_pk, tenant=tenant, fresh_token=fresh_token, valid_for=valid_for
        )
        return "deferred" if deferred else "breaker-open"
    except UpsolveError:
        return "failed"  # Logged and recorded on the profile by the services.
    finally:
        if not deferred and tenant is not None:
            background.unmark_queued(user_pk, tenant)


@task(backend=upsolve_settings.TASK_BACKEND)
def refresh_active_tokens() -> dict[str, int]:
    """Queue the refresh of active users' tokens before they go stale, then run again later."""
    summary = refresh.queue_due()
    refresh.schedule_next(refresh_active_tokens)
    return summary.as_dict()
