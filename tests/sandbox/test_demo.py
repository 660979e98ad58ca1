"""The demo's "Revenue overview" (``tests/sandbox/demo``), run under the demo's own settings.

The demo's apps and middleware cannot join this suite's settings, so that suite
runs in a pytest subprocess, on this run's database engine.
"""

from __future__ import annotations

from tests.helpers import run_suite


def test_the_demo_dashboard_suite_passes() -> None:
    run_suite("tests/sandbox/demo", "tests.sandbox.demo.settings")
