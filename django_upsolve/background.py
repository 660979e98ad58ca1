"""Background mode's queue side: requests only enqueue, a task worker talks to Upsolve.

At most one sync per membership is queued at a time. ``UpsolveProfile.sync_queued_at``
marks a queued sync: a conditional ``UPDATE`` sets it (atomic on every database, whatever
the cache does) and the task clears it when it ends. A mark older than ``QUEUED_TTL``
counts as lost (a worker died, a queue was flushed), so the next request queues again.

Tasks go to the backend ``UPSOLVE["TASK_BACKEND"]`` names, once the caller's transaction
commits: a worker never looks for a user or profile row it cannot see yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from . import stored_token
from .conf import upsolve_settings
from .memberships import Membership, membership_profile
from .models import UpsolveProfile
from .stored_token import UserPk, of_membership

logger = logging.getLogger(__name__)

#: A sync still marked as queued after this long is taken for lost and queued again.
QUEUED_TTL = timedelta(minutes=10)


def not_queued(now: datetime) -> Q:
    """Profiles with no sync queued (or one queued so long ago that it was lost)."""
    return Q(sync_queued_at__isnull=True) | Q(sync_queued_at__lt=now - QUEUED_TTL)


def mark_queued(membership: Membership, now: datetime, *, seen: bool = False) -> bool:
    """Mark a sync of ``membership`` as queued (and, if ``seen``, the member as seen now, in
    the same statement); ``False`` when one already is."""
    user_pk, tenant = membership.user.pk, membership.external_id
    lost_before = now - QUEUED_TTL
    if stored_token.mark_queued(user_pk, tenant, now=now, lost_before=lost_before, seen=seen):
        return True
    if of_membership(user_pk, tenant).exists():
        return False
    membership_profile(membership)  # A first use: the rows are created unmarked.
    return stored_token.mark_queued(user_pk, tenant, now=now, lost_before=lost_before, seen=seen)


def mark_many_queued(profile_pks: Iterable[int], now: datetime) -> list[tuple[UserPk, str]]:
    """Mark syncs of these profiles as queued; the memberships (user pk, tenant external id)
    of those this call marked."""
    pks = list(profile_pks)
    UpsolveProfile.objects.filter(not_queued(now), pk__in=pks).update(sync_queued_at=now)
    marked = UpsolveProfile.objects.filter(pk__in=pks, sync_queued_at=now)
    return list(marked.values_list("user_id", "tenant__external_id"))


def unmark_queued(user_pk: UserPk, tenant: str) -> None:
    """Let the next request queue a sync of this membership again."""
    of_membership(user_pk, tenant).update(sync_queued_at=None)


def request_sync(membership: Membership, *, fresh_token: bool = False, seen: bool = False) -> bool:
    """Queue one sync of ``membership`` unless one is queued already; ``True`` when one is.

    ``fresh_token`` asks for a new token even when the stored one is still fresh (a login);
    ``seen`` records the member as seen now. The task is enqueued when the caller's
    transaction commits (at once outside one).
    """
    if not mark_queued(membership, timezone.now(), seen=seen):
        return True
    transaction.on_commit(
        partial(enqueue_sync, membership.user.pk, membership.external_id, fresh_token=fresh_token),
        using=router.db_for_write(UpsolveProfile),
    )
    return True


def enqueue_sync(
    user_pk: UserPk, tenant: str, *, fresh_token: bool = False, valid_for: float | None = None
) -> bool:
    """Enqueue the sync task of a membership already marked as queued; unmark it on failure."""
    from .tasks import sync_user

    try:
        sync_user.using(backend=upsolve_settings.TASK_BACKEND).enqueue(
            str(user_pk), tenant=tenant, fresh_token=fresh_token, valid_for=valid_for
        )
    except Exception:
        logger.exception("Could not enqueue the Upsolve sync of user pk=%s.", user_pk)
        unmark_queued(user_pk, tenant)
        return False
    return True
