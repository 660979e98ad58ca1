"""Settings of the demo SaaS, read from the environment (and an optional ``.env`` file).

Logins sync with Upsolve in background mode: tasks on django-tasks-db, run by the
``db_worker`` process that ``manage.py demo`` starts beside the server
(``UPSOLVE_SYNC_ON_LOGIN=inline`` syncs inside the login request instead).

Without ``UPSOLVE_API_KEY`` the demo talks to the Upsolve sandbox mounted in
this very site at ``<DEMO_BASE_URL>/sandbox/``; with ``UPSOLVE_API_KEY``,
``UPSOLVE_PROJECT_ID`` and ``UPSOLVE_ROLE_ID`` (and optionally
``UPSOLVE_API_URL``, ``UPSOLVE_HUB_URL``, ``UPSOLVE_APPLICATION_HUB_URL`` and
``UPSOLVE_DASHBOARD_ID``) it talks to the real Upsolve.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

from django_upsolve.conf import DEFAULTS as UPSOLVE_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()
if (BASE_DIR.parent / ".env").is_file():
    environ.Env.read_env(BASE_DIR.parent / ".env")

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="demo-only-secret-key-do-not-use-in-production")

#: Where the demo is served; the sandbox URLs below point back at it.
DEMO_BASE_URL = env("DEMO_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEMO_HOST = urlsplit(DEMO_BASE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[DEMO_HOST, "127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_upsolve",
    "demo_project.saas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "demo_project.saas.middleware.canonical_host",
    "demo_project.saas.middleware.content_security_policy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
#: SQLite, shared by the server's threads and the worker: writers queue (for up to 20 s)
#: instead of failing with "database is locked", transactions take their write lock when
#: they begin, and readers never wait for a writer (write-ahead log).
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;",
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "/static/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "django_upsolve.log.RedactTokensFilter"}},
    "formatters": {
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["redact_tokens"],
        },
    },
    "loggers": {
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django_upsolve": {"handlers": ["console"], "level": "INFO"},
    },
}

UPSOLVE_API_KEY = env("UPSOLVE_API_KEY", default="")
#: True when the demo runs against its own sandbox rather than the real Upsolve.
DEMO_SANDBOX = not UPSOLVE_API_KEY

if DEMO_SANDBOX:
    INSTALLED_APPS.append("django_upsolve.sandbox")
    # The sandbox keeps its own database, as the real Upsolve keeps its own: a login that
    # calls the sandbox over HTTP never waits on a SQLite lock its own request holds.
    DATABASES["sandbox"] = env.db(
        "DEMO_SANDBOX_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'sandbox.sqlite3'}"
    )
    DATABASE_ROUTERS = ["demo_project.saas.routers.SandboxRouter"]
    #: The sandbox's key, local to this demo: derived from SECRET_KEY unless given.
    DEMO_SANDBOX_API_KEY = env("DEMO_SANDBOX_API_KEY", default="") or (
        "up_admin_local_demo_sandbox_"
        + salted_hmac("demo", "sandbox key", SECRET_KEY, algorithm="sha256").hexdigest()[:32]
    )
    UPSOLVE = {
        "API_KEY": DEMO_SANDBOX_API_KEY,
        "PROJECT_ID": "6a1f8f5e-3f0b-4b43-9a55-2c7b1c0de001",
        "DEFAULT_ROLE_ID": "0c5d2d84-6a57-4cc5-8f2a-5e0b1c0de002",
        "API_URL": f"{DEMO_BASE_URL}/sandbox/api",
        "HUB_URL": f"{DEMO_BASE_URL}/sandbox",
        "APPLICATION_HUB_URL": f"{DEMO_BASE_URL}/sandbox",
    }
else:
    UPSOLVE = {
        "API_KEY": UPSOLVE_API_KEY,
        "PROJECT_ID": env("UPSOLVE_PROJECT_ID", default=""),
        "DEFAULT_ROLE_ID": env("UPSOLVE_ROLE_ID", default=""),
        "API_URL": env("UPSOLVE_API_URL", default=UPSOLVE_DEFAULTS["API_URL"]),
        "HUB_URL": env("UPSOLVE_HUB_URL", default=UPSOLVE_DEFAULTS["HUB_URL"]),
        "APPLICATION_HUB_URL": env(
            "UPSOLVE_APPLICATION_HUB_URL", default=UPSOLVE_DEFAULTS["APPLICATION_HUB_URL"]
        ),
    }

for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _database.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)

#: Shared by the server and the worker: the circuit breaker and the sync locks of one
#: process are seen by the other (``manage.py demo`` creates the table).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "demo_cache",
    }
}

#: Django's tasks framework on the database: ``manage.py db_worker`` runs the tasks.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

#: How a login syncs with Upsolve: "background" (queued, run by the worker) or "inline".
SYNC_MODES = {"background": "background", "inline": True}
DEMO_SYNC_MODE = env.str("UPSOLVE_SYNC_ON_LOGIN", default="background")
if DEMO_SYNC_MODE not in SYNC_MODES:
    raise ImproperlyConfigured(
        f"UPSOLVE_SYNC_ON_LOGIN={DEMO_SYNC_MODE!r}: use one of {', '.join(SYNC_MODES)}."
    )

UPSOLVE |= {
    "ADAPTER": "demo_project.saas.adapter.OrganizationAdapter",
    "SYNC_ON_LOGIN": SYNC_MODES[DEMO_SYNC_MODE],
    "TOKEN_EXPIRATION": env.int(
        "UPSOLVE_TOKEN_EXPIRATION", default=UPSOLVE_DEFAULTS["TOKEN_EXPIRATION"]
    ),
    "REFRESH_MARGIN": env.int("UPSOLVE_REFRESH_MARGIN", default=UPSOLVE_DEFAULTS["REFRESH_MARGIN"]),
}

#: The dashboard the analytics page embeds (any id works in the sandbox).
DEMO_DASHBOARD_ID = env("UPSOLVE_DASHBOARD_ID", default="revenue-overview")

#: In sandbox mode that dashboard is the "Revenue overview", drawn from the demo's invoices
#: (demo_project.saas.dashboards) and filtered by each token's ``organization_id`` and
#: ``plan`` properties, as the dashboard's row-level security rules would in Upsolve.
UPSOLVE_SANDBOX = {
    "API_KEY": UPSOLVE["API_KEY"] if DEMO_SANDBOX else "",
    "DASHBOARDS": {
        DEMO_DASHBOARD_ID: {
            "title": "Revenue overview",
            "description": "Invoices your organization sent its customers.",
            "panels": [
                {
                    "kind": "figure",
                    "title": "Total revenue",
                    "data": "demo_project.saas.dashboards.total_revenue",
                    "format": "${:,.0f}",
                },
                {
                    "kind": "figure",
                    "title": "Invoices",
                    "data": "demo_project.saas.dashboards.invoice_count",
                },
                {
                    "kind": "figure",
                    "title": "Paying customers",
                    "data": "demo_project.saas.dashboards.customer_count",
                },
                {
                    "kind": "bar",
                    "title": "Revenue per month",
                    "data": "demo_project.saas.dashboards.revenue_per_month",
                    "format": "${:,.0f}",
                },
                {
                    "kind": "top",
                    "title": "Top customers",
                    "data": "demo_project.saas.dashboards.top_customers",
                    "format": "${:,.0f}",
                },
            ],
        }
    },
}
