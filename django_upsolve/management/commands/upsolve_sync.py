"""``manage.py upsolve_sync``: register existing users with Upsolve and fetch their tokens.

Every membership the adapter lists for a user is synced (one Upsolve user each). Useful
right after installing the app (users who have not logged in since) and after changing
the adapter. Uses the background budget (``DEADLINE``,
``MAX_RETRIES``) and stops early while the circuit breaker is open.

Output, for cron and for people: each failure is written once, on stderr (the app's own log
records of it are dropped when the project's ``LOGGING`` sends them nowhere, rather than
printed a second time); ``-v 1`` adds a progress line every :data:`PROGRESS_EVERY` users and
the summary, ``-v 2`` a line per user, and ``-v 0`` only the failures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import services
from ...adapter import get_adapter
from ...exceptions import (
    UpsolveBreakerOpen,
    UpsolveError,
    UpsolveImproperlyConfigured,
    UpsolveInvalidRequest,
    UpsolveNotEligible,
)
from ...log import reported_by_caller
from ...memberships import hook_answer, is_eligible, memberships_of
from ...redaction import describe, printable

logger = logging.getLogger(__name__)

#: At ``-v 1``, a progress line after every this many users.
PROGRESS_EVERY = 100


class Command(BaseCommand):
    help = "Register users (and their tenants) with Upsolve and fetch fresh tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "users",
            nargs="*",
            metavar="USERNAME",
            help="Only these users (by USERNAME_FIELD); default: every active user.",
        )
        parser.add_argument(
            "--reregister",
            action="store_true",
            help="Send name, role and properties again even for registered users.",
        )

    def handle(
        self, *args: Any, users: list[str], reregister: bool, verbosity: int, **options: Any
    ) -> None:
        User = get_user_model()
        queryset = User._default_manager.order_by("pk")
        if users:
            queryset = queryset.filter(**{f"{User.USERNAME_FIELD}__in": users})
            missing = set(users) - {u.get_username() for u in queryset}
            if missing:
                shown = ", ".join(printable(name) for name in sorted(missing))
                raise CommandError(f"Unknown user(s): {shown}")
        elif "is_active" in {f.name for f in User._meta.get_fields()}:
            queryset = queryset.filter(is_active=True)
        sync = _memberships_synced_by(services.reregister if reregister else services.refresh_token)
        total = queryset.count()
        done = failed = skipped = 0
        with reported_by_caller():
            for seen, user in enumerate(queryset.iterator(chunk_size=500), 1):
                name = printable(user.get_username())
                try:
                    sync(user)
                except UpsolveImproperlyConfigured as err:
                    # Reported by the system checks unless they were skipped; no user can sync.
                    raise CommandError(str(err)) from err
                except UpsolveNotEligible:
                    skipped += 1
                    outcome = "not eligible"
                except UpsolveBreakerOpen as err:
                    failed += 1
                    self.stderr.write(f"Stopping after {seen} of {total} user(s): {err}")
                    break
                except UpsolveError as err:
                    failed += 1
                    self.stderr.write(f"{name}: {err}")
                    outcome = "failed"
                except Exception as err:  # A bug (the adapter's, say) stops this user only.
                    failed += 1
                    logger.exception("Unexpected error while syncing user pk=%s.", user.pk)
                    self.stderr.write(f"{name}: {describe(err)}")
                    outcome = "failed"
                else:
                    done += 1
                    outcome = "ok"
                if verbosity > 1 and outcome != "failed":
                    self.stdout.write(f"{name}: {outcome}")
                if verbosity == 1 and seen % PROGRESS_EVERY == 0 and seen < total:
                    self.stdout.write(
                        f"{seen} of {total} user(s) ({seen * 100 // total}%): "
                        f"{done} synced, {failed} failed, {skipped} not eligible"
                    )
        if verbosity:
            self.stdout.write(f"Synced {done} user(s), {failed} failed, {skipped} not eligible.")
        if failed:
            raise CommandError(f"{failed} user(s) could not be synced.")


def _memberships_synced_by(sync: Callable[..., object]) -> Callable[[Any], None]:
    """Sync every membership of a user with ``sync``; the first failure is raised once all
    were tried (an open breaker stops at once); ``UpsolveNotEligible`` when none is listed."""

    def sync_all(user: Any) -> None:
        memberships = memberships_of(user)
        if not memberships:
            adapter = get_adapter()
            listed = is_eligible(adapter, user) and bool(
                hook_answer("get_tenants", adapter.get_tenants(user), user)
            )
            if listed:
                # Each was left out with a WARNING, which a project without LOGGING never sees.
                raise UpsolveInvalidRequest(
                    "The adapter lists tenants for this user, none with a usable external_id "
                    "(a non-empty string of at most 255 characters, no control characters)."
                )
            raise UpsolveNotEligible("The adapter leaves this user out of Upsolve.")
        failure: UpsolveError | None = None
        for membership in memberships:
            try:
                sync(user, tenant=membership.external_id)
            except UpsolveBreakerOpen:
                raise
            except UpsolveError as err:
                failure = failure or err
        if failure is not None:
            raise failure

    return sync_all
