"""Beyond one machine: several web processes and several ``db_worker`` processes sharing one
PostgreSQL database and one Redis, and a crowd of first logins at once.

Every user of every tenant logs in for the first time, through web processes taken in turn,
and opens the dashboard page; workers run the queued syncs meanwhile. Upsolve must hear of
each tenant once and of each user once, every user must end with a token their page embeds,
and every task must have succeeded.

The sizes default to the deliverable's 50 tenants of 10 users, 2 web processes and 3
workers; for a local stress run, set ``UPSOLVE_BG_TENANTS``, ``UPSOLVE_BG_USERS_PER_TENANT``,
``UPSOLVE_BG_WEB_PROCESSES``, ``UPSOLVE_BG_WORKERS``, ``UPSOLVE_BG_CLIENTS`` (concurrent
browsers) and ``UPSOLVE_BG_LATENCY`` (seconds the stand-in takes per call).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability.faultserver import Upsolve
from tests.reliability.helpers import assert_secret_free

from .processes import SYNC_TASK, Browser, Site, wait_for

pytestmark = pytest.mark.slow

TENANTS = int(os.environ.get("UPSOLVE_BG_TENANTS", "50"))
USERS_PER_TENANT = int(os.environ.get("UPSOLVE_BG_USERS_PER_TENANT", "10"))
WEB_PROCESSES = int(os.environ.get("UPSOLVE_BG_WEB_PROCESSES", "2"))
WORKERS = int(os.environ.get("UPSOLVE_BG_WORKERS", "3"))
CLIENTS = int(os.environ.get("UPSOLVE_BG_CLIENTS", "32"))
LATENCY = float(os.environ.get("UPSOLVE_BG_LATENCY", "0.02"))
ORGANIZATION_LATENCY = 0.25


def test_first_logins_across_web_and_worker_processes(site: Site) -> None:
    emails = [f"user{u}@tenant{t}.test" for t in range(TENANTS) for u in range(USERS_PER_TENANT)]
    site.load_users(emails)
    random.Random(9).shuffle(emails)  # the tenants' users arrive interleaved
    site.worker_upsolve.always(Upsolve(delay=LATENCY))
    # A slow first answer per tenant: its other users' syncs meet the registration in flight.
    site.worker_upsolve.script(
        *[Upsolve(delay=ORGANIZATION_LATENCY)] * TENANTS, call="register-organization"
    )
    web_urls = [site.web(f"web{n}") for n in range(WEB_PROCESSES)]
    workers = [site.worker(f"worker{n}") for n in range(WORKERS)]
    browsers = [Browser(web_urls[n % WEB_PROCESSES]) for n in range(len(emails))]
    ready = threading.Barrier(min(CLIENTS, len(emails)))

    def first_login(n: int) -> tuple[int, str, int]:
        if n < ready.parties:
            ready.wait(timeout=60)  # the first wave of clients starts together
        response = browsers[n].log_in(emails[n])
        page = browsers[n].get("/dashboard/")
        return response.status_code, response.headers.get("Location", ""), page.status_code

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(first_login, range(len(emails))))
        logins_done = time.monotonic() - started
        assert answers == [(302, "/dashboard/", 200)] * len(emails)

        def all_synced() -> bool:
            tasks = site.tasks()
            return len(tasks) == len(emails) and all(
                task["status"] not in {"READY", "RUNNING"} for task in tasks
            )

        wait_for(all_synced, timeout=60 + 0.2 * len(emails), what="every sync", alive=workers)
        synced = time.monotonic() - started

        # Each user logged in once and opened a page: one sync task each, all successful.
        tasks = site.tasks()
        assert Counter((task["status"], task["return_value"]) for task in tasks) == {
            ("SUCCESSFUL", "synced"): len(emails)
        }
        assert sorted(int(task["args_kwargs"]["args"][0]) for task in tasks) == list(
            range(1, len(emails) + 1)
        )
        # No other task failed or was lost either (the proactive sweep waits for its time).
        others = site.database.query(
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE task_path <> %s",
            SYNC_TASK,
        )
        assert {row["status"] for row in others} <= {"READY", "SUCCESSFUL"}

        # Upsolve heard of each tenant once and of each user once; only workers called it.
        calls = Counter(site.worker_upsolve.calls())
        assert calls == {
            "register-organization": TENANTS,
            "register-user": len(emails),
            "user-token": len(emails),
        }
        requests = site.worker_upsolve.requests
        organizations = Counter(
            r.body["externalId"] for r in requests if r.call == "register-organization"
        )
        assert organizations == {f"tenant{t}.test": 1 for t in range(TENANTS)}
        registered = Counter(r.body["userId"] for r in requests if r.call == "register-user")
        assert set(registered.values()) == {1}
        assert site.web_upsolve.count() == 0

        # Every user holds a token of their tenant, which their next page embeds.
        profiles = site.profiles()
        assert set(profiles) == set(emails)
        assert {str(p["upsolve_user_id"]) for p in profiles.values()} == set(registered)
        for email, profile in profiles.items():
            assert profile["tenant"] == email.split("@")[1]
            assert profile["token"] and not profile["last_error"]
        assert len({p["token"] for p in profiles.values()}) == len(emails)
        with ThreadPoolExecutor(CLIENTS) as pool:
            pages = list(
                pool.map(lambda n: browsers[n].get("/dashboard/").text, range(len(emails)))
            )
        for email, page in zip(emails, pages, strict=True):
            assert f"?jwt={profiles[email]['token']}&amp;" in page
        assert site.web_upsolve.count() == 0
    finally:
        for browser in browsers:
            browser.close()
    site.processes.stop_all()
    for process in site.processes.started:
        assert_secret_free(process.output())
        output = process.output(until_stopped=True)
        assert "ERROR" not in output and "Traceback" not in output, output[-3000:]
    print(f"{len(emails)} logins in {logins_done:.1f} s, all synced after {synced:.1f} s")
