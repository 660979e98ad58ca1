"""The app works with a custom user model (UUID primary key, e-mail login).

``AUTH_USER_MODEL`` cannot change inside one test run, so the suite in
``tests/custom_user`` runs in a pytest subprocess under its own settings.
"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_suite_passes_with_a_uuid_email_user_model():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/custom_user",
            "--ds=tests.custom_user.settings",
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
