"""Debian's Chromium and Playwright for Python, for every test that drives a real browser.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; override with ``UPSOLVE_CHROMIUM``)
and Playwright for Python (the ``test`` extra). Without them such a test skips, except under
CI (``CI`` set), where it fails: a browser test that silently skips proves nothing.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

CHROMIUM = os.environ.get("UPSOLVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"The browser test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def playwright_sync_api() -> Any:
    """``playwright.sync_api`` once Playwright and Chromium are both there.

    Otherwise skips the calling test, or fails it under CI.
    """
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("Playwright is not installed (pip install playwright).")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"No Chromium at {CHROMIUM} (apt-get install chromium).")
    return sync_api
