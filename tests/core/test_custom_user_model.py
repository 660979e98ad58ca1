"""The app works with a custom user model (UUID primary key, e-mail login).

``AUTH_USER_MODEL`` cannot change inside one test run, so the suite in
``tests/custom_user`` runs in a pytest subprocess under its own settings.
"""

from __future__ import annotations

from tests.helpers import run_suite


def test_suite_passes_with_a_uuid_email_user_model():
    run_suite("tests/custom_user", "tests.custom_user.settings")
