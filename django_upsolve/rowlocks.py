"""Database row locks for syncs, their waits bounded by the operation's budget.

The tenant row is locked while it is registered, and a user's profile row while the user is
synced if the cache lock could not be had (the cache is down). On PostgreSQL ``SET LOCAL
lock_timeout`` bounds the wait for a row another transaction holds, so a sync stalled
elsewhere costs a login at most its remaining budget. Databases without row locks (SQLite)
serialise writers themselves: there no lock is taken and unique constraints decide.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import OperationalError, connections, transaction
from django.db.models import Model, QuerySet

from .locks import LockTimeout

M = TypeVar("M", bound=Model)


def has_row_locks(using: str) -> bool:
    """Whether ``SELECT … FOR UPDATE`` locks rows on database ``using``."""
    return bool(connections[using].features.has_select_for_update)


@contextmanager
def row_locked(queryset: QuerySet[M], pk: object, *, wait: float) -> Iterator[M]:
    """Row ``pk`` of ``queryset``, locked until the block ends (in a transaction of its own).

    Raises ``LockTimeout`` when another transaction holds the row for more than ``wait``
    seconds. Where rows cannot be locked, the row is read without a lock or transaction.
    """
    using = queryset.db
    if not has_row_locks(using):
        yield queryset.get(pk=pk)
        return
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor != "postgresql":
            yield _lock(queryset, pk)
            return
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            (previous,) = cursor.fetchone()
            # An int, never user input: SET takes no bind parameters.
            cursor.execute(f"SET LOCAL lock_timeout = {max(int(wait * 1000), 1)}")
            # A timeout rolls the savepoint back, and the setting with it. Held, the setting is
            # put back: SET LOCAL outlives a released savepoint, and under ATOMIC_REQUESTS the
            # caller's own queries would inherit the bound.
            row = _lock(queryset, pk)
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        yield row


def _lock(queryset: QuerySet[M], pk: object) -> M:
    try:
        return queryset.select_for_update().get(pk=pk)
    except OperationalError as err:
        raise LockTimeout(f"row {pk} of {queryset.model._meta.label}") from err
