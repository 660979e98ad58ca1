"""Settings of the processes the background tests start (web servers, workers, ASGI).

Background mode on ``django-tasks-db``: every process shares one PostgreSQL database and
one Redis key prefix, both per test, and reaches its stand-in Upsolve over HTTP. The
environment names them:

``UPSOLVE_BG_DATABASE_URL``
    The test's own PostgreSQL database.
``UPSOLVE_BG_CACHE_PREFIX``
    The test's Redis key prefix (``REDIS_URL`` picks the server, as in ``tests.settings``).
``UPSOLVE_BG_API_URL``
    The stand-in Upsolve of this process: web processes and workers get separate ones, so
    that a test sees which side called Upsolve.
"""

from pathlib import Path
from typing import Any

import environ

from tests import settings as base

env = environ.Env()
HERE = Path(__file__).resolve().parent

SECRET_KEY = "django-upsolve-background-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_upsolve",
]
MIDDLEWARE = base.MIDDLEWARE
ROOT_URLCONF = "tests.background.urls"
TEMPLATES = [{**base.TEMPLATES[0], "DIRS": [base.BASE_DIR / "templates", HERE / "templates"]}]

DATABASES = {"default": env.db_url("UPSOLVE_BG_DATABASE_URL")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL", default="") or "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": env("UPSOLVE_BG_CACHE_PREFIX"),
    },
}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

UPSOLVE = {
    **base.UPSOLVE,
    "API_URL": env("UPSOLVE_BG_API_URL"),
    "SYNC_ON_LOGIN": "background",
    "TASK_BACKEND": "default",
    "CACHE_ALIAS": "default",
    # Users share a tenant by e-mail domain.
    "ADAPTER": "tests.adapters.DomainTenantAdapter",
}

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
PASSWORD_HASHERS = base.PASSWORD_HASHERS
LOGIN_REDIRECT_URL = "/dashboard/"

# Each process logs to its stderr, which the tests keep in a file and read.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"django_upsolve": {"handlers": ["stderr"], "level": "INFO"}},
}
