"""Background mode's queue side: requests only enqueue, a task worker talks to Upsolve.

At most one sync per user is queued at a time. ``UpsolveProfile.sync_queued_at`` marks a
queued sync: a conditional ``UPDATE`` sets it (atomic on every database, whatever the
cache does) and the task clears it when it ends. A mark older than ``QUEUED_TTL`` counts
as lost (a worker died, a queue was flushed), so the next request queues again.

Tasks go to the backend ``UPSOLVE["TASK_BACKEND"]`` names, once the caller's transaction
commits: a worker never looks for a user or profile row it cannot see yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from asgiref.sync import sync_to_async
from django.db import IntegrityError, router, transaction
from django.db.models import Q
from django.utils import timezone

from .conf import upsolve_settings
from .models import UpsolveProfile
from .stored_token import UserPk

logger = logging.getLogger(__name__)

#: A sync still marked as queued after this long is taken for lost and queued again.
QUEUED_TTL = timedelta(minutes=10)


def not_queued(now: datetime) -> Q:
    """Profiles with no sync queued (or one queued so long ago that it was lost)."""
    return Q(sync_queued_at__isnull=True) | Q(sync_queued_at__lt=now - QUEUED_TTL)


def mark_queued(user_pk: UserPk, now: datetime) -> bool:
    """Mark a sync of ``user_pk`` as queued; ``False`` when one already is."""
    if UpsolveProfile.objects.filter(not_queued(now), user_id=user_pk).update(sync_queued_at=now):
        return True
    if UpsolveProfile.objects.filter(user_id=user_pk).exists():
        return False
    try:
        with transaction.atomic(using=router.db_for_write(UpsolveProfile)):
            UpsolveProfile.objects.create(user_id=user_pk, sync_queued_at=now)
    except IntegrityError:  # Another request created it, and queued, first.
        return False
    return True


def mark_many_queued(profile_pks: Iterable[int], now: datetime) -> list[UserPk]:
    """Mark syncs of these profiles as queued; the user pks of those this call marked."""
    pks = list(profile_pks)
    UpsolveProfile.objects.filter(not_queued(now), pk__in=pks).update(sync_queued_at=now)
    marked = UpsolveProfile.objects.filter(pk__in=pks, sync_queued_at=now)
    return list(marked.values_list("user_id", flat=True))


def unmark_queued(user_pk: UserPk) -> None:
    """Let the next request queue a sync of ``user_pk`` again."""
    UpsolveProfile.objects.filter(user_id=user_pk).update(sync_queued_at=None)


def request_sync(user_pk: UserPk, *, fresh_token: bool = False) -> bool:
    """Queue one sync of ``user_pk`` unless one is queued already; ``True`` when one is now.

    ``fresh_token`` asks for a new token even when the stored one is still fresh (a login).
    The task is enqueued when the caller's transaction commits (at once outside one).
    """
    if not mark_queued(user_pk, timezone.now()):
        return True
    transaction.on_commit(
        partial(enqueue_sync, user_pk, fresh_token=fresh_token),
        using=router.db_for_write(UpsolveProfile),
    )
    return True


async def arequest_sync(user_pk: UserPk, *, fresh_token: bool = False) -> bool:
    """:func:`request_sync` for async code: the backend's ``aenqueue`` runs on the event loop."""
    if not await sync_to_async(mark_queued)(user_pk, timezone.now()):
        return True
    from .tasks import sync_user

    try:
        await sync_user.using(backend=upsolve_settings.TASK_BACKEND).aenqueue(
            str(user_pk), fresh_token=fresh_token
        )
    except Exception:
        logger.exception("Could not enqueue the Upsolve sync of user pk=%s.", user_pk)
        await sync_to_async(unmark_queued)(user_pk)
        return False
    return True


def enqueue_sync(
    user_pk: UserPk, *, fresh_token: bool = False, valid_for: float | None = None
) -> bool:
    """Enqueue the sync task of a user already marked as queued; unmark it if that fails."""
    from .tasks import sync_user

    try:
        sync_user.using(backend=upsolve_settings.TASK_BACKEND).enqueue(
            str(user_pk), fresh_token=fresh_token, valid_for=valid_for
        )
    except Exception:
        logger.exception("Could not enqueue the Upsolve sync of user pk=%s.", user_pk)
        unmark_queued(user_pk)
        return False
    return True
