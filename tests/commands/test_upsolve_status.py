"""``manage.py upsolve_status``: checks, breaker and counts, never the key; fit for monitoring."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from docutils import nodes
from docutils.core import publish_doctree

from django_upsolve import breaker
from tests.commands.helpers import without_logging
from tests.helpers import API_KEY, ROOT, upsolve_with

pytestmark = pytest.mark.django_db

#: A Redis nobody listens on: every call is refused at once.
DEAD_REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": "redis://127.0.0.1:9/0",
}


def run(*args: str) -> tuple[int, str, str]:
    """The exit status, stdout and stderr of ``upsolve_status *args``."""
    out, err = StringIO(), StringIO()
    code: Any = 0
    try:
        call_command("upsolve_status", *args, stdout=out, stderr=err, no_color=True)
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue(), err.getvalue()


def status() -> str:
    code, out, err = run()
    assert (code, err) == (0, ""), err
    return out


@pytest.fixture
def healthy(settings: Any) -> None:
    settings.DEBUG = True  # no W003 for the tests' local-memory cache


@pytest.fixture
def cache_down(settings: Any, set_upsolve: Any) -> None:
    """The breaker's cache refuses connections (``_fresh_cache`` forgets the outage after)."""
    settings.CACHES = {**settings.CACHES, "down": DEAD_REDIS}
    set_upsolve(CACHE_ALIAS="down")


def test_reports_configuration_breaker_and_counts(make_tenant, make_profile, healthy):
    acme = make_tenant("Acme")
    make_tenant("Broken", registered=False, last_error="HTTP 503", last_error_at=timezone.now())
    make_tenant("Waiting", registered=False)
    make_profile(tenant=acme, token="valid")
    make_profile(tenant=acme, token="expiring")
    make_profile(tenant=acme, token="expired", last_error="HTTP 502", last_error_at=timezone.now())
    make_profile(tenant=acme, token=None, registered=False)

    output = status()

    assert output.splitlines() == [
        "Configuration: OK",
        "API key: set (never shown)",
        "API URL: https://api.upsolve.test/v1/api/projects",
        "Circuit breaker: closed, 0 consecutive failure(s)",
        "Tenants: 3 (registered 1, not registered 2, failing 1)",
        "Profiles: 4 (registered 3, not registered 1, "
        "valid tokens 2 of which 1 expiring, failing 1)",
    ]


# Configuration errors ------------------------------------------------------------------------


def test_configuration_errors_are_listed_and_fail_the_command(set_upsolve):
    set_upsolve(API_KEY="sk_live_0123456789", PROJECT_ID="")

    code, output, err = run()

    assert code == 1
    assert "Configuration: 1 error(s), " in output
    assert "  django_upsolve.E001: UPSOLVE['PROJECT_ID'] is not set." in output
    assert "  django_upsolve.W001: " in output
    assert "sk_live_0123456789" not in output + err
    assert "API key: set (never shown)" in output
    assert err == "Upsolve is not healthy: 1 configuration error(s).\n"


def test_skip_checks_does_not_hide_them(set_upsolve):
    set_upsolve(PROJECT_ID="")

    code, output, _ = run("--skip-checks")

    assert code == 1
    assert "django_upsolve.E001: UPSOLVE['PROJECT_ID'] is not set." in output


def test_deployment_checks_are_reported(set_upsolve, healthy):
    set_upsolve(TEST_MODE=True)

    code, output, _ = run()

    assert code == 1
    assert "django_upsolve.E018: UPSOLVE['TEST_MODE'] is on" in output


def test_a_missing_key_is_said_so(set_upsolve):
    set_upsolve(API_KEY="")

    code, output, _ = run()

    assert code == 1
    assert "API key: missing (never shown)" in output
    assert "django_upsolve.E001: UPSOLVE['API_KEY'] is not set." in output


def test_an_invalid_refresh_margin_is_reported_not_raised(set_upsolve):
    set_upsolve(REFRESH_MARGIN=-1)

    code, output, err = run()

    assert code == 1
    assert "  django_upsolve.E005: " in output
    assert "Counts: unavailable (SettingError)" in output
    assert err == (
        "Upsolve is not healthy: 1 configuration error(s); "
        "the counts cannot be read (SettingError).\n"
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_upsolve_not_a_dict_is_reported_not_raised(settings, as_json):
    settings.UPSOLVE = 0

    code, output, _ = run(*(["--json"] if as_json else []))

    assert code == 1
    if as_json:
        document = json.loads(output)
        assert [error["id"] for error in document["configuration"]["errors"]] == [
            "django_upsolve.E006"
        ]
        assert (document["api_key_set"], document["api_url"]) == (None, None)
    else:
        assert "  django_upsolve.E006: " in output
        assert "API key:" not in output


def test_never_prints_the_key_even_in_a_url(set_upsolve):
    set_upsolve(API_URL=f"https://x.test/?key={API_KEY}")

    code, output, err = run()

    assert code == 1  # E011: a query string
    assert API_KEY not in output + err
    assert "API URL: https://x.test/?key=[redacted]" in output


def test_warnings_alone_pass(settings):
    settings.DEBUG = False

    output = status()

    assert "Configuration: 0 error(s), 1 warning(s)" in output
    assert "  django_upsolve.W003: The 'default' cache is per-process local memory." in output


# The circuit breaker -------------------------------------------------------------------------


def test_an_open_breaker_fails_the_command(healthy):
    breaker.record_failure(open_for=60)

    code, output, err = run()

    assert code == 1
    assert "Circuit breaker: open, 1 consecutive failure(s), open until 20" in output
    assert err == "Upsolve is not healthy: the circuit breaker is open.\n"


def test_failures_below_the_threshold_pass(healthy):
    breaker.record_failure()

    assert "Circuit breaker: closed, 1 consecutive failure(s)" in status()


def test_an_unreadable_breaker_fails_the_command(monkeypatch, healthy):
    def down():
        raise ConnectionError("cache down")

    monkeypatch.setattr(breaker, "status", down)

    code, output, err = run()

    assert code == 1
    assert "Circuit breaker: unknown (ConnectionError)" in output
    assert err == (
        "Upsolve is not healthy: the circuit breaker's state is unknown (ConnectionError).\n"
    )


def test_a_cache_down_is_an_unknown_breaker_reported_once(cache_down, healthy):
    with without_logging() as printed:
        code, output, err = run()

    assert code == 1
    assert "Circuit breaker: unknown (cache 'down' unavailable: ConnectionError" in output
    assert err.count("\n") == 1
    assert err.startswith("Upsolve is not healthy: the circuit breaker's state is unknown")
    # The cache module's WARNING about the outage went nowhere rather than to stderr.
    assert printed.getvalue() == ""


def test_with_logging_configured_the_records_still_go_to_it(cache_down, healthy, caplog):
    run()

    assert any("Cache 'down' is unavailable" in r.getMessage() for r in caplog.records)


# Counts --------------------------------------------------------------------------------------


def test_unreadable_counts_fail_the_command(monkeypatch, healthy):
    def broken(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("no such table: django_upsolve_upsolvetenant")

    monkeypatch.setattr("django.db.models.query.QuerySet.count", broken)

    code, output, err = run()

    assert code == 1
    assert "Counts: unavailable (OperationalError)" in output
    assert err == "Upsolve is not healthy: the counts cannot be read (OperationalError).\n"


# -v 0 and --json -----------------------------------------------------------------------------


@pytest.mark.parametrize("broken", [False, True])
def test_verbosity_0_prints_nothing_and_exits_with_the_status(broken, set_upsolve, healthy):
    if broken:
        set_upsolve(PROJECT_ID="")

    assert run("-v", "0") == (int(broken), "", "")


def test_json_document(make_tenant, make_profile, healthy):
    acme = make_tenant("Acme")
    make_profile(tenant=acme, token="expiring")

    code, output, err = run("--json")

    assert (code, err) == (0, "")
    assert json.loads(output) == {
        "version": 1,
        "ok": True,
        "problems": [],
        "configuration": {"ok": True, "errors": [], "warnings": []},
        "api_key_set": True,
        "api_url": "https://api.upsolve.test/v1/api/projects",
        "breaker": {"state": "closed", "failures": 0, "open_until": None, "error": None},
        "counts": {
            "tenants": {"total": 1, "registered": 1, "not_registered": 0, "failing": 0},
            "profiles": {
                "total": 1,
                "registered": 1,
                "not_registered": 0,
                "valid_tokens": 1,
                "expiring_tokens": 1,
                "failing": 0,
            },
            "error": None,
        },
    }


def test_json_document_of_a_broken_setup(healthy):
    breaker.record_failure(open_for=60)
    with override_settings(UPSOLVE=upsolve_with(API_KEY="", API_URL=f"https://u:{API_KEY}@x.test")):
        code, output, err = run("--json", "-v", "0")

    assert (code, err) == (1, "")
    assert API_KEY not in output
    document = json.loads(output)
    assert document["ok"] is False
    assert document["problems"] == ["1 configuration error(s)", "the circuit breaker is open"]
    assert document["configuration"]["errors"] == [
        {
            "id": "django_upsolve.E001",
            "message": "UPSOLVE['API_KEY'] is not set.",
            "hint": "Add 'API_KEY' to the UPSOLVE settings dict.",
        }
    ]
    assert document["api_key_set"] is False
    assert document["breaker"]["state"] == "open"
    assert document["breaker"]["open_until"].startswith("20")


def shape(value: Any) -> Any:
    """The keys of a JSON value, nested (a list by its first item), without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def documented_json_example() -> Any:
    document = publish_doctree(
        (ROOT / "docs" / "commands.rst").read_text(encoding="utf-8"),
        settings_overrides={"report_level": 5, "halt_level": 5},
    )
    (block,) = [b for b in document.findall(nodes.literal_block) if "json" in b["classes"]]
    return json.loads(block.astext())


def test_the_docs_show_the_document_as_it_is(set_upsolve, healthy):
    set_upsolve(PROJECT_ID="")
    breaker.record_failure(open_for=60)

    _, output, _ = run("--json")

    example, document = documented_json_example(), json.loads(output)
    assert shape(example) == shape(document)
    assert example["configuration"]["errors"] == document["configuration"]["errors"]
    assert example["problems"] == document["problems"]
