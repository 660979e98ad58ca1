"""Databases, servers and workers of the background tests: created, started, stopped.

Every process runs ``tests.background.settings`` from the repository's root, on the test's
own PostgreSQL database (a copy of a migrated template, made per test) and its own Redis
key prefix. Output goes to a log file per process, shown when a process fails to start.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from django.contrib.auth.hashers import make_password
from psycopg.rows import dict_row

from tests.helpers import PASSWORD, ROOT
from tests.reliability.faultserver import FaultServer

#: The PostgreSQL server the tests' databases live on (the server of ``tests.settings``).
SERVER_URL = os.environ.get("TEST_POSTGRES_URL") or "postgres://postgres@127.0.0.1:5432/test"
SETTINGS = "tests.background.settings"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
WEB_THREADS = 4
#: The task every login and page queues in background mode.
SYNC_TASK = "django_upsolve.tasks.sync_user"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Database:
    """A database on the test PostgreSQL server, by name."""

    name: str

    @property
    def url(self) -> str:
        return urlsplit(SERVER_URL)._replace(path=f"/{self.name}").geturl()

    def connect(self) -> psycopg.Connection[dict[str, Any]]:
        """A connection in autocommit mode whose rows are dicts."""
        return psycopg.connect(self.url, autocommit=True, row_factory=dict_row)

    def query(self, sql: str, *params: object) -> list[dict[str, Any]]:
        with self.connect() as connection:
            return connection.execute(sql, params).fetchall()

    def create(self, *, template: Database | None = None) -> None:
        suffix = f' TEMPLATE "{template.name}"' if template is not None else ""
        with psycopg.connect(SERVER_URL, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{self.name}"{suffix}')

    def drop(self) -> None:
        with psycopg.connect(SERVER_URL, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def process_env(database: Database, cache_prefix: str, api_url: str) -> dict[str, str]:
    """The environment of a process of the test: its database, Redis prefix and Upsolve."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "UPSOLVE_BG_DATABASE_URL": database.url,
        "UPSOLVE_BG_CACHE_PREFIX": cache_prefix,
        "UPSOLVE_BG_API_URL": api_url,
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: Mapping[str, str], *args: str) -> str:
    """``python -m django <args>`` under the background settings; its output (it must pass)."""
    result = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def load_users(env: Mapping[str, str], folder: Path, emails: list[str]) -> None:
    """Users ``emails[i]`` (username: the address), who log in with ``PASSWORD``, loaded
    in one ``loaddata``; pks follow the list from 1."""
    password = make_password(PASSWORD)
    objects = [
        {
            "model": "auth.user",
            "pk": pk,
            "fields": {"username": email, "email": email, "password": password},
        }
        for pk, email in enumerate(emails, start=1)
    ]
    fixture = folder / "users.json"
    fixture.write_text(json.dumps(objects))
    manage(env, "loaddata", str(fixture))


@dataclass
class Process:
    """A process of the test; its output is in ``log``."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    #: How much had been written to ``log`` when :meth:`stop` was called.
    stopped_at: int | None = None

    def output(self, *, until_stopped: bool = False) -> str:
        """What the process wrote (unbuffered), or only what it wrote before :meth:`stop`.

        A process's own shutdown is not the test's: django-tasks-db's ``db_worker`` leaves its
        SIGTERM handler through ``sys.exit()``, which, landing in the middle of its poll,
        prints a traceback about the interrupted transaction.
        """
        data = self.log.read_bytes()
        if until_stopped and self.stopped_at is not None:
            data = data[: self.stopped_at]
        return data.decode(errors="replace")

    def stop(self) -> None:
        """Terminate, wait, kill on timeout."""
        if self.popen.poll() is None:
            self.stopped_at = self.log.stat().st_size
            self.popen.terminate()
            try:
                self.popen.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Processes:
    """The processes one test started; :meth:`stop_all` ends them all (a fixture calls it)."""

    folder: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                argv, cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT
            )
        process = Process(name, popen, log)
        self.started.append(process)
        return process

    def web(self, name: str, env: Mapping[str, str]) -> str:
        """A gunicorn server (one process of ``WEB_THREADS`` threads), up; its base URL."""
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "django.core.wsgi:get_wsgi_application()",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            f"--threads={WEB_THREADS}",
            "--worker-class=gthread",
            "--backlog=1024",
            "--no-control-socket",
        ]
        return self._serving(self.start(name, argv, env), port)

    def asgi(self, name: str, env: Mapping[str, str]) -> str:
        """A uvicorn server running Django's ASGI application, up; its base URL."""
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "django.core.asgi:get_asgi_application",
            "--host=127.0.0.1",
            f"--port={port}",
            "--no-access-log",
        ]
        return self._serving(self.start(name, argv, env), port)

    def worker(self, name: str, env: Mapping[str, str]) -> Process:
        """A ``db_worker`` process, polling every 0.2 s while idle."""
        argv = [
            sys.executable,
            "-m",
            "django",
            "db_worker",
            "--interval=0.2",
            "--no-startup-delay",
            "--no-reload",
            f"--worker-id={name}",
        ]
        return self.start(name, argv, env)

    def _serving(self, process: Process, port: int) -> str:
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: _answers(url),
            timeout=STARTUP_TIMEOUT,
            what=f"{process.name} to serve {url}",
            alive=[process],
        )
        return url

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


def _answers(url: str) -> bool:
    try:
        requests.get(f"{url}/async/ping/", timeout=2)
    except requests.RequestException:
        return False
    return True


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Sequence[Process] = (),
    interval: float = 0.1,
) -> float:
    """Poll ``condition`` until it holds; fail after ``timeout`` s, or at once when a process
    of ``alive`` exits (showing its output). Returns the seconds waited."""
    start = time.monotonic()
    while not condition():
        for process in alive:
            if process.popen.poll() is not None:
                pytest.fail(f"{process.name} exited:\n{process.output()[-3000:]}", pytrace=False)
        if time.monotonic() - start > timeout:
            logs = "\n".join(f"--- {p.name}\n{p.output()[-2000:]}" for p in alive)
            pytest.fail(f"Timed out waiting for {what}.\n{logs}", pytrace=False)
        time.sleep(interval)
    return time.monotonic() - start


@dataclass
class Browser:
    """One user's HTTP client: a session with its cookies, as a browser keeps them."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def log_in(self, username: str) -> requests.Response:
        """Log in through the login view (its form first, for the CSRF cookie)."""
        url = self.base_url + "/accounts/login/"
        self.session.get(url, timeout=30).raise_for_status()
        return self.session.post(
            url,
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=30,
        )

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=30)

    def post_token(self) -> requests.Response:
        """Ask the token endpoint, as ``upsolve.js`` does (with the CSRF header)."""
        return self.session.post(
            self.base_url + "/upsolve/token/",
            headers={"X-CSRFToken": self.session.cookies["csrftoken"]},
            timeout=30,
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class Site:
    """One test's deployment: web processes and workers on one database and one Redis
    prefix. Web processes reach Upsolve at ``web_upsolve`` and workers at
    ``worker_upsolve``, so each stand-in counts the calls of one side."""

    database: Database
    cache_prefix: str
    web_upsolve: FaultServer
    worker_upsolve: FaultServer
    processes: Processes

    def env(self, upsolve: FaultServer) -> dict[str, str]:
        return process_env(self.database, self.cache_prefix, upsolve.api_url)

    def web(self, name: str = "web") -> str:
        """A gunicorn server; its base URL."""
        return self.processes.web(name, self.env(self.web_upsolve))

    def asgi(self, name: str = "asgi") -> str:
        """A uvicorn server; its base URL."""
        return self.processes.asgi(name, self.env(self.web_upsolve))

    def worker(self, name: str = "worker") -> Process:
        return self.processes.worker(name, self.env(self.worker_upsolve))

    def load_users(self, emails: list[str]) -> None:
        load_users(self.env(self.web_upsolve), self.processes.folder, emails)

    def tasks(self) -> list[dict[str, Any]]:
        """The rows of the sync tasks, oldest first."""
        return self.database.query(
            "SELECT status, args_kwargs, return_value FROM django_tasks_database_dbtaskresult"
            " WHERE task_path = %s ORDER BY enqueued_at",
            SYNC_TASK,
        )

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Each user's profile row, by username, with its tenant's external id."""
        rows = self.database.query(
            "SELECT u.username, p.token, p.token_expires_at, p.upsolve_user_id, p.last_error,"
            " p.sync_queued_at, t.external_id AS tenant FROM django_upsolve_upsolveprofile p"
            " JOIN auth_user u ON u.id = p.user_id"
            " LEFT JOIN django_upsolve_upsolvetenant t ON t.id = p.tenant_id"
        )
        return {row.pop("username"): row for row in rows}

    def token_of(self, username: str) -> str:
        """The token stored for ``username`` (``""`` when none)."""
        return str(self.profiles().get(username, {}).get("token") or "")
