"""``manage.py upsolve_status``: configuration, circuit breaker and registration counts.

Prints what an operator needs at a glance; never the API key or a token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core import checks
from django.core.management.base import BaseCommand

from ... import breaker
from ...checks import check_settings
from ...conf import upsolve_settings
from ...models import TokenState, UpsolveProfile, UpsolveTenant
from ...redaction import redact, redact_url


class Command(BaseCommand):
    help = "Show the Upsolve configuration checks, the circuit breaker and registration counts."

    def handle(self, *args: Any, **options: Any) -> None:
        self._configuration()
        self._breaker()
        self._counts()

    def _configuration(self) -> None:
        found = check_settings()
        errors = [m for m in found if m.level >= checks.ERROR]
        if not found:
            self.stdout.write(self.style.SUCCESS("Configuration: OK"))
        else:
            style = self.style.ERROR if errors else self.style.WARNING
            warnings = len(found) - len(errors)
            self.stdout.write(
                style(f"Configuration: {len(errors)} error(s), {warnings} warning(s)")
            )
            for message in found:
                self.stdout.write(f"  {message.id}: {redact(str(message.msg))}")
        key = "set" if upsolve_settings.get("API_KEY") else "missing"
        self.stdout.write(f"API key: {key} (never shown)")
        self.stdout.write(f"API URL: {redact_url(str(upsolve_settings.get('API_URL')))}")

    def _breaker(self) -> None:
        try:
            status = breaker.status()
        except Exception as err:  # The report goes on without the cache.
            self.stdout.write(
                self.style.WARNING(f"Circuit breaker: unknown ({type(err).__name__})")
            )
            return
        line = f"Circuit breaker: {status.state}, {status.failures} consecutive failure(s)"
        if status.state == "open" and status.open_until is not None:
            until = datetime.fromtimestamp(status.open_until, tz=UTC).isoformat(timespec="seconds")
            self.stdout.write(self.style.ERROR(f"{line}, open until {until}"))
        elif status.state == "half-open" or status.failures:
            self.stdout.write(self.style.WARNING(line))
        else:
            self.stdout.write(self.style.SUCCESS(line))

    def _counts(self) -> None:
        tenants = UpsolveTenant.objects.all()
        self.stdout.write(
            f"Tenants: {tenants.count()} "
            f"(registered {tenants.registered().count()}, "
            f"not registered {tenants.not_registered().count()}, "
            f"failing {tenants.failing().count()})"
        )
        profiles = UpsolveProfile.objects.all()
        margin = upsolve_settings.REFRESH_MARGIN
        valid = profiles.in_token_state(TokenState.VALID, margin=0).count()
        expiring = profiles.in_token_state(TokenState.EXPIRING, margin=margin).count()
        self.stdout.write(
            f"Profiles: {profiles.count()} "
            f"(registered {profiles.registered().count()}, "
            f"not registered {profiles.not_registered().count()}, "
            f"valid tokens {valid} of which {expiring} expiring, "
            f"failing {profiles.failing().count()})"
        )
