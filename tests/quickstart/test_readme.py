"""The README's Quick start, followed as written in a new project (what the README says it does).

The steps are read from README.rst (:mod:`.readme`), never copied here. In a temporary
directory, every command runs in the current interpreter, except ``pip install`` (the package
is imported from the working tree, through ``PYTHONPATH``), ``createsuperuser`` (run without
prompting) and ``runserver`` (served on a free port, which replaces ``8000`` everywhere). Each
code block is appended to the file named before it, or creates it. Once the server runs, a
user logs in through the admin's login page (``LoginView``), opens the page with the tag and
loads the framed share page from the sandbox; the access log must hold no token.
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.helpers import ROOT

from .readme import Command, Snippet, quick_start

pytestmark = pytest.mark.slow

README_SITE = "127.0.0.1:8000"
USERNAME, PASSWORD = "ada", "quick-start-passw0rd"
#: Seconds any command (or the server's start) may take.
TIMEOUT = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environment() -> dict[str, str]:
    """This environment without the test suite's settings or any Upsolve value, importing
    django_upsolve from the working tree."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "DJANGO_SETTINGS_MODULE" and not name.startswith("UPSOLVE")
    }
    env["PYTHONPATH"] = str(ROOT)
    env["DJANGO_SUPERUSER_PASSWORD"] = PASSWORD
    return env


class Project:
    """The new project the Quick start builds, and what running its steps showed."""

    def __init__(self, directory: Path, site: str) -> None:
        self.cwd = directory
        self.site = site
        self.env = clean_environment()
        self.ran: list[str] = []

    def write(self, snippet: Snippet) -> None:
        path = self.cwd / snippet.path
        code = snippet.code.replace(README_SITE, self.site) + "\n"
        if path.exists():
            code = path.read_text(encoding="utf-8") + "\n\n" + code
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=TIMEOUT
        )
        assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
        return result

    def follow(self, command: Command) -> None:
        argv = [arg.replace(README_SITE, self.site) for arg in command.argv]
        match argv:
            case ["pip", "install", *_]:
                return
            case ["cd", directory]:
                self.cwd = self.cwd / directory
                return
            case ["django-admin", *rest]:
                self.run([sys.executable, "-m", "django", *rest])
            case ["python", "manage.py", "createsuperuser"]:
                options = ["--noinput", "--username", USERNAME, "--email", "ada@example.com"]
                self.run([sys.executable, "manage.py", "createsuperuser", *options])
            case ["python", "manage.py", "runserver"]:
                with self.serving() as log:
                    token = visit(f"http://{self.site}")
                assert_no_token_in(log.read_text(encoding="utf-8"), token)
            case ["python", "manage.py", *rest]:
                self.run([sys.executable, "manage.py", *rest])
            case _:
                pytest.fail(f"The Quick start runs a command this test does not know: {argv}")
        self.ran.append(argv[2] if argv[:2] == ["python", "manage.py"] else argv[0])

    @contextmanager
    def serving(self) -> Iterator[Path]:
        """``runserver`` on the free port (threaded, as by default); yields its log file."""
        log = self.cwd / "server.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", self.site, "--noreload"],
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(f"http://{self.site}/admin/login/", server, log)
            yield log
        finally:
            server.terminate()
            server.wait(timeout=TIMEOUT)


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    ends = time.monotonic() + TIMEOUT
    while time.monotonic() < ends:
        assert server.poll() is None, log.read_text(encoding="utf-8")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"runserver did not answer:\n{log.read_text(encoding='utf-8')}")


def visit(base: str) -> str:
    """Log in through the admin's LoginView, open the page with the tag, load its frame;
    returns the token the frame was given."""
    browser = requests.Session()
    browser.trust_env = False
    # Before logging in, the page's placeholder links to a login page that exists.
    anonymous = browser.get(f"{base}/analytics/", timeout=30)
    link = re.search(r'<a href="([^"]+)"', anonymous.text)
    assert link is not None, anonymous.text
    assert browser.get(base + html.unescape(link[1]), timeout=30).status_code == 200
    form = browser.get(f"{base}/admin/login/", timeout=30)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert found is not None, form.text
    login = browser.post(
        f"{base}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": found[1], "username": USERNAME, "password": PASSWORD},
        headers={"Referer": f"{base}/admin/login/"},
        timeout=30,
    )
    assert login.url == f"{base}/admin/", login.text

    page = browser.get(f"{base}/analytics/", timeout=30)
    assert page.status_code == 200
    iframe = re.search(r'<iframe src="([^"]+)"', page.text)
    assert iframe is not None, page.text
    src = html.unescape(iframe[1])
    assert src.startswith(f"{base}/sandbox/share/dashboard/")
    (token,) = parse_qs(urlsplit(src).query)["jwt"]

    frame = browser.get(src, timeout=30)
    assert frame.status_code == 200
    assert re.search(rf'<span id="upsolve-user" [^>]*>{USERNAME}</span>', frame.text), frame.text
    return token


def assert_no_token_in(log: str, token: str) -> None:
    assert "GET /sandbox/share/dashboard/" in log, log
    assert "jwt=[redacted]" in log, log
    assert token not in log


def test_the_quick_start_works_as_written(tmp_path: Path) -> None:
    project = Project(tmp_path, f"127.0.0.1:{free_port()}")

    for step in quick_start():
        if isinstance(step, Snippet):
            project.write(step)
        else:
            project.follow(step)

    assert project.ran == [
        "django-admin",
        "migrate",
        "check",
        "createsuperuser",
        "runserver",
        "test",
    ]
