"""The test settings with ``AUTH_USER_MODEL`` swapped for a UUID-keyed e-mail user."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]  # noqa: F405
AUTH_USER_MODEL = "custom_user.EmailUser"
