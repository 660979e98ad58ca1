"""Django settings for the test suite.

``DATABASE_URL`` picks the database of the whole suite (default: SQLite, tested in a file);
``TEST_POSTGRES_URL`` and ``REDIS_URL`` point the race and breaker tests at their servers.
"""

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

SECRET_KEY = "django-upsolve-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_upsolve",
    "django_upsolve.sandbox",
    "django_tasks_db",
]

# Background mode: Django's tasks framework (the django-tasks backport before Django 6), its
# in-process backends for unit tests and the ORM queue for real workers.
TASKS_PACKAGE = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
if TASKS_PACKAGE == "django_tasks":
    INSTALLED_APPS.append("django_tasks")
TASKS = {
    "default": {"BACKEND": f"{TASKS_PACKAGE}.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": f"{TASKS_PACKAGE}.backends.dummy.DummyBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _test_database(url: str, name: str) -> dict[str, Any]:
    """The database at ``url``, its test copy named after this process (runs never share one).

    A SQLite test database is a file, not memory: tests with real threads need SQLite's
    file locking (an in-memory database fails them with "database table is locked").
    """
    config: dict[str, Any] = env.db_url_config(url)
    test_name = f"test_django_upsolve_{name}_{os.getpid()}"
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA synchronous=OFF"}
        test_name = os.path.join(tempfile.gettempdir(), test_name + ".sqlite3")
    # No DEPENDENCIES: each test database can be set up alone.
    config["TEST"] = {"NAME": test_name, "DEPENDENCIES": []}
    return config


DATABASES = {
    "default": _test_database(env("DATABASE_URL", default="") or "sqlite://:memory:", "default"),
    # The race tests (tests/reliability/test_races.py) also run here whatever DATABASE_URL
    # says, through tests.reliability.routing.PinnedRouter: PostgreSQL has real row locks.
    "postgres": _test_database(
        env("TEST_POSTGRES_URL", default="") or "postgres://postgres@127.0.0.1:5432/test", "races"
    ),
}
DATABASE_ROUTERS = ["tests.reliability.routing.PinnedRouter"]

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # UPSOLVE["CACHE_ALIAS"] = "redis" keeps the breaker and locks in Redis (tests/reliability).
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL", default="") or "redis://127.0.0.1:6379/15",
        # Per run, so concurrent runs never share state; a subprocess can be handed the prefix.
        "KEY_PREFIX": env("UPSOLVE_TEST_CACHE_PREFIX", default="")
        or f"django-upsolve-{os.getpid()}",
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

UPSOLVE = {
    "API_KEY": "up_admin_test_0123456789abcdef",
    "PROJECT_ID": "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10",
    "DEFAULT_ROLE_ID": "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2",
    "API_URL": "https://api.upsolve.test/v1/api/projects",
}

LOGIN_REDIRECT_URL = "/accounts/done/"
