"""The adapter is asked once per operation, and what it wants is compared with what was sent."""

from __future__ import annotations

from collections import Counter

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils.functional import SimpleLazyObject

from django_upsolve import services
from django_upsolve.adapter import Tenant
from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile
from django_upsolve.payloads import OrganizationFields, UserFields
from tests.adapters import counting_adapter

pytestmark = pytest.mark.django_db

EVERY_HOOK_ONCE = Counter(
    is_eligible=1, get_tenant=1, get_user_name=1, get_user_properties=1, get_role_id=1
)


def make_user(username: str = "ada", **fields: object):
    return get_user_model().objects.create_user(username, password="pw", **fields)


def paths(sandbox, start: int = 0) -> list[str]:
    return [call.path for call in sandbox.calls[start:]]


def test_a_membership_asks_for_the_tenant_now_and_the_user_fields_once_when_read():
    user = make_user(first_name="Ada")
    with counting_adapter() as calls:
        membership = services.membership_of(user)
        assert membership is not None
        assert calls == Counter(is_eligible=1, get_tenant=1)
        assert membership.tenant == Tenant(external_id=f"user-{user.pk}", name="ada")
        assert membership.user_fields == UserFields(
            name="Ada",
            role_id=upsolve_settings.DEFAULT_ROLE_ID,
            properties={"organization_id": f"user-{user.pk}"},
        )
        assert membership.user_fields is membership.user_fields
        assert membership.organization_fields == OrganizationFields(
            external_id=f"user-{user.pk}", name="ada", properties={}
        )
    assert calls == EVERY_HOOK_ONCE


def test_a_user_the_adapter_leaves_out_has_no_membership():
    user = make_user(is_active=False)
    with counting_adapter() as calls:
        assert services.membership_of(user) is None
    assert calls == Counter(is_eligible=1)


def test_a_first_login_asks_the_adapter_once(upsolve_sandbox):
    user = make_user()
    with counting_adapter() as calls:
        profile = services.sync_login(user)
    assert profile is not None and profile.token
    assert paths(upsolve_sandbox) == ["register-organization", "register-user", "user-token"]
    assert calls == EVERY_HOOK_ONCE


def test_a_user_upsolve_forgot_is_registered_again_from_the_same_answers(upsolve_sandbox):
    user = make_user()
    services.sync_login(user)
    upsolve_sandbox.users().delete()
    with counting_adapter() as calls:
        services.sync_login(user)
    assert paths(upsolve_sandbox, 3) == ["user-token", "register-user", "user-token"]
    assert calls == EVERY_HOOK_ONCE


def test_a_page_with_a_fresh_token_asks_each_hook_once_and_calls_nothing(upsolve_sandbox):
    """The member's fields are asked too: their fingerprint must match the token's."""
    user = make_user()
    services.sync_login(user)
    with counting_adapter() as calls:
        profile = services.get_fresh_profile(user)
    assert profile == UpsolveProfile.objects.get(user=user)
    assert len(upsolve_sandbox.calls) == 3
    assert calls == EVERY_HOOK_ONCE


def test_details_that_clean_to_what_was_sent_register_nobody_again(upsolve_sandbox):
    """Compared as built: the role in any UUID spelling, the name in any spacing, is the same."""
    user = make_user(first_name="Ada\n", last_name="Lovelace")
    role = upsolve_settings.DEFAULT_ROLE_ID
    services.sync_login(user)
    profile = UpsolveProfile.objects.get(user=user)
    assert (profile.name, str(profile.role_id)) == ("Ada Lovelace", role)
    with override_settings(UPSOLVE={**upsolve_settings.raw, "DEFAULT_ROLE_ID": role.upper()}):
        services.sync_login(user)
        assert paths(upsolve_sandbox, 3) == ["user-token"]
        user.last_name = "King"
        services.sync_login(user)
    assert paths(upsolve_sandbox, 4) == ["register-user", "user-token"]
    assert UpsolveProfile.objects.get(user=user).name == "Ada King"


def test_get_token_never_raises_for_a_user_that_cannot_load(caplog):
    def session_store_down():
        raise RuntimeError("session store down")

    assert services.get_token(SimpleLazyObject(session_store_down)) is None
    assert async_to_sync(services.aget_token)(SimpleLazyObject(session_store_down)) is None
    assert "Could not get an Upsolve token for user pk=None." in caplog.text


@pytest.mark.django_db
def test_get_token_on_the_event_loop_says_to_await_aget_token(caplog):
    users = get_user_model()._default_manager
    ada = users.create(username="ada")

    async def view_that_forgot_the_a():
        return services.get_token(SimpleLazyObject(lambda: users.get(pk=ada.pk)))

    assert async_to_sync(view_that_forgot_the_a)() is None
    (record,) = [r for r in caplog.records if r.name == "django_upsolve.services"]
    assert (record.levelname, record.exc_info) == ("ERROR", None)
    assert "use aget_token() in async code" in record.getMessage()
