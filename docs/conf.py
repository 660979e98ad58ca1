"""Sphinx configuration of the django-upsolve documentation.

Autodoc imports the package's modules, models included, so Django is set up here with the
smallest settings that load the app: no database is touched and no test settings are needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django_upsolve",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
)
django.setup()

from django_upsolve import __version__  # noqa: E402  (needs the path above)

project = "django-upsolve"
author = "django-upsolve contributors"
copyright = "django-upsolve contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
# The build must not reach the network: no intersphinx, no remote images.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "alabaster"
html_title = f"django-upsolve {release}"
html_theme_options = {
    "description": "Upsolve AI dashboards for Django projects",
    "fixed_sidebar": True,
}
