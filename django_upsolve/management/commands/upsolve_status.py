"""``manage.py upsolve_status``: configuration, circuit breaker and registration counts.

Prints what an operator needs at a glance, and answers monitoring with its exit status: 1
when a check of the app (deployment checks included) reports an error, when the circuit
breaker is open, or when its state or the counts cannot be read; 0 otherwise. The checks run
here whatever ``--skip-checks`` says, and are reported in the command's own format. ``--json``
prints one JSON document instead (:data:`JSON_VERSION`); ``-v 0`` prints nothing. Never shows
the API key or a token.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from ... import breaker, cache
from ...conf import upsolve_settings
from ...exceptions import UpsolveImproperlyConfigured
from ...log import reported_by_caller
from ...models import TokenState, UpsolveProfile, UpsolveTenant
from ...redaction import redact, redact_url

#: Bumped when a key of the JSON document changes meaning or goes away (new keys may come).
JSON_VERSION = 1
#: The system checks reported here: the app's own, not the sandbox's.
CHECK_MODULES = ("django_upsolve.",)
SKIPPED_MODULES = ("django_upsolve.sandbox.",)


def app_checks() -> list[checks.CheckMessage]:
    """What the app's system checks report now, deployment checks included."""
    found: list[checks.CheckMessage] = []
    for check in checks.registry.registry.get_checks(include_deployment_checks=True):
        module = getattr(check, "__module__", "") + "."
        if module.startswith(CHECK_MODULES) and not module.startswith(SKIPPED_MODULES):
            found.extend(check(app_configs=None, databases=None))
    return found


def _message(message: checks.CheckMessage) -> dict[str, str | None]:
    return {
        "id": message.id,
        "message": redact(str(message.msg)),
        "hint": redact(str(message.hint)) if message.hint else None,
    }


def configuration() -> dict[str, Any]:
    found = app_checks()
    errors = [_message(m) for m in found if m.level >= checks.ERROR]
    warnings = [_message(m) for m in found if m.level < checks.ERROR]
    return {"ok": not errors, "errors": errors, "warnings": warnings}


def _unknown(error: str) -> dict[str, Any]:
    return {"state": "unknown", "failures": None, "open_until": None, "error": error}


def breaker_state() -> dict[str, Any]:
    """The shared breaker's state; ``unknown`` when the cache holding it cannot be read (the
    state this process would fall back to says nothing of the others)."""
    try:
        status = breaker.status()
        down = cache.outage()
    except Exception as err:  # The report goes on without the cache.
        return _unknown(type(err).__name__)
    if down is not None:
        return _unknown(redact(f"cache {down.alias!r} unavailable: {down.reason}"))
    until = None
    if status.state == "open" and status.open_until is not None:
        until = datetime.fromtimestamp(status.open_until, tz=UTC).isoformat(timespec="seconds")
    return {"state": status.state, "failures": status.failures, "open_until": until, "error": None}


def counts() -> dict[str, Any]:
    """Registrations and token states; an ``error`` instead when the database cannot be read
    or ``REFRESH_MARGIN`` is invalid (which the configuration part reports)."""
    tenants = UpsolveTenant.objects.all()
    profiles = UpsolveProfile.objects.all()
    try:
        return {
            "tenants": {
                "total": tenants.count(),
                "registered": tenants.registered().count(),
                "not_registered": tenants.not_registered().count(),
                "failing": tenants.failing().count(),
            },
            "profiles": {
                "total": profiles.count(),
                "registered": profiles.registered().count(),
                "not_registered": profiles.not_registered().count(),
                "valid_tokens": profiles.in_token_state(TokenState.VALID, margin=0).count(),
                "expiring_tokens": profiles.in_token_state(
                    TokenState.EXPIRING, margin=upsolve_settings.REFRESH_MARGIN
                ).count(),
                "failing": profiles.failing().count(),
            },
            "error": None,
        }
    except (DatabaseError, UpsolveImproperlyConfigured) as err:
        return {"tenants": None, "profiles": None, "error": type(err).__name__}


def connection() -> dict[str, Any]:
    """Whether an API key is set, and the API's URL (without credentials); ``None`` for both
    when ``settings.UPSOLVE`` is not a dict (a configuration error reported above them)."""
    try:
        key, url = upsolve_settings.get("API_KEY"), upsolve_settings.get("API_URL")
    except UpsolveImproperlyConfigured:
        return {"api_key_set": None, "api_url": None}
    return {"api_key_set": bool(key), "api_url": redact_url(str(url))}


def problems(report: dict[str, Any]) -> list[str]:
    """Why the report is not healthy, one phrase each; empty when it is."""
    found = []
    if report["configuration"]["errors"]:
        found.append(f"{len(report['configuration']['errors'])} configuration error(s)")
    state = report["breaker"]["state"]
    if state == "open":
        found.append("the circuit breaker is open")
    elif state == "unknown":
        found.append(f"the circuit breaker's state is unknown ({report['breaker']['error']})")
    if report["counts"]["error"]:
        found.append(f"the counts cannot be read ({report['counts']['error']})")
    return found


def status_report() -> dict[str, Any]:
    """The whole report, as printed by ``--json``."""
    report: dict[str, Any] = {
        "version": JSON_VERSION,
        "configuration": configuration(),
        **connection(),
        "breaker": breaker_state(),
        "counts": counts(),
    }
    report["problems"] = problems(report)
    report["ok"] = not report["problems"]
    return report


class Command(BaseCommand):
    help = (
        "Show the Upsolve configuration checks, the circuit breaker and registration counts; "
        "exit 1 when Upsolve cannot work (configuration errors, breaker open)."
    )
    # The checks are run and reported by the command itself, even with --skip-checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print one JSON document (for monitoring) instead of text.",
        )
        parser.add_argument(
            "--skip-checks",
            action="store_true",
            help="Accepted for compatibility: the checks are part of the report and always run.",
        )

    def handle(self, *args: Any, as_json: bool, verbosity: int, **options: Any) -> None:
        with reported_by_caller():
            report = status_report()
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        elif verbosity:
            self._configuration(report)
            self._breaker(report["breaker"])
            self._counts(report["counts"])
            if report["problems"]:
                self.stderr.write(f"Upsolve is not healthy: {'; '.join(report['problems'])}.")
        if not report["ok"]:
            sys.exit(1)

    def _configuration(self, report: dict[str, Any]) -> None:
        found = report["configuration"]
        errors, warnings = found["errors"], found["warnings"]
        if not errors and not warnings:
            self.stdout.write(self.style.SUCCESS("Configuration: OK"))
        else:
            style = self.style.ERROR if errors else self.style.WARNING
            self.stdout.write(
                style(f"Configuration: {len(errors)} error(s), {len(warnings)} warning(s)")
            )
            for message in [*errors, *warnings]:
                self.stdout.write(f"  {message['id']}: {message['message']}")
        if report["api_key_set"] is None:
            return  # UPSOLVE is not a dict: the error above says so.
        key = "set" if report["api_key_set"] else "missing"
        self.stdout.write(f"API key: {key} (never shown)")
        self.stdout.write(f"API URL: {report['api_url']}")

    def _breaker(self, state: dict[str, Any]) -> None:
        if state["state"] == "unknown":
            self.stdout.write(self.style.WARNING(f"Circuit breaker: unknown ({state['error']})"))
            return
        line = f"Circuit breaker: {state['state']}, {state['failures']} consecutive failure(s)"
        if state["state"] == "open":
            until = f", open until {state['open_until']}" if state["open_until"] else ""
            self.stdout.write(self.style.ERROR(line + until))
        elif state["state"] == "half-open" or state["failures"]:
            self.stdout.write(self.style.WARNING(line))
        else:
            self.stdout.write(self.style.SUCCESS(line))

    def _counts(self, found: dict[str, Any]) -> None:
        if found["error"]:
            self.stdout.write(self.style.ERROR(f"Counts: unavailable ({found['error']})"))
            return
        tenants, profiles = found["tenants"], found["profiles"]
        self.stdout.write(
            f"Tenants: {tenants['total']} "
            f"(registered {tenants['registered']}, "
            f"not registered {tenants['not_registered']}, "
            f"failing {tenants['failing']})"
        )
        self.stdout.write(
            f"Profiles: {profiles['total']} "
            f"(registered {profiles['registered']}, "
            f"not registered {profiles['not_registered']}, "
            f"valid tokens {profiles['valid_tokens']} "
            f"of which {profiles['expiring_tokens']} expiring, "
            f"failing {profiles['failing']})"
        )
