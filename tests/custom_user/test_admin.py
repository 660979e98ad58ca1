"""The admin with an e-mail login user model; run by ``tests/core/test_custom_user_model.py``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from django_upsolve.admin.display import mask_token
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from tests.helpers import make_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.custom_user.admin_urls")]

PROFILES = "/ops/django_upsolve/upsolveprofile/"
USERS = "/ops/custom_user/emailuser/"


@pytest.fixture
def operator(set_upsolve) -> Client:
    set_upsolve(SYNC_ON_LOGIN=False)
    user = get_user_model().objects.create_superuser("root@ops.test", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def profile() -> UpsolveProfile:
    user = get_user_model().objects.create_user("ada@acme.test", display_name="Ada")
    tenant = UpsolveTenant.objects.create(external_id="acme", name="Acme")
    return UpsolveProfile.objects.create(user=user, tenant=tenant, token=make_jwt())


def test_profiles_list_and_search_by_email(operator, profile):
    assert operator.get(PROFILES).status_code == 200
    found = operator.get(PROFILES, {"q": "ada@acme"}).context["cl"].result_list
    assert list(found) == [profile]
    assert list(operator.get(PROFILES, {"q": "nobody"}).context["cl"].result_list) == []


def test_profile_page_links_to_the_user_admin(operator, profile):
    html = operator.get(f"{PROFILES}{profile.pk}/change/").content.decode()

    assert f'href="{USERS}{profile.user.pk}/change/">ada@acme.test</a>' in html
    assert f'href="/ops/django_upsolve/upsolvetenant/{profile.tenant.pk}/change/"' in html


def test_user_page_shows_the_profile_inline(operator, profile):
    html = operator.get(f"{USERS}{profile.user.pk}/change/").content.decode()

    assert f'<a href="{PROFILES}{profile.pk}/change/">{profile.upsolve_user_id}</a>' in html
    assert f"<code>{mask_token(profile.token)}</code>" in html
    assert profile.token not in html
