"""A login in background mode, its sync run by a real ``db_worker`` process.

The web process (gunicorn) and the worker are separate processes on one PostgreSQL database
and one Redis; each reaches its own stand-in Upsolve over HTTP, so the test sees that the
login itself made no call and that the worker made the three of a first login.
"""

from __future__ import annotations

import pytest

from tests.reliability.helpers import assert_secret_free

from .processes import Browser, Database, Site, manage, process_env, wait_for

ADA = "ada@acme.test"
PENDING = 'data-upsolve-placeholder="pending"'


def test_the_setup_passes_the_system_checks(template_database: Database) -> None:
    """Background mode on django-tasks-db: no error or warning of the app's checks."""
    env = process_env(template_database, "unused", "http://127.0.0.1:9/v1/api/projects")
    assert "no issues" in manage(env, "check", "--fail-level=WARNING")


@pytest.mark.slow
def test_a_db_worker_process_runs_the_sync_a_login_queued(site: Site) -> None:
    site.load_users([ADA])
    with Browser(site.web()) as ada:
        response = ada.log_in(ADA)
        assert response.status_code == 302
        assert response.headers["Location"] == "/dashboard/"

        # The login queued the sync and called nobody; until a worker runs it, the page
        # holds a pending frame and the token endpoint says a token is on its way.
        assert site.web_upsolve.count() == site.worker_upsolve.count() == 0
        [queued] = site.tasks()
        assert queued["status"] == "READY"
        assert queued["args_kwargs"]["args"] == ["1"]  # ada's pk
        assert queued["args_kwargs"]["kwargs"]["fresh_token"] is True
        assert PENDING in ada.get("/dashboard/").text
        pending = ada.post_token()
        assert pending.status_code == 202
        assert pending.json() == {"status": "pending"}
        assert len(site.tasks()) == 1, "a page must not queue a second sync"

        worker = site.worker()
        wait_for(lambda: site.token_of(ADA) != "", timeout=30, what="the token", alive=[worker])
        token = site.token_of(ADA)
        assert site.worker_upsolve.calls() == [
            "register-organization",
            "register-user",
            "user-token",
        ]
        assert site.worker_upsolve.tokens == [token]
        wait_for(
            lambda: site.tasks()[0]["status"] not in {"READY", "RUNNING"},
            timeout=10,
            what="the task's result",
            alive=[worker],
        )
        [done] = site.tasks()
        assert (done["status"], done["return_value"]) == ("SUCCESSFUL", "synced")

        # The page now embeds the token, and so does the token endpoint.
        page = ada.get("/dashboard/").text
        assert PENDING not in page
        assert f"/share/dashboard/dash-1?jwt={token}&amp;theme=light" in page
        assert ada.post_token().json()["token"] == token
        assert site.web_upsolve.count() == 0
        assert site.profiles()[ADA]["sync_queued_at"] is None
    site.processes.stop_all()
    for process in site.processes.started:
        assert_secret_free(process.output())
        assert "ERROR" not in process.output(until_stopped=True)
