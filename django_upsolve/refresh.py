"""Proactive refresh: active users' tokens are renewed before any page finds them stale.

A user is *active* when a login, a page that used their token or the browser's token
refresh saw them within ``ACTIVE_WINDOW`` (``UpsolveProfile.last_seen_at``). A token is
*due* when it expires within ``REFRESH_MARGIN`` plus two sweep intervals, so a late sweep
still finishes in time. Dormant users are never touched: a sweep's work grows with the users
who are there, not with those who merely have an account.

Sweeps work in batches of ``BATCH`` profiles, soonest expiry first, so memory stays flat
whatever the number of users. The task (:func:`django_upsolve.tasks.refresh_active_tokens`)
queues one sync per due user and runs again after :func:`interval` where the backend
supports ``run_after``; ``manage.py upsolve_refresh`` refreshes in its own process, for cron.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from . import background
from . import cache as shared_cache
from .conf import upsolve_settings
from .exceptions import UpsolveBreakerOpen, UpsolveError, UpsolveImproperlyConfigured
from .models import TokenState, UpsolveProfile, token_state_filter
from .redaction import describe, printable
from .stored_token import UserPk

if TYPE_CHECKING:
    from .taskframework import Task

logger = logging.getLogger(__name__)

#: Profiles handled per batch: bounds memory and the length of one query.
BATCH = 500
#: Keeps one chain of scheduled sweeps alive: set by each sweep, checked at login.
CHAIN_KEY = "django_upsolve:sweep:chain"
#: Taken by a sweep that reschedules itself: a second chain finds it and ends.
RUN_KEY = "django_upsolve:sweep:run"
#: When this process last made sure a chain is alive (``time.monotonic()``).
_chain_checked_at = float("-inf")


@dataclass
class SweepSummary:
    """What one sweep did, logged as one line."""

    due: int = 0
    queued: int = 0
    refreshed: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def interval() -> float:
    """Seconds between two sweeps: half the refresh margin, from 5 s to 5 min."""
    return min(max(upsolve_settings.REFRESH_MARGIN / 2, 5.0), 300.0)


def lead() -> float:
    """A token valid for less than this many seconds is due."""
    return upsolve_settings.REFRESH_MARGIN + 2 * interval()


def due(now: datetime | None = None) -> QuerySet[UpsolveProfile]:
    """Profiles of active users whose token is missing or expires soon, soonest first.

    A token is due exactly when a sync asked for :func:`lead` seconds would replace it: a
    token shorter than twice that is kept until half its lifetime is left, so the sweep does
    not queue syncs that would find it fresh. Users who failed within the last interval wait
    for the next sweep, and those with a sync already queued are left to it.
    """
    now = now or timezone.now()
    return (
        UpsolveProfile.objects.filter(
            background.not_queued(now),
            # The range alone lets the database use the expiry index; the state adds the cut.
            Q(token_expires_at__isnull=True) | Q(token_expires_at__lte=now + _seconds(lead())),
            ~token_state_filter(TokenState.VALID, now=now, margin=lead()),
            last_seen_at__gte=now - _seconds(upsolve_settings.ACTIVE_WINDOW),
            tenant__isnull=False,  # rows from before profiles were per membership
        )
        .exclude(last_error_at__gte=now - _seconds(interval()))
        .order_by("token_expires_at", "pk")
    )


def queue_due(*, batch: int = BATCH) -> SweepSummary:
    """Queue one sync per due profile on the task backend, ``batch`` at a time.

    A backend that refuses a task ends the sweep: it would refuse the rest alike, and those
    stay due for the next sweep (counted as failed). Raises ``UpsolveImproperlyConfigured``,
    marking nobody, where ``TASK_BACKEND`` names no usable backend (inline mode's checks
    leave it alone).
    """
    background.require_task_backend()
    summary = SweepSummary()
    while True:
        now = timezone.now()
        marked = background.mark_many_queued(due(now).values_list("pk", flat=True)[:batch], now)
        queued = _enqueue_marked(marked, now)
        summary.due += len(marked)
        summary.queued += queued
        summary.failed += len(marked) - queued
        if queued < len(marked) or len(marked) < batch:
            break
    _log(summary)
    return summary


def _enqueue_marked(marked: list[tuple[int, UserPk, str]], now: datetime) -> int:
    """Enqueue the syncs of these profiles, marked at ``now``; how many were enqueued before
    the backend refused one (the rest are unmarked)."""
    for index, (_, user_pk, tenant) in enumerate(marked):
        if not background.enqueue_sync(user_pk, tenant, queued_at=now, valid_for=lead()):
            background.unmark_many_queued((pk for pk, *_ in marked[index + 1 :]), now)
            return index
    return len(marked)


def refresh_due(
    *, batch: int = BATCH, progress: Callable[[str, str], None] | None = None
) -> SweepSummary:
    """Refresh due profiles in this process, ``batch`` at a time; stops early while the
    circuit breaker is open. ``progress(member, outcome)`` is called after each profile, with
    the member as ``username (tenant)``."""
    from . import services

    summary = SweepSummary()
    pks = list(due().values_list("pk", flat=True))
    for start in range(0, len(pks), batch):
        chunk = UpsolveProfile.objects.filter(pk__in=pks[start : start + batch])
        for profile in chunk.select_related("user", "tenant"):
            summary.due += 1
            try:
                synced = services.sync_in_background(
                    profile.user, tenant=profile.external_id, valid_for=lead()
                )
            except UpsolveBreakerOpen:
                summary.failed += 1
                _report(progress, profile, "skipped: the circuit breaker is open")
                _log(summary)
                return summary
            except UpsolveError as err:
                summary.failed += 1
                _report(progress, profile, f"failed: {err}")
            except UpsolveImproperlyConfigured:
                raise  # No profile could refresh: the caller says so.
            except Exception as err:  # A bug (the adapter's, say) stops this profile only.
                summary.failed += 1
                logger.exception(
                    "Unexpected error while refreshing user pk=%s in tenant %s.",
                    profile.user_id,
                    profile.external_id,
                )
                _report(progress, profile, f"failed: {describe(err)}")
            else:
                summary.refreshed += synced is not None
                _report(progress, profile, "refreshed" if synced else "not eligible")
    _log(summary)
    return summary


def ensure_scheduled() -> None:
    """Start the chain of sweeps unless one is alive (called at each background login).

    The shared cache is asked at most once an interval per process: a login in between
    knows the answer already. The enqueue runs in a savepoint of its own: a database task
    backend inserts in the login's transaction, which an error there must not break.
    """
    global _chain_checked_at
    now = time.monotonic()
    if now - _chain_checked_at < interval():
        return
    _chain_checked_at = now
    if _cache_add(CHAIN_KEY, interval() * 3):
        from .services import savepoint_if_in_transaction
        from .tasks import refresh_active_tokens

        with savepoint_if_in_transaction():
            _enqueue_after(refresh_active_tokens, interval())


def schedule_next(sweep: Task[..., Any]) -> bool:
    """Run ``sweep`` again after :func:`interval`, keeping a single chain of sweeps alive."""
    seconds = interval()
    if not _cache_add(RUN_KEY, seconds / 2):
        return False  # Another chain swept a moment ago: this one ends here.
    shared_cache.run(
        lambda cache: cache.set(CHAIN_KEY, 1, timeout=int(seconds * 3)),
        fallback=shared_cache.MEMORY,
    )
    return _enqueue_after(sweep, seconds)


def _enqueue_after(sweep: Task[..., Any], seconds: float) -> bool:
    from .taskframework import task_backends

    backend = upsolve_settings.TASK_BACKEND
    if not task_backends[backend].supports_defer:
        return False  # Cron runs ``manage.py upsolve_refresh`` instead.
    run_after = timezone.now() + timedelta(seconds=seconds)  # naive without USE_TZ
    sweep.using(backend=backend, run_after=run_after).enqueue()
    return True


def _cache_add(key: str, seconds: float) -> bool:
    """``cache.add`` on the shared cache, or this process's memory while it is down."""
    return shared_cache.run(
        lambda cache: cache.add(key, 1, timeout=max(1, int(seconds))),
        fallback=shared_cache.MEMORY,
    )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _report(
    progress: Callable[[str, str], None] | None, profile: UpsolveProfile, outcome: str
) -> None:
    if progress is not None:
        progress(f"{printable(profile.user.get_username())} ({profile.external_id})", outcome)


def _log(summary: SweepSummary) -> None:
    # A sweep that found nothing to do is routine: DEBUG, not a line every few seconds.
    logger.log(
        logging.INFO if summary.due else logging.DEBUG,
        "Upsolve token sweep: %d due, %d queued, %d refreshed, %d failed.",
        summary.due,
        summary.queued,
        summary.refreshed,
        summary.failed,
    )
