"""The demo served by a real ``manage.py demo`` process, and Debian's Chromium to drive it.

What the browser needs, and when its absence skips or fails, is in :mod:`.chromium`.
``UPSOLVE_SCREENSHOTS`` names a folder to keep the screenshots in (``docs/screenshots``
refreshes the README's).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import ROOT

from .chromium import CHROMIUM, CHROMIUM_ARGS, playwright_sync_api

#: The demo's tokens live 8 s and are refreshed 3 s before they expire, unless the test
#: module sets ``TOKEN_EXPIRATION`` and ``REFRESH_MARGIN`` itself.
TOKEN_EXPIRATION = 8
REFRESH_MARGIN = 3
STARTUP_TIMEOUT = 60
PASSWORD = "upsolve-demo"
#: The worker's pid, as the demo's banner names it.
WORKER_PID = re.compile(r"Worker: +manage\.py db_worker \(django-tasks-db\), pid (\d+)")


@pytest.fixture(scope="session")
def sync_api() -> Any:
    return playwright_sync_api()


@pytest.fixture(scope="module")
def browser(sync_api: Any) -> Iterator[Any]:
    """Chromium, closed with its module: only one Playwright may run at a time."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Demo:
    """A ``manage.py demo`` process: where it serves, its log, its settings and its worker."""

    url: str
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def database(self) -> Path:
        return self.folder / "demo.sqlite3"

    @classmethod
    def start(cls, folder: Path, *, ignore_sigint: bool = False, **environment: str) -> Demo:
        """Start the demo on a free port with fresh SQLite databases; its output in ``log``.

        ``ignore_sigint`` starts it with ``SIGINT`` ignored, as a non-interactive shell
        starts a background job (a child inherits that).
        """
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "demo_project.settings",
            "DEMO_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
            "DEMO_SANDBOX_DATABASE_URL": f"sqlite:///{folder / 'sandbox.sqlite3'}",
            "UPSOLVE_API_KEY": "",  # the sandbox, whatever the environment or a .env file says
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
        inherited = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignore_sigint else None
        try:
            with (folder / "server.log").open("wb") as output:
                process = subprocess.Popen(
                    [sys.executable, "manage.py", "demo"],
                    cwd=ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, as a terminal gives it
                )
        finally:
            if inherited is not None:
                signal.signal(signal.SIGINT, inherited)
        return cls(env["DEMO_BASE_URL"], folder, env, process)

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The demo exited:\n{self.log.read_text()}", pytrace=False)
            try:
                if requests.get(f"{self.url}/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        pytest.fail(f"The demo did not come up:\n{self.log.read_text()}", pytrace=False)

    @property
    def worker_pid(self) -> int:
        found = WORKER_PID.search(self.log.read_text())
        assert found is not None, self.log.read_text()
        return int(found.group(1))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` to the demo (its whole process group for ``SIGINT``, as Ctrl-C does)."""
        if sig == signal.SIGINT:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` on the demo's databases; its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout

    def pause_worker(self) -> None:
        """Stop the worker (``SIGSTOP``) at a moment it holds no lock on the database."""
        for _ in range(50):
            os.kill(self.worker_pid, signal.SIGSTOP)
            probe = sqlite3.connect(self.database, timeout=0.2, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return
            except sqlite3.OperationalError:
                os.kill(self.worker_pid, signal.SIGCONT)
                time.sleep(0.05)
            finally:
                probe.close()
        raise AssertionError("The worker never let go of the database.")

    def resume_worker(self) -> None:
        os.kill(self.worker_pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """``manage.py demo`` with short-lived tokens, stopped (worker too) with the module.

    Its log must never show a token, though every page view puts one in an iframe URL,
    nor a database that was locked or any traceback.
    """
    expiration = getattr(request.module, "TOKEN_EXPIRATION", TOKEN_EXPIRATION)
    margin = getattr(request.module, "REFRESH_MARGIN", REFRESH_MARGIN)
    demo = Demo.start(
        tmp_path_factory.mktemp("demo"),
        UPSOLVE_TOKEN_EXPIRATION=str(expiration),
        UPSOLVE_REFRESH_MARGIN=str(margin),
    )
    try:
        demo.wait_until_up()
        worker = demo.worker_pid
        yield demo
    finally:
        if demo.process.poll() is None:
            demo.stop()
    assert not is_running(worker), "the worker outlived the demo"
    text = demo.log.read_text()
    assert "jwt=eyJ" not in text, "a token leaked into the demo's log"
    if "GET /sandbox/share/" in text:
        assert "jwt=[redacted]" in text
    assert "database is locked" not in text
    assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def demo_server(demo: Demo) -> str:
    """The demo's address."""
    return demo.url


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    folder = os.environ.get("UPSOLVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path
