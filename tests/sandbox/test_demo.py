"""The demo's "Revenue overview" (``tests/sandbox/demo``), run under the demo's own settings.

The demo's apps and middleware cannot join this suite's settings, so that suite
runs in a pytest subprocess, on this run's database engine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_dashboard_suite_passes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/sandbox/demo",
            "--ds=tests.sandbox.demo.settings",
            "-q",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout
    assert "skipped" not in result.stdout
