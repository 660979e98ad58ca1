"""Without Chromium a browser test skips on a laptop and fails under CI, in every suite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

from . import chromium

MISSING = "/nonexistent/chromium"


def test_without_chromium_a_browser_test_skips(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(chromium, "CHROMIUM", MISSING)
    with pytest.raises(pytest.skip.Exception, match=f"No Chromium at {MISSING}"):
        chromium.playwright_sync_api()


def test_every_browser_suite_fails_under_ci_without_chromium():
    suites = ["tests/browser/test_demo.py", "tests/sandbox/test_browser.py"]
    env = {**os.environ, "CI": "true", "UPSOLVE_CHROMIUM": MISSING}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-rfE", *suites],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "skipped" not in output
    for suite in suites:
        assert f"{suite}::" in output, output
    assert output.count(f"cannot run in CI: No Chromium at {MISSING}") >= len(suites), output
