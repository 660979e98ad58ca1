"""Access that changes within a tenant takes effect at the next render, in either mode."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.utils import timezone

from django_upsolve import services
from django_upsolve.adapter import Tenant, UpsolveAdapter
from django_upsolve.exceptions import UpsolveUnavailable
from django_upsolve.models import UpsolveProfile
from django_upsolve.services import FAILED_SYNC_PAUSE
from django_upsolve.sync import _UserSync
from tests.embed.helpers import elements, make_request, query, render
from tests.helpers import hour_token_ending, make_user, override_upsolve

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embed.urls")]

VIEWER = "44444444-4444-4444-8444-444444444444"
EDITOR = "55555555-5555-4555-8555-555555555555"


class RoleAdapter(UpsolveAdapter):
    """One shared tenant; the role and a property come from class attributes a test changes."""

    role: ClassVar[str] = EDITOR
    region: ClassVar[str] = "eu"

    def get_tenant(self, user: Any) -> Tenant | None:
        return Tenant(external_id="acme", name="Acme")

    def get_role_id(self, user: Any, tenant: Tenant | None = None) -> str:
        return self.role

    def get_user_properties(self, user: Any, tenant: Tenant) -> dict[str, str]:
        return {"organization_id": tenant.external_id, "region": self.region}


@pytest.fixture
def role_adapter(monkeypatch):
    monkeypatch.setattr(RoleAdapter, "role", EDITOR)
    monkeypatch.setattr(RoleAdapter, "region", "eu")
    with override_upsolve(ADAPTER=f"{__name__}.RoleAdapter"):
        yield RoleAdapter


def embedded(user) -> str | None:
    frames = elements(render('{% upsolve_dashboard "d" %}', make_request(user)), "iframe")
    return dict(query(frames[0].get("src") or frames[0]["data-upsolve-src"])).get("jwt")


def demoted_after_login(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    """Ada, logged in as an editor and then made a viewer, and the token of her login."""
    ada = make_user("ada")
    services.sync_login(ada)
    monkeypatch.setattr(RoleAdapter, "role", VIEWER)
    return ada, UpsolveProfile.objects.get().token


@pytest.mark.parametrize("change", ["role", "region"])
def test_a_demoted_member_gets_a_new_token_at_the_next_render(
    role_adapter, upsolve_sandbox, monkeypatch, change
):
    ada = make_user("ada")
    services.sync_login(ada)
    before = embedded(ada)
    monkeypatch.setattr(RoleAdapter, change, VIEWER if change == "role" else "us")
    after = embedded(ada)
    assert after and after != before
    assert upsolve_sandbox.count("register-user") == 2  # told the new access first
    profile = UpsolveProfile.objects.get()
    assert (str(profile.role_id), profile.properties["region"]) == (
        RoleAdapter.role,
        RoleAdapter.region,
    )
    assert embedded(ada) == after  # and then steady: no more calls
    assert upsolve_sandbox.count("user-token") == 2


def test_in_background_mode_the_old_token_is_not_served_after_a_change(
    role_adapter, upsolve_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    ada, token = demoted_after_login(monkeypatch)
    with (
        override_upsolve(SYNC_ON_LOGIN="background", TASK_BACKEND="dummy"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        html = render('{% upsolve_dashboard "d" %}', make_request(ada))
    assert token not in html
    (frame,) = elements(html, "iframe")
    assert "hidden" in frame  # pending until the queued sync registers the new role


def test_invalidate_voids_the_token_before_the_next_render(role_adapter, upsolve_sandbox):
    ada = make_user("ada")
    services.sync_login(ada)
    assert embedded(ada)
    assert services.invalidate(ada) == 1
    assert UpsolveProfile.objects.get().token == ""
    assert embedded(ada) == UpsolveProfile.objects.get().token != ""
    assert upsolve_sandbox.count("user-token") == 2  # a new token was fetched for the page
    assert upsolve_sandbox.count("register-user") == 1  # same access: no registration


def test_an_invalidation_during_a_registration_holds(role_adapter, upsolve_sandbox, monkeypatch):
    """The registration saves what it changed, not the token it read before the call."""
    from django_upsolve.client import UpsolveClient

    ada = make_user("ada")
    services.sync_login(ada)
    register_user = UpsolveClient.register_user

    def register_then_invalidate(self, **kwargs):
        result = register_user(self, **kwargs)
        services.invalidate(ada)  # meanwhile, in another request
        upsolve_sandbox.fail_next(503, times=10)  # and the new token's call fails
        return result

    monkeypatch.setattr(UpsolveClient, "register_user", register_then_invalidate)
    with pytest.raises(UpsolveUnavailable):
        services.reregister(ada)
    assert UpsolveProfile.objects.get().token == ""
    assert services.get_token(ada) is None


def test_when_upsolve_is_down_a_changed_member_is_not_served_the_old_token(
    role_adapter, upsolve_sandbox, monkeypatch
):
    ada, old = demoted_after_login(monkeypatch)
    upsolve_sandbox.fail_next(503, times=100)
    assert services.get_token(ada) is None
    html = render('{% upsolve_dashboard "d" %}', make_request(ada))
    assert old not in html
    assert 'data-upsolve-placeholder="unavailable"' in html
    # Nor once the pause after the failure is over.
    UpsolveProfile.objects.update(last_error_at=timezone.now() - FAILED_SYNC_PAUSE)
    assert services.get_token(ada) is None
    assert services.get_token(ada, force=True) is None


@pytest.mark.parametrize(("lifetime", "left"), [(3600, 200), (120, 40)])
def test_when_a_refresh_fails_the_stale_token_is_embedded_while_it_lasts(
    role_adapter, upsolve_sandbox, lifetime, left
):
    ada = make_user("ada")
    with override_upsolve(TOKEN_EXPIRATION=lifetime):
        services.sync_login(ada)
        now = timezone.now()
        UpsolveProfile.objects.update(
            token_refreshed_at=now - timedelta(seconds=lifetime - left),
            token_expires_at=now + timedelta(seconds=left),
        )
        token = UpsolveProfile.objects.get().token
        upsolve_sandbox.fail_next(503, times=100)
        assert embedded(ada) == token
        calls = upsolve_sandbox.count("user-token")
        assert calls > 1  # the refresh was tried, and failed
        assert UpsolveProfile.objects.get().last_error_at is not None
        assert services.get_token(ada) == token  # during the pause, without a call
        assert upsolve_sandbox.count("user-token") == calls
        # A token with less than MIN_USABLE_LIFE left is not worth a frame.
        UpsolveProfile.objects.update(token_expires_at=timezone.now() + timedelta(seconds=2))
        assert services.get_token(ada) is None


def refuse_tokens(self: Any, tenant: Any) -> None:
    raise UpsolveUnavailable("Upsolve user-token: HTTP 503")


@pytest.mark.parametrize("left", [3000, 200])  # fresh, and inside the refresh margin
def test_a_registration_whose_token_call_fails_voids_the_old_token(
    role_adapter, upsolve_sandbox, monkeypatch, left
):
    ada, old = demoted_after_login(monkeypatch)
    UpsolveProfile.objects.update(**hour_token_ending(timezone.now() + timedelta(seconds=left)))
    monkeypatch.setattr(_UserSync, "_user_token", refuse_tokens)
    assert services.get_token(ada) is None  # registered as a viewer, then no token
    assert upsolve_sandbox.count("register-user") == 2
    assert UpsolveProfile.objects.get().token == ""
    for _ in range(2):  # nor on later pages, during the pause after the failure or after it
        assert old not in render('{% upsolve_dashboard "d" %}', make_request(ada))
        UpsolveProfile.objects.update(last_error_at=timezone.now() - FAILED_SYNC_PAUSE)


def test_in_background_mode_a_failed_token_call_after_a_registration_serves_nothing_old(
    role_adapter, upsolve_sandbox, monkeypatch
):
    ada, old = demoted_after_login(monkeypatch)
    monkeypatch.setattr(_UserSync, "_user_token", refuse_tokens)
    with pytest.raises(UpsolveUnavailable):
        services.sync_in_background(ada)  # what the queued task runs
    with override_upsolve(SYNC_ON_LOGIN="background", TASK_BACKEND="dummy"):
        html = render('{% upsolve_dashboard "d" %}', make_request(ada))
    assert old not in html
    assert 'data-upsolve-placeholder="unavailable"' in html  # failed just now: paused


def test_the_stale_token_is_judged_as_it_is_once_the_failed_refresh_is_over(
    role_adapter, upsolve_sandbox, monkeypatch
):
    ada = make_user("ada")
    services.sync_login(ada)
    UpsolveProfile.objects.update(**hour_token_ending(timezone.now() + timedelta(seconds=60)))

    def slow_refusal(self: Any, tenant: Any) -> None:
        # While the call hangs, the token nears its end (or an operator voids it).
        UpsolveProfile.objects.update(token_expires_at=timezone.now() + timedelta(seconds=3))
        refuse_tokens(self, tenant)

    monkeypatch.setattr(_UserSync, "_user_token", slow_refusal)
    assert services.get_token(ada) is None


def test_a_demotion_upsolve_answers_with_a_409_is_a_failure_not_applied(
    role_adapter, upsolve_sandbox, monkeypatch
):
    ada, editor_token = demoted_after_login(monkeypatch)
    profile = UpsolveProfile.objects.get()
    upsolve_sandbox.fail_next(
        409, {"status": "error", "data": {"userId": str(profile.upsolve_user_id)}}
    )
    html = render('{% upsolve_dashboard "d" %}', make_request(ada))
    assert 'data-upsolve-placeholder="unavailable"' in html  # not the editor's token
    assert editor_token not in html
    profile.refresh_from_db()
    assert str(profile.role_id) == EDITOR  # what Upsolve still holds
    assert profile.last_error.startswith("Upsolve register-user: HTTP 409 The user exists;")
    assert upsolve_sandbox.count("user-token") == 1  # no token asked for the unconfirmed access
