"""The demo's processes: the web server and the task worker start, run and stop together.

``manage.py demo`` runs each as a child process and waits for either to end. Whichever way
the demo ends (Ctrl-C, ``SIGTERM``, the server or the worker dying), the other one is
stopped too: no worker is left behind polling a database nobody serves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import IO

#: How often the children are checked, in seconds.
POLL_INTERVAL = 0.2
#: How long a child may take to stop after ``SIGTERM`` before it is killed, in seconds.
STOP_TIMEOUT = 10.0


class Children:
    """Child processes started by name, waited for together, stopped together."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: Sequence[str], *, prefix: str = "") -> int:
        """Start ``args``; its output goes to ours, each line led by ``prefix``. The pid."""
        output = subprocess.PIPE if prefix else None
        process = subprocess.Popen(  # noqa: S603  (our own manage.py commands)
            args,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=output,
            stderr=subprocess.STDOUT if prefix else None,
        )
        if process.stdout is not None:
            threading.Thread(target=_copy_lines, args=(process.stdout, prefix), daemon=True).start()
        self.processes[name] = process
        return process.pid

    def wait_for_any(self) -> tuple[str, int]:
        """Block until one child exits; its name and exit status."""
        while True:
            for name, process in self.processes.items():
                status = process.poll()
                if status is not None:
                    return name, status
            time.sleep(POLL_INTERVAL)

    def stop_all(self) -> None:
        """Ask every child still running to stop, then kill those that will not."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _copy_lines(stream: IO[bytes], prefix: str) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


#: The signals that stop the demo: Ctrl-C (to the whole process group) and ``kill``.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals_as_interrupt() -> Iterator[None]:
    """``SIGINT`` and ``SIGTERM`` raise ``KeyboardInterrupt`` meanwhile, so cleanup runs.

    ``SIGINT`` too, because a process started with it ignored (a background job of a
    non-interactive shell) keeps ignoring it, while the worker sets its own handler: Ctrl-C
    to the process group would then stop the worker alone, and the demo would report it dead.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
