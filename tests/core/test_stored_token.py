"""The request path's own SQL: the narrow read and the login's queue mark, built once per
database and then run with each membership's values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_upsolve import stored_token
from django_upsolve.models import UpsolveProfile
from django_upsolve.stored_token import mark_queued, read_stored_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_built(monkeypatch):
    """Each test builds the SQL from scratch, as a new process would."""
    monkeypatch.setattr(stored_token, "_SQL", {})
    monkeypatch.setattr(stored_token, "_QUEUE_SQL", {})


def test_a_first_read_whose_two_values_are_equal_leaves_the_order_to_a_later_read(
    make_tenant, make_profile
):
    # The user's pk and the tenant's external id print alike: either parameter order fits.
    first = make_profile("ada")
    twin = make_tenant(external_id=str(first.user_id))
    UpsolveProfile.objects.filter(pk=first.pk).update(tenant=twin)
    other = make_profile("bob")

    row = read_stored_token(first.user_id, str(first.user_id))
    assert row is not None
    assert row.token == first.token
    assert stored_token._SQL == {}  # nothing remembered from an ambiguous layout

    row = read_stored_token(other.user_id, other.tenant.external_id)
    assert row is not None
    assert row.token == other.token
    assert read_stored_token(other.user_id, str(first.user_id)) is None
    assert read_stored_token(first.user_id, other.tenant.external_id) is None


def test_the_queue_mark_is_set_once_until_it_is_lost(make_profile):
    profile = make_profile("ada")
    user_pk, tenant = profile.user_id, profile.tenant.external_id
    now = timezone.now()

    def mark(at, *, seen=False):
        return mark_queued(
            user_pk, tenant, now=at, lost_before=at - timedelta(minutes=10), seen=seen
        )

    assert mark(now) is True
    assert mark(now + timedelta(minutes=9)) is False
    profile.refresh_from_db()
    assert profile.sync_queued_at == now
    assert profile.last_seen_at is None

    later = now + timedelta(minutes=11)  # the first mark counts as lost
    assert mark(later, seen=True) is True
    profile.refresh_from_db()
    assert (profile.sync_queued_at, profile.last_seen_at) == (later, later)


def test_the_queue_mark_touches_only_the_membership_named(make_tenant, make_profile):
    ada = make_profile("ada")
    ada_elsewhere = make_profile("ada2", tenant=make_tenant())
    UpsolveProfile.objects.filter(pk=ada_elsewhere.pk).update(user_id=ada.user_id)
    now = timezone.now()

    assert mark_queued(ada.user_id, ada.tenant.external_id, now=now, lost_before=now, seen=False)
    assert not mark_queued(ada.user_id, "no-such-tenant", now=now, lost_before=now, seen=False)
    queued = dict(UpsolveProfile.objects.values_list("pk", "sync_queued_at"))
    assert queued == {ada.pk: now, ada_elsewhere.pk: None}
