"""Values an adapter gets wrong: a WARNING that names them, never a traceback on every page."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from django_upsolve.adapter import Tenant, UpsolveAdapter
from django_upsolve.models import UpsolveProfile, UpsolveTenant
from django_upsolve.taskframework import task_backends
from tests.embed.helpers import make_request, render
from tests.helpers import log_in, make_user, override_upsolve

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embed.urls")]

PAGE = '{% upsolve_dashboard "d" %}'


class PrimaryKeyTenantAdapter(UpsolveAdapter):
    """A tenant keyed by a primary key passed as an int, beside a valid one."""

    def get_tenants(self, user: Any) -> list[Tenant]:
        return [Tenant(external_id=7, name="Seven"), Tenant(external_id="acme", name="Acme")]  # type: ignore[arg-type]


class NotAUuidRoleAdapter(UpsolveAdapter):
    def get_role_id(self, user: Any, tenant: Tenant | None = None) -> str:
        return "admin"


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.exc_info]


@override_upsolve(ADAPTER=f"{__name__}.PrimaryKeyTenantAdapter")
def test_a_tenant_with_an_unusable_external_id_is_left_out_with_a_warning(
    client, upsolve_sandbox, caplog
):
    ada = make_user("ada")
    log_in(client, "ada")
    html = render(PAGE, make_request(ada))
    assert "jwt=" in html  # the valid membership is embedded
    assert list(UpsolveProfile.objects.values_list("tenant__external_id", flat=True)) == ["acme"]
    left_out = [r for r in caplog.records if "invalid external_id" in r.getMessage()]
    assert left_out and all(r.levelname == "WARNING" for r in left_out)
    assert "externalId must be a non-empty string" in left_out[0].getMessage()
    assert tracebacks(caplog) == []


@override_upsolve(ADAPTER=f"{__name__}.NotAUuidRoleAdapter")
def test_invalid_member_values_are_recorded_once_not_raised_on_every_page(upsolve_sandbox, caplog):
    ada = make_user("ada")
    for _ in range(3):
        html = render(PAGE, make_request(ada))
        assert 'data-upsolve-placeholder="unavailable"' in html
    profile = UpsolveProfile.objects.get()
    assert profile.last_error == "userRoleId must be a UUID."
    assert tracebacks(caplog) == []
    failed = [r for r in caplog.records if r.getMessage().startswith("Upsolve sync failed")]
    assert len(failed) == 1  # the pages after it wait out the pause after a failure
    assert upsolve_sandbox.count("register-user") == 0


class BlankTenantNameAdapter(UpsolveAdapter):
    """A tenant whose name is only whitespace: refused before any row is written."""

    def get_tenant(self, user: Any) -> Tenant:
        return Tenant(external_id="acme", name=" \n")


@pytest.mark.parametrize("mode", [True, "background"], ids=["inline", "background"])
def test_a_new_tenant_with_invalid_values_is_a_warning_on_login_and_pages(
    mode, client, upsolve_sandbox, caplog
):
    backend = task_backends["dummy"]
    backend.clear()
    make_user("ada")
    with override_upsolve(
        ADAPTER=f"{__name__}.BlankTenantNameAdapter", SYNC_ON_LOGIN=mode, TASK_BACKEND="dummy"
    ):
        assert log_in(client, "ada").status_code == 302
        ada = get_user_model().objects.get(username="ada")
        for _ in range(2):
            html = render(PAGE, make_request(ada))
            assert 'data-upsolve-placeholder="unavailable"' in html
    assert tracebacks(caplog) == []
    named = [r for r in caplog.records if r.getMessage().endswith(": name must not be empty.")]
    assert len(named) == 3 and all(r.levelname == "WARNING" for r in named)  # login, 2 pages
    assert not UpsolveTenant.objects.exists()
    assert [result for result in backend.results if result.task.name == "sync_user"] == []
    assert upsolve_sandbox.calls == []
    backend.clear()


class BlankThenValidTenantAdapter(UpsolveAdapter):
    def get_tenants(self, user: Any) -> list[Tenant]:
        return [Tenant(external_id="acme", name=" \n"), Tenant(external_id="globex", name="Globex")]


@override_upsolve(
    ADAPTER=f"{__name__}.BlankThenValidTenantAdapter",
    SYNC_ON_LOGIN="background",
    TASK_BACKEND="dummy",
    LOGIN_MEMBERSHIPS=2,
)
def test_a_background_login_still_queues_the_memberships_after_an_invalid_one(
    client, django_capture_on_commit_callbacks
):
    backend = task_backends["dummy"]
    backend.clear()
    make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        assert log_in(client, "ada").status_code == 302
    syncs = [result for result in backend.results if result.task.name == "sync_user"]
    assert [result.kwargs["tenant"] for result in syncs] == ["globex"]
    backend.clear()


class ActiveTenantByIdAdapter(UpsolveAdapter):
    """Answers the active tenant's id where a ``Tenant`` is due, and lists a ``None``."""

    def get_tenants(self, user: Any) -> list[Tenant]:
        return [None, Tenant(external_id="acme", name="Acme")]  # type: ignore[list-item]

    def get_active_tenant(self, request: Any, user: Any) -> Any:
        return "acme"


@override_upsolve(ADAPTER=f"{__name__}.ActiveTenantByIdAdapter", SYNC_ON_LOGIN=False)
def test_an_active_tenant_that_is_not_a_tenant_means_no_token_with_a_warning(
    client, upsolve_sandbox, caplog
):
    ada = make_user("ada")
    client.force_login(ada)
    response = client.post("/upsolve/token/")
    assert (response.status_code, response.json()) == (403, {"error": "not_available"})
    html = render(PAGE, make_request(ada))
    assert 'data-upsolve-placeholder="not-available"' in html
    assert tracebacks(caplog) == []
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("listed a tenant with an invalid external_id" in m for m in warned)
    assert any("get_active_tenant answered a str for user pk=" in m for m in warned)
    assert upsolve_sandbox.calls == []


class AsyncHooksAdapter(UpsolveAdapter):
    """Hooks written ``async def``: a coroutine is truthy, and never runs in sync code."""

    async def is_eligible(self, user: Any) -> bool:  # type: ignore[override]
        return False


class AsyncTenantsAdapter(UpsolveAdapter):
    async def get_tenants(self, user: Any) -> list[Tenant]:  # type: ignore[override]
        return [Tenant(external_id="acme", name="Acme")]


@pytest.mark.parametrize(
    ("adapter", "hook"),
    [("AsyncHooksAdapter", "is_eligible"), ("AsyncTenantsAdapter", "get_tenants")],
)
def test_an_async_hook_means_no_token_with_a_warning(
    client, upsolve_sandbox, caplog, adapter, hook
):
    ada = make_user("ada")
    with override_upsolve(ADAPTER=f"{__name__}.{adapter}", SYNC_ON_LOGIN=False):
        client.force_login(ada)
        response = client.post("/upsolve/token/")
        html = render(PAGE, make_request(ada))
    assert (response.status_code, response.json()) == (403, {"error": "not_available"})
    assert 'data-upsolve-placeholder="not-available"' in html
    assert tracebacks(caplog) == []
    ours = [r for r in caplog.records if r.name.startswith("django_upsolve")]
    assert ours and {r.levelname for r in ours} == {"WARNING"}
    assert all(r.getMessage().startswith(f"The Upsolve adapter's {hook} is async;") for r in ours)
    assert upsolve_sandbox.calls == []
