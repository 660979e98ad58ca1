"""The request path's one read: a membership's stored token, as a narrow row.

A page with several embeds, the token endpoint and ``get_token`` all start here. The read
selects only the columns a decision needs (no profile instance, one join to the tenant's
external id) and touches no cache, so a page whose user holds a fresh token costs one small
query and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet, Subquery
from django.utils import timezone

from .models import UpsolveProfile, UpsolveTenant
from .tokens import is_fresh, is_jwt_shaped

#: A user's primary key as the ORM takes it (an ``int``, a ``str``; a ``UUID`` passes as one).
UserPk = int | str

#: A stale token is still embedded while this many seconds are left: enough for the frame
#: to load before Upsolve refuses it.
MIN_USABLE_LIFE = 5

#: The columns read, in :class:`StoredToken`'s order.
COLUMNS = (
    "token",
    "token_expires_at",
    "token_refreshed_at",
    "access_fingerprint",
    "last_error_at",
    "sync_queued_at",
    "last_seen_at",
)


@dataclass(frozen=True)
class StoredToken:
    """What the database holds for one user, read in one query."""

    token: str
    expires_at: datetime | None
    refreshed_at: datetime | None
    fingerprint: str
    last_error_at: datetime | None
    sync_queued_at: datetime | None
    last_seen_at: datetime | None

    def __repr__(self) -> str:
        return f"StoredToken(expires_at={self.expires_at!r})"

    def usable(self, fingerprint: str | None, *, now: datetime) -> bool:
        """A JWT issued for this access (``fingerprint``; ``None``: access that cannot be
        told) with time to load a dashboard left (``MIN_USABLE_LIFE``; it may be inside the
        refresh margin)."""
        return (
            self.fingerprint == fingerprint
            and is_jwt_shaped(self.token)
            and is_fresh(self.expires_at, MIN_USABLE_LIFE, now=now)
        )

    def fresh(self, margin: float, *, now: datetime) -> bool:
        """Valid for at least ``margin`` more seconds (cut to fit a short token's lifetime)."""
        return is_fresh(self.expires_at, margin, now=now, received_at=self.refreshed_at)

    def failed_within(self, pause: timedelta, *, now: datetime) -> bool:
        return self.last_error_at is not None and now - self.last_error_at < pause

    def queued_within(self, ttl: timedelta, *, now: datetime) -> bool:
        return self.sync_queued_at is not None and now - self.sync_queued_at < ttl

    def seen_within(self, window: timedelta, *, now: datetime) -> bool:
        return self.last_seen_at is not None and now - self.last_seen_at < window


def of_membership(user_pk: UserPk, tenant: str) -> QuerySet[UpsolveProfile]:
    """The profile of user ``user_pk`` in the tenant whose external id is ``tenant``.

    The tenant is a scalar subquery, not a join: PostgreSQL plans it faster, and an
    ``UPDATE`` through it needs no ``pk IN (SELECT …)`` around a join.
    """
    tenant_pk = UpsolveTenant.objects.filter(external_id=tenant).order_by().values("pk")[:1]
    return UpsolveProfile.objects.filter(user_id=user_pk, tenant_id=Subquery(tenant_pk))


def read_stored_token(user_pk: UserPk, tenant: str) -> StoredToken | None:
    """The stored token row of a membership, or ``None`` when it has no profile yet.

    The ORM compiles the query once per database; each read then runs that SQL with the
    membership's two values. Building and compiling a queryset costs about twice the query
    itself, and this read runs on every page that embeds a dashboard.
    """
    alias = router.db_for_read(UpsolveProfile)
    connection = connections[alias]
    user_field = UpsolveProfile._meta.get_field("user")
    values_in = (user_field.get_db_prep_value(user_pk, connection), tenant)
    sql, params = _compiled_sql(alias, values_in)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
    if values is None:
        return None
    token, expires_at, refreshed_at, fingerprint, *moments = values
    return StoredToken(
        token,
        _aware(expires_at, connection),
        _aware(refreshed_at, connection),
        fingerprint,
        *(_aware(moment, connection) for moment in moments),
    )


#: The read's SQL per database alias, compiled by the ORM on the first read, with the order
#: in which it takes the user's pk (0) and the tenant's external id (1).
_SQL: dict[str, tuple[str, tuple[int, ...]]] = {}


def _compiled_sql(alias: str, values: tuple[Any, str]) -> tuple[str, list[Any]]:
    """The read's SQL on database ``alias`` and its parameters for ``values``.

    The order the SQL takes the two values in is read off where the ORM laid them out. When
    they print alike either order fits: that read runs with the ORM's own parameters, and
    the first read with distinct values is the one remembered.
    """
    compiled = _SQL.get(alias)
    if compiled is not None:
        sql, order = compiled
        return sql, [values[index] for index in order]
    user_pk, tenant = values
    query = of_membership(user_pk, tenant).using(alias).order_by()
    sql, params = query.values_list(*COLUMNS)[:1].query.sql_with_params()
    laid_out = [str(value) for value in params]
    orders = [order for order in ((0, 1), (1, 0)) if [str(values[i]) for i in order] == laid_out]
    if not orders:
        raise ImproperlyConfigured("The stored-token query's parameters are not as expected.")
    if len(orders) == 1:
        _SQL[alias] = (str(sql), orders[0])
    return str(sql), list(params)


def _aware(value: datetime | None, connection: BaseDatabaseWrapper) -> datetime | None:
    """A moment as the ORM would return it: aware, in the database connection's time zone
    where the backend returns naive values (SQLite)."""
    if value is None or not settings.USE_TZ or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, connection.timezone)


def mark_queued(
    user_pk: UserPk, tenant: str, *, now: datetime, lost_before: datetime, seen: bool
) -> bool:
    """Set a membership's ``sync_queued_at`` to ``now`` unless a sync was queued after
    ``lost_before`` (and, if ``seen``, its ``last_seen_at`` too); ``True`` if the row changed.

    Every background login runs this. Like the read, its SQL is built once per database:
    the ORM's update through a subquery costs more to build than to run.
    """
    alias = router.db_for_write(UpsolveProfile)
    connection = connections[alias]
    prep = UpsolveProfile._meta.get_field("sync_queued_at").get_db_prep_value
    user_pk_in = UpsolveProfile._meta.get_field("user").get_db_prep_value(user_pk, connection)
    now_in = prep(now, connection)
    params = [
        now_in,
        *([now_in] if seen else []),
        user_pk_in,
        tenant,
        prep(lost_before, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_queue_sql(alias, seen), params)
        return bool(cursor.rowcount)


#: The conditional update's SQL per (database alias, whether it sets ``last_seen_at``).
_QUEUE_SQL: dict[tuple[str, bool], str] = {}


def _queue_sql(alias: str, seen: bool) -> str:
    """The ``UPDATE`` of :func:`mark_queued`, its parameters in that function's order: the
    new values, the user's pk, the tenant's external id, the lost-before moment."""
    sql = _QUEUE_SQL.get((alias, seen))
    if sql is None:
        quote = connections[alias].ops.quote_name
        profile, tenant = UpsolveProfile._meta, UpsolveTenant._meta

        def column(model: type[Model], name: str) -> str:
            field = model._meta.get_field(name)
            assert isinstance(field, Field)
            assert field.column is not None  # every field named here has a column
            return quote(field.column)

        queued = column(UpsolveProfile, "sync_queued_at")
        changes = [queued, *([column(UpsolveProfile, "last_seen_at")] if seen else [])]
        assignments = ", ".join(f"{name} = %s" for name in changes)
        # Only the models' own table and column names, quoted, go into the text; every
        # value is a parameter.
        sql = _QUEUE_SQL[(alias, seen)] = (
            f"UPDATE {quote(profile.db_table)} SET {assignments}"  # noqa: S608
            f" WHERE {column(UpsolveProfile, 'user')} = %s"
            f" AND {column(UpsolveProfile, 'tenant')} = (SELECT {column(UpsolveTenant, 'id')}"
            f" FROM {quote(tenant.db_table)} WHERE {column(UpsolveTenant, 'external_id')} = %s)"
            f" AND ({queued} IS NULL OR {queued} < %s)"
        )
    return sql


def mark_seen(user_pk: UserPk, tenant: str, *, now: datetime | None = None) -> None:
    """Record that a member is here now: the proactive refresh serves those seen lately."""
    of_membership(user_pk, tenant).update(last_seen_at=now or timezone.now())
