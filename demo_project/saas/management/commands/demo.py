"""``manage.py demo``: migrate, seed and serve the demo on ``DEMO_BASE_URL``."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate the databases, seed the demo data and serve the demo on DEMO_BASE_URL."

    def handle(self, *args: Any, **options: Any) -> None:
        for database in settings.DATABASES:
            call_command("migrate", database=database, interactive=False, verbosity=0)
        call_command("seed_demo")
        base = urlsplit(settings.DEMO_BASE_URL)
        backend = (
            "the local Upsolve sandbox" if settings.DEMO_SANDBOX else settings.UPSOLVE["API_URL"]
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo ready: open {settings.DEMO_BASE_URL}/ (Upsolve: {backend})\n"
            )
        )
        self.stdout.flush()
        call_command("runserver", f"{base.hostname}:{base.port or 80}", use_reloader=False)
