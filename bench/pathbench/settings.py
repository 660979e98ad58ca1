"""Settings of the bench site, for each process the bench starts (web, worker, commands).

The environment picks the configuration: ``BENCH_CONFIG`` (one of
:data:`pathbench.configs.CONFIGS`), ``BENCH_DATABASE`` (a PostgreSQL URL),
``BENCH_REDIS_URL`` and ``BENCH_CACHE_PREFIX``, ``BENCH_UPSOLVE_URL`` (the stand-in's port for
this process) and ``BENCH_SCALE`` (how much faster than real time tokens and activity run).
Only the two app configurations install django-upsolve; every configuration has the same
middleware, sessions in the database, a Redis cache and persistent database connections, as a
production site would.
"""

from __future__ import annotations

import os

import environ

from pathbench import configs

env = environ.Env()
CONFIG = env("BENCH_CONFIG", default=configs.NO_APP)
SCALE = env.float("BENCH_SCALE", default=1.0)
APP = CONFIG in configs.APP_CONFIGS

SECRET_KEY = "request-path-bench-not-secret"
DEBUG = False  # DEBUG keeps every query in memory: the worker's memory would grow.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "pathbench",
]
if APP:
    INSTALLED_APPS.append("django_upsolve")
if CONFIG == configs.BACKGROUND:
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

MIDDLEWARE = [
    "pathbench.tagging.TagViewMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
if CONFIG == configs.SEED:
    MIDDLEWARE.append("pathbench.seed.SeedUpsolveMiddleware")

ROOT_URLCONF = "pathbench.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("BENCH_DATABASE", default="postgres:///request_path")}
DATABASES["default"]["CONN_MAX_AGE"] = 600
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("BENCH_REDIS_URL", default="redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": env("BENCH_CACHE_PREFIX", default=f"request-path-{os.getpid()}"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
# A fast hasher: the bench times what Upsolve adds to a login, not PBKDF2's rounds.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django_upsolve": {"handlers": ["stderr"], "level": "WARNING"}},
}

#: What every configuration that talks to Upsolve uses (the seed middleware reads it too).
UPSOLVE = {
    "API_KEY": configs.API_KEY,
    "PROJECT_ID": "0d8f6a52-1c3e-4f7a-9b2d-6e5c4a3b2f10",
    "DEFAULT_ROLE_ID": "7a4e2c1b-9d8f-4b6a-8c5e-3f2d1a0b9c87",
    "API_URL": env("BENCH_UPSOLVE_URL", default="http://127.0.0.1:9/v1/api/projects"),
    "SYNC_ON_LOGIN": "background" if CONFIG == configs.BACKGROUND else True,
    "TOKEN_EXPIRATION": configs.scaled(configs.TOKEN_EXPIRATION, SCALE),
    "REFRESH_MARGIN": configs.scaled(configs.REFRESH_MARGIN, SCALE),
    "ACTIVE_WINDOW": configs.scaled(configs.ACTIVE_WINDOW, SCALE),
}
#: The dashboard every configuration's page embeds.
DASHBOARD_ID = "bench-dashboard"
