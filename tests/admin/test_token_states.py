"""A profile's token state is the same whether read in Python (badges) or SQL (filters)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from django_upsolve.models import TokenState, UpsolveProfile

pytestmark = pytest.mark.django_db

MARGIN = 300


def assert_state(profile: UpsolveProfile, now: datetime, expected: TokenState) -> None:
    """Python (the badge) and SQL (the filter) put ``profile`` in ``expected``, only there."""
    profile.refresh_from_db()
    assert profile.token_state(MARGIN, now=now) == expected
    for state in TokenState:
        found = UpsolveProfile.objects.in_token_state(state, margin=MARGIN, now=now).exists()
        assert found == (state == expected), state


@pytest.mark.parametrize(
    ("seconds_left", "expected"),
    [
        (-3600, TokenState.EXPIRED),
        (-1, TokenState.EXPIRED),
        (0, TokenState.EXPIRED),
        (1, TokenState.EXPIRING),
        (MARGIN, TokenState.EXPIRING),
        (MARGIN + 1, TokenState.VALID),
        (86400, TokenState.VALID),
    ],
)
def test_python_and_sql_agree_at_the_boundaries(make_profile, seconds_left, expected):
    now = timezone.now()
    profile = make_profile()
    expires_at = now + timedelta(seconds=seconds_left)
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        token_expires_at=expires_at, token_refreshed_at=expires_at - timedelta(hours=1)
    )
    assert_state(profile, now, expected)


@pytest.mark.parametrize(
    ("received_ago", "expected"),
    [(10, TokenState.VALID), (59, TokenState.VALID), (61, TokenState.EXPIRING)],
)
def test_a_token_shorter_than_twice_the_margin_is_fresh_for_half_its_life(
    make_profile, received_ago, expected
):
    # A 120 s token and a 300 s margin: fresh while more time is left than has passed.
    now = timezone.now()
    received_at = now - timedelta(seconds=received_ago)
    profile = make_profile()
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        token_refreshed_at=received_at, token_expires_at=received_at + timedelta(seconds=120)
    )
    assert_state(profile, now, expected)


@pytest.mark.parametrize(
    "fields", [{"token": ""}, {"token_expires_at": None}, {"token": "", "token_expires_at": None}]
)
def test_no_token_or_no_expiry_is_none(make_profile, fields):
    profile = make_profile()
    UpsolveProfile.objects.filter(pk=profile.pk).update(**fields)
    profile.refresh_from_db()

    assert profile.token_state(MARGIN) == TokenState.NONE
    assert list(UpsolveProfile.objects.in_token_state(TokenState.NONE, margin=MARGIN)) == [profile]
