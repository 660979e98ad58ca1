"""``manage.py upsolve_sync``: backfill of users who never logged in since install."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_upsolve.models import UpsolveProfile
from tests.helpers import make_user, override_upsolve

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("upsolve_sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_syncs_every_active_user(upsolve_sandbox):
    make_user("ada")
    make_user("bob")
    make_user("gone", is_active=False)
    out, _ = run()
    assert "Synced 2 user(s), 0 failed" in out
    assert UpsolveProfile.objects.filter(token_expires_at__isnull=False).count() == 2
    assert upsolve_sandbox.count("register-user") == 2


def test_only_named_users(upsolve_sandbox):
    make_user("ada")
    make_user("bob")
    run("bob")
    assert list(UpsolveProfile.objects.values_list("user__username", flat=True)) == ["bob"]


def test_unknown_user_is_an_error(upsolve_sandbox):
    with pytest.raises(CommandError, match="Unknown user"):
        run("nobody")


def test_users_left_out_by_the_adapter_are_skipped(upsolve_sandbox):
    make_user("ada", email="ada@acme.test")
    make_user("nomail")
    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        out, _ = run()
    assert "Synced 1 user(s), 0 failed, 1 not eligible." in out


def test_reregister_sends_the_user_again(upsolve_sandbox):
    make_user("ada")
    run()
    run("--reregister")
    assert upsolve_sandbox.count("register-user") == 2
    assert upsolve_sandbox.count("register-organization") == 1


def test_failures_are_reported_and_fail_the_command(upsolve_sandbox):
    make_user("ada")
    upsolve_sandbox.fail_next(422, {"status": "error", "errors": [{"field": "name"}]})
    with pytest.raises(CommandError, match="1 user"):
        run()
    assert UpsolveProfile.objects.get().last_error
