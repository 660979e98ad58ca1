"""``manage.py demo``: migrate, seed, then serve the demo with its task worker beside it.

In background mode (the default) logins only queue their Upsolve sync; django-tasks-db's
``db_worker``, started here as a separate process, runs it. The server and the worker stop
together: on Ctrl-C, on ``SIGTERM``, or when either of them dies.
"""

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from django_upsolve.conf import DEFAULTS as UPSOLVE_DEFAULTS
from django_upsolve.conf import upsolve_settings

from ...processes import Children, stop_signals_as_interrupt

MANAGE = str(Path(settings.BASE_DIR).parent / "manage.py")
#: Seconds the worker waits between two looks at an empty queue: a first dashboard fills
#: within about a second of the login.
WORKER_INTERVAL = "0.5"
#: The token settings the demo reads from the environment, by their variable names.
TOKEN_VARIABLES = {
    "TOKEN_EXPIRATION": "UPSOLVE_TOKEN_EXPIRATION",
    "REFRESH_MARGIN": "UPSOLVE_REFRESH_MARGIN",
}


def worker_command() -> list[str]:
    """The worker: tasks of the default queue, no autoreloader, a short polling interval."""
    return [
        *(sys.executable, MANAGE, "db_worker"),
        *("--no-reload", "--no-startup-delay", "--interval", WORKER_INTERVAL),
    ]


def server_command() -> list[str]:
    """Django's development server, threaded (its default): while a request waits on the
    sandbox, the worker's calls to that same sandbox are served by other threads."""
    base = urlsplit(settings.DEMO_BASE_URL)
    return [sys.executable, MANAGE, "runserver", f"{base.hostname}:{base.port or 80}", "--noreload"]


def banner(worker_pid: int | None) -> str:
    """Where to go, what answers for Upsolve, how logins sync and which settings differ."""
    if settings.DEMO_SANDBOX:
        upsolve = f"the local sandbox at {settings.DEMO_BASE_URL}/sandbox/"
    else:
        upsolve = settings.UPSOLVE["API_URL"]
    if worker_pid is None:
        sync = "inline: each login calls Upsolve itself (UPSOLVE_SYNC_ON_LOGIN=inline)"
        worker = "none (inline mode needs none)"
    else:
        sync = 'background (UPSOLVE["SYNC_ON_LOGIN"] = "background"): logins queue a task'
        worker = f"manage.py db_worker (django-tasks-db), pid {worker_pid}"
    changed = [
        f"{variable}={getattr(upsolve_settings, name)}"
        for name, variable in TOKEN_VARIABLES.items()
        if getattr(upsolve_settings, name) != UPSOLVE_DEFAULTS[name]
    ]
    tokens = (
        f"live {upsolve_settings.TOKEN_EXPIRATION} s, refreshed "
        f"{upsolve_settings.REFRESH_MARGIN} s before they expire "
        f"({' '.join(changed) if changed else 'the defaults'})"
    )
    return "\n".join(
        [
            f"\nDemo ready: open {settings.DEMO_BASE_URL}/",
            f"  Upsolve:        {upsolve}",
            f"  Sync on login:  {sync}",
            f"  Worker:         {worker}",
            f"  Tokens:         {tokens}",
            f"Ctrl-C stops the server{'' if worker_pid is None else ' and the worker'}.\n",
        ]
    )


class Command(BaseCommand):
    help = (
        "Migrate the databases, seed the demo data, then serve the demo on DEMO_BASE_URL "
        "with a django-tasks-db worker beside it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for database in settings.DATABASES:
            call_command("migrate", database=database, interactive=False, verbosity=0)
        call_command("createcachetable")
        call_command("seed_demo")
        children = Children()
        with stop_signals_as_interrupt():
            try:
                self._serve(children)
            except KeyboardInterrupt:
                self.stdout.write("\nStopping the demo...")
            finally:
                children.stop_all()

    def _serve(self, children: Children) -> None:
        worker_pid = None
        if upsolve_settings.SYNC_MODE == "background":
            worker_pid = children.start("worker", worker_command(), prefix="worker | ")
        self.stdout.write(self.style.SUCCESS(banner(worker_pid)))
        self.stdout.flush()
        children.start("server", server_command())
        name, status = children.wait_for_any()
        if name == "worker":
            raise CommandError(
                f"The worker stopped (exit status {status}): logins cannot sync in "
                "background mode without it, so the server stops too."
            )
        also = ", so the worker stops too" if worker_pid is not None else ""
        raise CommandError(f"The server stopped (exit status {status}){also}.")
