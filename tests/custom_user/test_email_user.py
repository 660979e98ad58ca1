"""Run by ``tests/core/test_custom_user_model.py`` under ``tests.custom_user.settings``."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.services import get_token

pytestmark = pytest.mark.django_db


def test_the_swapped_model_is_in_use():
    assert get_user_model()._meta.label == "custom_user.EmailUser"


def test_login_by_email_registers_and_stores_a_token(client, upsolve_sandbox):
    user = get_user_model().objects.create_user(
        "ada@acme.test", password="pw", display_name="Ada L."
    )
    assert isinstance(user.pk, uuid.UUID)
    response = client.post("/accounts/login/", {"username": "ada@acme.test", "password": "pw"})
    assert response.status_code == 302
    profile = UpsolveProfile.objects.get(user=user)
    tenant = UpsolveTenant.objects.get()
    assert tenant.external_id == f"user-{user.pk}"
    assert tenant.name == "ada@acme.test"
    assert profile.name == "Ada L."
    assert profile.has_fresh_token(300)
    assert [c.path for c in upsolve_sandbox.calls] == [
        "register-organization",
        "register-user",
        "user-token",
    ]
    assert upsolve_sandbox.calls[1].json_body["properties"] == {
        "organization_id": f"user-{user.pk}"
    }
    assert get_token(user) == profile.token
    assert list(user.upsolve_profiles.all()) == [profile]
