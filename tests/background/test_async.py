"""Background mode under an ASGI server (uvicorn): ``alogin``, ``aget_token`` and the tags in
async views.

The server runs Django's ASGI application on the test's PostgreSQL database and Redis; a
``db_worker`` process, when a test starts one, runs the syncs the logins queued.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from tests.helpers import PASSWORD

from .processes import Database, Site, wait_for

pytestmark = pytest.mark.slow

ADA = "ada@acme.test"
PENDING = 'data-upsolve-placeholder="pending"'
UNAVAILABLE = 'data-upsolve-placeholder="unavailable"'
#: What the tags log when they are rendered where the ORM cannot be used.
ACTIONABLE = (
    "ERROR django_upsolve.embed The Upsolve tags read the database, which an async context "
    "cannot do: render this template through a TemplateResponse (Django renders it in a "
    "thread) or with sync_to_async(), and use aget_token() in async code."
)


def async_log_in(base_url: str, username: str, session: requests.Session) -> requests.Response:
    """Log in through the async view that calls ``aauthenticate`` and ``alogin``."""
    return session.post(
        f"{base_url}/async/login/",
        data={"username": username, "password": PASSWORD},
        timeout=30,
    )


def lock_waits(database: Database) -> int:
    """Connections to ``database`` waiting for a lock."""
    [row] = database.query(
        "SELECT count(*) AS waiting FROM pg_stat_activity"
        " WHERE datname = %s AND wait_event_type = 'Lock'",
        database.name,
    )
    return int(row["waiting"])


def test_alogin_queues_the_sync_without_blocking_the_event_loop(site: Site) -> None:
    site.load_users([ADA])
    base_url = site.asgi()
    with requests.Session() as ada:
        assert async_log_in(base_url, ADA, ada).json() == {"user": 1}
    [first] = site.tasks()
    assert (first["status"], first["args_kwargs"]["args"]) == ("READY", ["1"])

    # The sync ran (a worker clears its mark). The next login's enqueue then has to update
    # ada's profile row, locked here: while it waits, the event loop serves other requests.
    answers: dict[str, Any] = {}

    def log_in_again() -> None:
        with requests.Session() as session:
            answers["login"] = async_log_in(base_url, ADA, session)

    login = threading.Thread(target=log_in_again)
    with site.database.connect() as locker:
        locker.execute("UPDATE django_upsolve_upsolveprofile SET sync_queued_at = NULL")
        with locker.transaction():
            locker.execute("SELECT 1 FROM django_upsolve_upsolveprofile FOR UPDATE")
            login.start()
            wait_for(lambda: lock_waits(site.database) == 1, timeout=15, what="the enqueue")
            assert requests.get(f"{base_url}/async/ping/", timeout=5).text == "pong"
            assert login.is_alive()
            assert len(site.tasks()) == 1
    login.join(timeout=30)
    assert answers["login"].json() == {"user": 1}
    first, second = site.tasks()
    assert (second["status"], second["args_kwargs"]["args"]) == ("READY", ["1"])
    assert second["args_kwargs"]["kwargs"]["fresh_token"] is True
    assert site.web_upsolve.count() == site.worker_upsolve.count() == 0


def test_async_views_serve_the_token_a_worker_stored(site: Site) -> None:
    """``aget_token`` in an async view, and the tags in a TemplateResponse of one."""
    site.load_users([ADA])
    base_url = site.asgi()
    with requests.Session() as ada:
        assert async_log_in(base_url, ADA, ada).json() == {"user": 1}
        # Nothing waits for the token: aget_token answers None, the page has a pending frame.
        assert ada.get(f"{base_url}/async/token/", timeout=30).json() == {"token": None}
        assert PENDING in ada.get(f"{base_url}/async/dashboard/", timeout=30).text
        assert len(site.tasks()) == 1

        worker = site.worker()
        wait_for(lambda: site.token_of(ADA) != "", timeout=30, what="the token", alive=[worker])
        token = site.token_of(ADA)
        assert ada.get(f"{base_url}/async/token/", timeout=30).json() == {"token": token}
        page = ada.get(f"{base_url}/async/dashboard/", timeout=30).text
        assert f"/share/dashboard/dash-1?jwt={token}&amp;theme=light" in page
    assert site.web_upsolve.count() == 0
    assert site.worker_upsolve.tokens == [token]


@pytest.mark.parametrize("user", ["lazy", "awaited"])
def test_tags_rendered_on_the_event_loop_log_why_and_show_the_placeholder(
    site: Site, user: str
) -> None:
    """``render_to_string`` in an async view: the tags cannot read the database there. They
    say what to do instead, and the page still renders (a placeholder, an empty token).
    ``awaited``: the view loaded ``request.user`` itself first."""
    site.load_users([ADA])
    base_url = site.asgi()
    with requests.Session() as ada:
        async_log_in(base_url, ADA, ada)
        dashboard = ada.get(f"{base_url}/async/render/dashboard/?user={user}", timeout=30)
        token = ada.get(f"{base_url}/async/render/token/?user={user}", timeout=30)
    assert dashboard.status_code == 200
    assert UNAVAILABLE in dashboard.text
    assert (token.status_code, token.text.strip()) == (200, "token=[]")
    site.processes.stop_all()
    log = site.processes.started[0].output()
    assert log.count(ACTIONABLE) == 2, log[-3000:]
    assert "Traceback" not in log
