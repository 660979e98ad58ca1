"""``manage.py upsolve_sync``: register existing users with Upsolve and fetch their tokens.

Useful right after installing the app (users who have not logged in since) and
after changing the adapter. Uses the background budget (``DEADLINE``,
``MAX_RETRIES``) and stops early while the circuit breaker is open.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import services
from ...exceptions import UpsolveBreakerOpen, UpsolveError, UpsolveNotEligible


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

    def handle(self, *args: Any, users: list[str], reregister: bool, **options: Any) -> None:
        User = get_user_model()
        queryset = User._default_manager.order_by("pk")
        if users:
            queryset = queryset.filter(**{f"{User.USERNAME_FIELD}__in": users})
            missing = set(users) - {u.get_username() for u in queryset}
            if missing:
                raise CommandError(f"Unknown user(s): {', '.join(sorted(missing))}")
        elif "is_active" in {f.name for f in User._meta.get_fields()}:
            queryset = queryset.filter(is_active=True)
        sync = services.reregister if reregister else services.refresh_token
        done = failed = skipped = 0
        for user in queryset.iterator(chunk_size=500):
            try:
                sync(user)
            except UpsolveNotEligible:
                skipped += 1
            except UpsolveBreakerOpen as err:
                failed += 1
                self.stderr.write(f"Stopping: {err}")
                break
            except UpsolveError as err:
                failed += 1
                self.stderr.write(f"{user.get_username()}: {err}")
            else:
                done += 1
                if options["verbosity"] > 1:
                    self.stdout.write(f"{user.get_username()}: ok")
        self.stdout.write(f"Synced {done} user(s), {failed} failed, {skipped} not eligible.")
        if failed:
            raise CommandError(f"{failed} user(s) could not be synced.")
