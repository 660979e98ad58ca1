"""Background mode's queue side: requests only enqueue, a task worker talks to Upsolve.

At most one sync per membership is queued at a time. ``UpsolveProfile.sync_queued_at``
marks a queued sync: a conditional ``UPDATE`` sets it (atomic on every database, whatever
the cache does). A mark older than ``QUEUED_TTL`` counts as lost (a worker died, a queue
was flushed), so the next request queues again. The task carries the mark it was queued
with and owns only that one: it clears it when it ends, and a task that starts to find its
mark taken over (it was late, and counted as lost) leaves the sync to the newer task. Marks
are read where they are written (``db_for_write``): a replica may not have them yet.

Tasks go to the backend ``UPSOLVE["TASK_BACKEND"]`` names, once the caller's transaction
commits: a worker never looks for a user or profile row it cannot see yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import stored_token
from .conf import upsolve_settings
from .exceptions import UpsolveImproperlyConfigured, UpsolveInvalidRequest
from .memberships import Membership, membership_profile
from .models import UpsolveProfile
from .redaction import describe
from .stored_token import UserPk, of_membership

logger = logging.getLogger(__name__)

#: A sync still marked as queued after this long is taken for lost and queued again.
QUEUED_TTL = timedelta(minutes=10)


def not_queued(now: datetime) -> Q:
    """Profiles with no sync queued (or one queued so long ago that it was lost)."""
    return Q(sync_queued_at__isnull=True) | Q(sync_queued_at__lt=now - QUEUED_TTL)


def mark_queued(membership: Membership, now: datetime, *, seen: bool = False) -> bool:
    """Mark a sync of ``membership`` as queued at ``now`` (and, if ``seen``, the member as
    seen now); ``False`` when one already is."""
    user_pk, tenant = membership.user.pk, membership.external_id
    lost_before = now - QUEUED_TTL
    if stored_token.mark_queued(user_pk, tenant, now=now, lost_before=lost_before, seen=seen):
        return True
    # A sync is queued already, or the membership has no profile yet.
    profile = of_membership(user_pk, tenant)
    found = profile.update(last_seen_at=now) if seen else profile.exists()
    if found:
        return False
    membership_profile(membership)  # A first use: the rows are created unmarked.
    return stored_token.mark_queued(user_pk, tenant, now=now, lost_before=lost_before, seen=seen)


def mark_many_queued(profile_pks: Iterable[int], now: datetime) -> list[tuple[int, UserPk, str]]:
    """Mark syncs of these profiles as queued at ``now``; those this call marked, as (profile
    pk, user pk, tenant external id)."""
    pks = list(profile_pks)
    UpsolveProfile.objects.filter(not_queued(now), pk__in=pks).update(sync_queued_at=now)
    marked = _primary(UpsolveProfile.objects.filter(pk__in=pks, sync_queued_at=now))
    return list(marked.values_list("pk", "user_id", "tenant__external_id"))


def owns_mark(user_pk: UserPk, tenant: str, queued_at: datetime) -> bool:
    """Whether the membership's sync is still marked as queued at ``queued_at``."""
    return _primary(of_membership(user_pk, tenant).filter(sync_queued_at=queued_at)).exists()


def move_mark(user_pk: UserPk, tenant: str, queued_at: datetime, *, to: datetime) -> bool:
    """Move the mark set at ``queued_at`` to ``to`` (a deferred task's start); ``False`` if
    that mark is gone."""
    profile = of_membership(user_pk, tenant).filter(sync_queued_at=queued_at)
    return bool(profile.update(sync_queued_at=to))


def unmark_queued(user_pk: UserPk, tenant: str, queued_at: datetime) -> None:
    """Clear the mark set at ``queued_at``, so the next request may queue a sync again; a
    newer mark is left to its own task."""
    of_membership(user_pk, tenant).filter(sync_queued_at=queued_at).update(sync_queued_at=None)


def unmark_many_queued(profile_pks: Iterable[int], queued_at: datetime) -> None:
    """:func:`unmark_queued` for these profiles, all marked at ``queued_at``."""
    profiles = UpsolveProfile.objects.filter(pk__in=list(profile_pks), sync_queued_at=queued_at)
    profiles.update(sync_queued_at=None)


def _primary(profiles: QuerySet[UpsolveProfile]) -> QuerySet[UpsolveProfile]:
    """``profiles`` read from the database their marks are written to."""
    return profiles.using(router.db_for_write(UpsolveProfile))


def request_sync(membership: Membership, *, fresh_token: bool = False, seen: bool = False) -> bool:
    """Queue one sync of ``membership`` unless one is queued already; ``True`` when one is.

    ``fresh_token`` asks for a new token even when the stored one is still fresh (a login);
    a sync queued already is left as it was asked for. ``seen`` records the member as seen
    now. The task is enqueued when the caller's transaction commits (at once outside one).
    ``False`` when none can be: a new tenant whose values the adapter got wrong has no row to
    mark (a WARNING names the value, as an inline sync's would).
    """
    now = timezone.now()
    try:
        marked = mark_queued(membership, now, seen=seen)
    except UpsolveInvalidRequest as err:
        logger.warning("Upsolve sync not queued for user pk=%s: %s", membership.user.pk, err)
        return False
    if not marked:
        return True
    transaction.on_commit(
        partial(
            enqueue_sync,
            membership.user.pk,
            membership.external_id,
            queued_at=now,
            fresh_token=fresh_token,
        ),
        using=router.db_for_write(UpsolveProfile),
        robust=True,  # Past the commit, an error here must not fail the response.
    )
    return True


def require_task_backend() -> None:
    """Raise ``UpsolveImproperlyConfigured`` saying why ``UPSOLVE["TASK_BACKEND"]`` cannot
    take tasks here: Django's tasks framework is missing, or it has no such backend."""
    alias = upsolve_settings.TASK_BACKEND
    try:
        from .taskframework import task_backends
    except ImportError as err:
        raise UpsolveImproperlyConfigured(
            "Queueing syncs needs Django's tasks framework: Django 6.0 or newer, or the "
            "django-tasks backport (the package's 'tasks' extra)."
        ) from err
    try:
        task_backends[alias]
    except Exception as err:
        raise UpsolveImproperlyConfigured(
            f"UPSOLVE['TASK_BACKEND'] = {alias!r} is not a usable task backend ({describe(err)})."
        ) from err


def enqueue_sync(
    user_pk: UserPk,
    tenant: str,
    *,
    queued_at: datetime,
    fresh_token: bool = False,
    valid_for: float | None = None,
    run_after: datetime | None = None,
) -> bool:
    """Enqueue the sync task of a membership marked as queued at ``queued_at`` (to run after
    ``run_after``, when given); unmark it on failure."""
    try:
        # Imported here, inside the try: defining the task checks its backend, which fails
        # where the tasks framework is missing or TASK_BACKEND unknown (inline mode, whose
        # checks leave it alone, may still run ``upsolve_refresh --enqueue``).
        from .tasks import sync_user

        sync_user.using(backend=upsolve_settings.TASK_BACKEND, run_after=run_after).enqueue(
            str(user_pk),
            tenant=tenant,
            queued_at=queued_at.isoformat(),
            fresh_token=fresh_token,
            valid_for=valid_for,
        )
    except Exception:
        logger.exception("Could not enqueue the Upsolve sync of user pk=%s.", user_pk)
        unmark_queued(user_pk, tenant, queued_at)
        return False
    return True
