"""``manage.py upsolve_sync``: backfill of users who never logged in since install."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_upsolve import breaker
from django_upsolve.adapter import Tenant, UpsolveAdapter
from django_upsolve.management.commands import upsolve_sync
from django_upsolve.models import UpsolveProfile
from tests.commands.helpers import without_logging
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


def test_an_adapter_bug_fails_that_user_only(upsolve_sandbox, caplog):
    for name in ("ada", "bob", "carol"):
        make_user(name)
    out, err = StringIO(), StringIO()
    with (
        override_upsolve(ADAPTER="tests.adapters.BuggyForBobAdapter"),
        pytest.raises(CommandError, match=r"^1 user\(s\) could not be synced\.$"),
    ):
        call_command("upsolve_sync", stdout=out, stderr=err)
    assert err.getvalue() == "bob: KeyError: 'plan'\n"
    assert "Synced 2 user(s), 1 failed, 0 not eligible." in out.getvalue()
    synced = UpsolveProfile.objects.filter(token_expires_at__isnull=False)
    assert sorted(synced.values_list("user__username", flat=True)) == ["ada", "carol"]
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.name == "django_upsolve.management.commands.upsolve_sync"


# Output: progress, verbosity, each failure once ------------------------------------------


def test_progress_lines_on_long_runs(upsolve_sandbox, monkeypatch):
    monkeypatch.setattr(upsolve_sync, "PROGRESS_EVERY", 2)
    for n in range(5):
        make_user(f"user{n}")

    out, err = run()

    assert out.splitlines() == [
        "2 of 5 user(s) (40%): 2 synced, 0 failed, 0 not eligible",
        "4 of 5 user(s) (80%): 4 synced, 0 failed, 0 not eligible",
        "Synced 5 user(s), 0 failed, 0 not eligible.",
    ]
    assert err == ""


def test_short_runs_print_only_the_summary(upsolve_sandbox):
    make_user("ada")

    assert run() == ("Synced 1 user(s), 0 failed, 0 not eligible.\n", "")


def test_verbosity_2_prints_a_line_per_user_and_no_progress(upsolve_sandbox, monkeypatch):
    monkeypatch.setattr(upsolve_sync, "PROGRESS_EVERY", 1)
    make_user("ada", email="ada@acme.test")
    make_user("nomail")

    with override_upsolve(ADAPTER="tests.adapters.DomainTenantAdapter"):
        out, _ = run("-v", "2")

    assert out.splitlines() == [
        "ada: ok",
        "nomail: not eligible",
        "Synced 1 user(s), 0 failed, 1 not eligible.",
    ]


def test_verbosity_0_prints_only_failures(upsolve_sandbox, monkeypatch):
    monkeypatch.setattr(upsolve_sync, "PROGRESS_EVERY", 1)
    make_user("ada")
    make_user("bob")
    upsolve_sandbox.fail_next(422, {"status": "error", "errors": [{"field": "name"}]})

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 user"):
        call_command("upsolve_sync", verbosity=0, stdout=out, stderr=err)

    assert out.getvalue() == ""
    assert err.getvalue().startswith("ada: Upsolve register-organization: ")
    assert err.getvalue().count("\n") == 1


def test_verbosity_0_prints_nothing_when_all_went_well(upsolve_sandbox):
    make_user("ada")

    assert run("-v", "0") == ("", "")


def test_each_failure_is_written_once_without_logging(upsolve_sandbox):
    make_user("ada")
    upsolve_sandbox.fail_next(503, "<html>Bad gateway</html>", times=10)

    err = StringIO()
    with without_logging() as printed, pytest.raises(CommandError):
        call_command("upsolve_sync", stdout=StringIO(), stderr=err)

    assert err.getvalue().count("ada: ") == 1
    assert err.getvalue().count("\n") == 1
    assert printed.getvalue() == ""  # the service's WARNING did not print it a second time


def test_an_open_breaker_stops_the_run_with_one_line(upsolve_sandbox):
    make_user("ada")
    make_user("bob")
    breaker.record_failure(open_for=60)

    err = StringIO()
    with pytest.raises(CommandError, match="1 user"):
        call_command("upsolve_sync", stdout=StringIO(), stderr=err)

    assert err.getvalue().startswith("Stopping after 1 of 2 user(s): ")
    assert err.getvalue().count("\n") == 1
    assert upsolve_sandbox.calls == []


@override_upsolve(ADAPTER="tests.adapters.TwoOrganizationsAdapter")
def test_every_membership_of_a_user_is_synced(upsolve_sandbox):
    ada = make_user("ada")
    call_command("upsolve_sync", "ada", stdout=StringIO())
    profiles = UpsolveProfile.objects.filter(user=ada)
    assert sorted(p.tenant.external_id for p in profiles) == ["acme", "globex"]
    assert all(p.token for p in profiles)
    assert upsolve_sandbox.count("register-user") == 2


def test_a_name_with_a_newline_or_an_escape_stays_on_its_own_line(upsolve_sandbox):
    make_user("ada\nbob: ok")
    upsolve_sandbox.fail_next(422, {"status": "error", "errors": [{"field": "name"}]})
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("upsolve_sync", stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("'ada\\nbob: ok': Upsolve register-organization: HTTP 422")
    assert err.getvalue().count("\n") == 1
    with pytest.raises(CommandError) as caught:
        run("ada", "x\x1b[2Jy")
    assert str(caught.value) == "Unknown user(s): ada, 'x\\x1b[2Jy'"


@override_upsolve(ADAPTER="tests.commands.test_upsolve_sync.PrimaryKeyTenantAdapter")
def test_a_user_whose_tenants_all_have_unusable_ids_is_a_failure_not_ineligible(
    upsolve_sandbox,
):
    make_user("ada")
    err = StringIO()
    with without_logging(), pytest.raises(CommandError, match=r"^1 user"):
        call_command("upsolve_sync", stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith("ada: The adapter lists tenants for this user, none with ")
    assert upsolve_sandbox.calls == []


class PrimaryKeyTenantAdapter(UpsolveAdapter):
    """A tenant keyed by a primary key passed as an int: no usable external id."""

    def get_tenants(self, user: Any) -> list[Tenant]:
        return [Tenant(external_id=user.pk, name="Mine")]  # type: ignore[arg-type]
