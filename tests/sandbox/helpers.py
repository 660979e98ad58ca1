"""The project the sandbox tests use, authorised headers, and a clock they can set."""

from __future__ import annotations

import time
from collections.abc import Callable

from django_upsolve.sandbox.emulator import EmulatorResponse
from tests.helpers import API_KEY

PROJECT_ID = "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10"
ROLE_ID = "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2"
AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

Call = Callable[..., EmulatorResponse]


class Clock:
    """A settable clock for the emulator, starting at the current whole second."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now
