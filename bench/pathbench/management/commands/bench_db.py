"""The bench's work on a configuration's database, run by the driver between phases.

``manage bench_db users PREFIX COUNT``
    Users ``PREFIX00000``… with the bench's password, nothing else.
``manage bench_db stale COUNT``
    Users already registered with Upsolve (tenant and profile) whose tokens are due for
    refresh and who were seen a minute ago: the proactive refresh's work. Prints their
    Upsolve ids as JSON, for the stand-in to know them.
``manage bench_db next_day``
    The next morning: every login, token and visit a day older, every session gone.
``manage bench_db wait_idle SECONDS``
    Wait until no sync is queued or running (background mode); exit 1 if that takes longer.
``manage bench_db sweep``
    Queue the proactive refresh task (background mode).
"""

from __future__ import annotations

import json
import time
import uuid
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pathbench.configs import PASSWORD

BATCH = 2000
#: A token the app takes for a JWT; the stand-in never sees it (the sweep replaces it).
STALE_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c3RhbGU"


class Command(BaseCommand):
    help = "Prepare or inspect the bench's database between phases."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        users = actions.add_parser("users")
        users.add_argument("prefix")
        users.add_argument("count", type=int)
        actions.add_parser("stale").add_argument("count", type=int)
        actions.add_parser("next_day")
        actions.add_parser("wait_idle").add_argument("seconds", type=float)
        actions.add_parser("sweep")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "users":
            create_users(options["prefix"], options["count"])
        elif action == "stale":
            self.stdout.write(json.dumps(create_stale_users(options["count"])))
        elif action == "next_day":
            next_day()
        elif action == "wait_idle" and not wait_idle(options["seconds"]):
            raise CommandError(f"Syncs still queued after {options['seconds']} s.")
        elif action == "sweep":
            from django_upsolve.tasks import refresh_active_tokens

            refresh_active_tokens.enqueue()


def create_users(prefix: str, count: int) -> list[Any]:
    """``count`` plain users, one password hash shared by all (hashing is not measured)."""
    password = make_password(PASSWORD)
    model = get_user_model()
    users = [model(username=f"{prefix}{n:05d}", password=password) for n in range(count)]
    return model.objects.bulk_create(users, batch_size=BATCH)


def create_stale_users(count: int) -> list[str]:
    """Users registered with Upsolve, tokens expiring in two minutes, seen a minute ago."""
    from django_upsolve.models import UpsolveProfile, UpsolveTenant

    now, role = timezone.now(), settings.UPSOLVE["DEFAULT_ROLE_ID"]
    expiry = settings.UPSOLVE["TOKEN_EXPIRATION"]
    with transaction.atomic():
        users = create_users("stale", count)
        tenants = UpsolveTenant.objects.bulk_create(
            [
                UpsolveTenant(
                    external_id=f"user-{user.pk}",
                    name=user.username,
                    upsolve_id=uuid.uuid4(),
                    registered_at=now,
                )
                for user in users
            ],
            batch_size=BATCH,
        )
        profiles = UpsolveProfile.objects.bulk_create(
            [
                UpsolveProfile(
                    user=user,
                    tenant=tenant,
                    role_id=role,
                    name=user.username,
                    properties={"organization_id": tenant.external_id},
                    registered_at=now,
                    token=STALE_TOKEN,
                    token_expires_at=now + timedelta(minutes=2),
                    token_refreshed_at=now + timedelta(minutes=2) - timedelta(seconds=expiry),
                    last_seen_at=now - timedelta(minutes=1),
                )
                for user, tenant in zip(users, tenants, strict=True)
            ],
            batch_size=BATCH,
        )
    return [str(profile.upsolve_user_id) for profile in profiles]


def next_day() -> None:
    """Move every Upsolve timestamp a day back and end every session."""
    Session.objects.all().delete()
    if not apps.is_installed("django_upsolve"):
        return
    from django_upsolve.models import UpsolveProfile

    day = timedelta(days=1)
    UpsolveProfile.objects.update(
        **{
            field: F(field) - day
            for field in ("token_expires_at", "token_refreshed_at", "last_seen_at")
        }
    )


def wait_idle(seconds: float) -> bool:
    """Whether every queued sync ended within ``seconds`` (at once outside background mode)."""
    if not apps.is_installed("django_tasks_db"):
        return True
    from django_tasks_db.models import DBTaskResult

    from django_upsolve.models import UpsolveProfile

    ends_at = time.monotonic() + seconds
    while time.monotonic() < ends_at:
        queued = UpsolveProfile.objects.filter(sync_queued_at__isnull=False).exists()
        tasks = DBTaskResult.objects
        if not (queued or tasks.ready().exists() or tasks.running().exists()):
            return True
        time.sleep(0.1)
    return False
