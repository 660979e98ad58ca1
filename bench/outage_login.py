"""What an Upsolve outage adds to a login, measured through the real login view.

::

    python bench/outage_login.py [--logins 200]

Django runs with the test settings (SQLite file database, local-memory cache, default
``UPSOLVE`` budget: 2.5 s and one retry per login); Upsolve is the loopback fault server
of the test suite. Each scenario logs one registered user in ``--logins`` times with
Django's test client (``POST /accounts/login/``) and prints the median and 95th
percentile of the wall time, and what Upsolve adds to the no-sync baseline:

- no sync: ``SYNC_ON_LOGIN`` off, the baseline;
- healthy: Upsolve answers at once (one ``user-token`` call per login);
- breaker open: Upsolve is down and the breaker already open: no network call;
- refused, breaker closed: every connection refused, the breaker held closed (what each
  failure costs before the breaker opens: two attempts and the backoff between them).

Then a stalled Upsolve (accepts, never answers), login by login from a closed breaker:
each of the first logins waits out the 2.5 s deadline until five failures open the
breaker; after that a login adds only the breaker check. Target: under 5 ms added while
the breaker is open.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

TARGET_MS = 5.0
PASSWORD = "bench-password"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=200, help="logins per scenario")
    parser.add_argument("--stalled", type=int, default=8, help="logins against a stalled server")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    # Records are still made (their cost is measured); they are just not printed.
    logging.getLogger("django_upsolve").addHandler(logging.NullHandler())
    logging.getLogger("django_upsolve").propagate = False
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    from django_upsolve import breaker
    from django_upsolve.conf import upsolve_settings
    from tests.reliability.faultserver import HTML_502, FaultServer, Respond, Stall, refused_port

    key = upsolve_settings.API_KEY
    get_user_model().objects.create_user("ada", password=PASSWORD)
    client = Client()

    def log_in() -> float:
        started = time.perf_counter()
        response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        client.cookies.clear()
        return elapsed

    def upsolve(**changes: object) -> override_settings:
        return override_settings(UPSOLVE={**upsolve_settings.raw, **changes})

    def measure(
        name: str, setup: Callable[[], None] = lambda: None, logins: int = args.logins
    ) -> list[float]:
        setup()
        log_in()  # warm up: connections, caches
        times = [log_in() for _ in range(logins)]
        print(f"{name}: {logins} logins", file=sys.stderr)
        return times

    rows: dict[str, list[float]] = {}
    with FaultServer(api_key=key) as server, upsolve(API_URL=server.api_url):
        with upsolve(SYNC_ON_LOGIN=False):
            rows["no sync (baseline)"] = measure("no sync (baseline)")
        baseline = statistics.median(rows["no sync (baseline)"])
        rows["healthy"] = measure("healthy", breaker.reset)

        def down_and_open() -> None:
            server.always(Respond(503, HTML_502))
            breaker.record_failure(open_for=3600)

        rows["breaker open"] = measure("breaker open", down_and_open)
        requests_before = server.count()
        log_in()
        assert server.count() == requests_before, "no request may leave while the breaker is open"
        receiver = receiver_alone(get_user_model().objects.get(username="ada"), args.logins)

    # Kept closed (a huge threshold) to show what each failure costs: two attempts and the
    # backoff between them. Fewer logins: each one sleeps.
    with (
        refused_port() as port,
        upsolve(API_URL=f"http://127.0.0.1:{port}/v1/api/projects", BREAKER_THRESHOLD=10**9),
    ):
        rows["refused, breaker closed"] = measure(
            "refused, breaker closed", breaker.reset, logins=min(args.logins, 20)
        )

    print()
    print(f"{'scenario':<28}{'median ms':>11}{'p95 ms':>9}{'added ms':>10}")
    for name, times in rows.items():
        median, p95 = statistics.median(times), percentile(times, 95)
        added = median - baseline
        print(f"{name:<28}{median * 1000:>11.2f}{p95 * 1000:>9.2f}{added * 1000:>10.2f}")
    added_open = (statistics.median(rows["breaker open"]) - baseline) * 1000
    verdict = "OK" if added_open < TARGET_MS else "OVER"
    print(f"\nbreaker open adds {added_open:.2f} ms per login: {verdict} (target < {TARGET_MS} ms)")
    print(f"the login receiver alone, breaker open: {receiver * 1000:.2f} ms (median)")

    print(f"\nStalled Upsolve, from a closed breaker ({args.stalled} logins):")
    with FaultServer(api_key=key) as stalled, upsolve(API_URL=stalled.api_url):
        stalled.always(Stall(3600))
        breaker.reset()
        for number in range(1, args.stalled + 1):
            elapsed = log_in()
            state = breaker.status()
            print(
                f"  login {number}: {elapsed * 1000:8.1f} ms   breaker {state.state:<9} "
                f"failures {state.failures}   requests so far {stalled.count()}"
            )


def receiver_alone(user: Any, runs: int) -> float:
    """The median time of the ``user_logged_in`` receiver's work, without the login view."""
    from django_upsolve.exceptions import UpsolveError
    from django_upsolve.services import sync_login

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with contextlib.suppress(UpsolveError):
            sync_login(user)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
