"""``manage.py upsolve_refresh``: renew active users' tokens before they go stale, for cron.

Refreshes, in this process and on the background budget, the tokens of users seen within
``ACTIVE_WINDOW`` that expire within ``REFRESH_MARGIN`` plus two sweep intervals; dormant
users are never touched. ``--enqueue`` hands the same work to the task workers instead.
Stops early while the circuit breaker is open; exits non-zero when some refresh failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import refresh
from ...exceptions import UpsolveImproperlyConfigured


class Command(BaseCommand):
    help = "Refresh the Upsolve tokens of active users before they expire."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one task per due user on UPSOLVE['TASK_BACKEND'] instead.",
        )

    def handle(self, *args: Any, enqueue: bool, verbosity: int, **options: Any) -> None:
        try:
            if enqueue:
                summary = refresh.queue_due()
            else:
                summary = refresh.refresh_due(progress=self._progress if verbosity > 1 else None)
        except UpsolveImproperlyConfigured as err:  # reported by the checks, unless skipped
            raise CommandError(str(err)) from err
        if verbosity:
            self.stdout.write(
                f"{summary.due} due, {summary.queued} queued, {summary.refreshed} refreshed, "
                f"{summary.failed} failed."
            )
        if summary.failed:
            raise CommandError(f"{summary.failed} token(s) could not be refreshed.")

    def _progress(self, member: str, outcome: str) -> None:
        self.stdout.write(f"{member}: {outcome}")
