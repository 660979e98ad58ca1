"""``manage.py demo`` runs the server and its ``db_worker`` together and stops them together.

Whichever way the demo ends (Ctrl-C, the server dying, the worker dying), no process is
left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from .conftest import Demo, free_port, is_running

pytestmark = pytest.mark.slow


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["terminal", "background-job"])
def test_ctrl_c_stops_the_server_and_the_worker(tmp_path: Path, ignore_sigint: bool) -> None:
    """Also when the demo was started with ``SIGINT`` ignored: its worker replaces that with
    a handler of its own (django-tasks-db), and the demo must not then report it dead."""
    demo = Demo.start(tmp_path, ignore_sigint=ignore_sigint)
    demo.wait_until_up()
    worker = demo.worker_pid

    status = demo.stop(signal.SIGINT)

    assert status == 0, demo.log.read_text()
    assert wait_gone(worker)
    assert "Stopping the demo..." in demo.log.read_text()


def test_the_worker_stops_when_the_server_dies(tmp_path: Path) -> None:
    with socket.socket() as taken:
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen()
        demo = Demo.start(tmp_path, DEMO_BASE_URL=f"http://127.0.0.1:{port}")
        status = demo.process.wait(timeout=60)

    log = demo.log.read_text()
    assert status == 1, log
    assert "That port is already in use" in log
    assert "The server stopped (exit status 1), so the worker stops too." in log
    assert wait_gone(demo.worker_pid)


def test_the_server_stops_when_the_worker_dies(tmp_path: Path) -> None:
    demo = Demo.start(tmp_path)
    demo.wait_until_up()

    os.kill(demo.worker_pid, signal.SIGKILL)
    status = demo.process.wait(timeout=20)

    log = demo.log.read_text()
    assert status == 1, log
    assert "The worker stopped (exit status -9)" in log
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(demo.url.rsplit(":", 1)[1])), timeout=1)
