"""The demo served by a real ``manage.py demo`` process, and Debian's Chromium to drive it.

What the browser needs, and when its absence skips or fails, is in :mod:`.chromium`.
``UPSOLVE_SCREENSHOTS`` names a folder to keep the screenshots in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import ROOT

from .chromium import CHROMIUM, CHROMIUM_ARGS, playwright_sync_api

#: The demo's tokens live 8 s and are refreshed 3 s before they expire.
TOKEN_EXPIRATION = 8
REFRESH_MARGIN = 3
STARTUP_TIMEOUT = 60


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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The demo server exited:\n{log.read_text()}", pytrace=False)
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    pytest.fail(f"The demo server did not come up:\n{log.read_text()}", pytrace=False)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``manage.py demo`` on a free port, with fresh SQLite databases and short-lived tokens.

    Its log must never show a token, though every page view puts one in an iframe URL.
    """
    folder = tmp_path_factory.mktemp("demo")
    base_url = f"http://127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_project.settings",
        "DEMO_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "DEMO_SANDBOX_DATABASE_URL": f"sqlite:///{folder / 'sandbox.sqlite3'}",
        "UPSOLVE_API_KEY": "",  # the sandbox, whatever the environment or a .env file says
        "UPSOLVE_TOKEN_EXPIRATION": str(TOKEN_EXPIRATION),
        "UPSOLVE_REFRESH_MARGIN": str(REFRESH_MARGIN),
        "PYTHONUNBUFFERED": "1",
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"{base_url}/login/", process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "jwt=eyJ" not in text, "a token leaked into the demo server's log"
    if "GET /sandbox/share/" in text:
        assert "jwt=[redacted]" in text


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    folder = os.environ.get("UPSOLVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path
