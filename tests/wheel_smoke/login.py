"""One login against the in-process sandbox, with only the installed wheel importable.

Also checks that the wheel ships its translations.

Run by ``nox -s package`` from a temporary directory, after ``check`` and ``migrate``.
"""

import importlib.util
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import translation  # noqa: E402

import django_upsolve  # noqa: E402
from django_upsolve.models import UpsolveProfile  # noqa: E402
from django_upsolve.sandbox.testing import sandbox_responses  # noqa: E402

if "site-packages" not in django_upsolve.__file__:
    sys.exit(f"django_upsolve was imported from {django_upsolve.__file__}, not the wheel")
if importlib.util.find_spec("environ") is not None:
    sys.exit("django-environ is installed: the wheel must work without it")

for language in ("de", "fr"):
    with translation.override(language):
        if translation.gettext("Upsolve profile") == "Upsolve profile":
            sys.exit(f"the wheel has no {language} translation")

user = get_user_model().objects.create_user("ada", "ada@example.com", "wheel-smoke")
with sandbox_responses() as sandbox:
    if not Client().login(username="ada", password="wheel-smoke"):
        sys.exit("login failed")
calls = [call.path for call in sandbox.calls]
if calls != ["register-organization", "register-user", "user-token"]:
    sys.exit(f"unexpected calls to the sandbox: {calls}")
profile = UpsolveProfile.objects.get(user_id=user.pk)
if not profile.has_fresh_token(0):
    sys.exit("the login stored no fresh token")
print(f"Smoke login OK: {', '.join(calls)}; a token valid until {profile.token_expires_at}")
