"""Time the Upsolve admin pages at scale: 10,000 tenants and 100,000 profiles by default.

::

    python bench/admin_changelists.py --db sqlite
    python bench/admin_changelists.py --db postgres --tenants 10000 --profiles 100000

SQLite runs on a temporary file; PostgreSQL on a throwaway database (``--pg-name``,
default ``upsolve_bench``) created on the server and dropped at the end. Users, tenants
and profiles are written with ``bulk_create`` in every registration and token state, the
tables are analysed, then each page is fetched through Django's test client as a
superuser. Printed per page: HTTP status, the first (cold) time, the median of the
following runs, and the number of SQL queries. The target is under 500 ms per page.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django
from django.conf import settings

TARGET_MS = 500
TENANTS = "/admin/django_upsolve/upsolvetenant/"
PROFILES = "/admin/django_upsolve/upsolveprofile/"
BATCH = 5000
#: Filled in once Django is set up; this module is the bench's ROOT_URLCONF.
urlpatterns: list[Any] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="fetches per page (default 5)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--show-sql", action="store_true", help="print each page's slowest query")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--pg-admin-db", default="test", help="database to connect to for CREATE")
    parser.add_argument("--pg-name", default="upsolve_bench", help="throwaway database (dropped)")
    return parser.parse_args()


@contextmanager
def database(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The ``DATABASES["default"]`` of the run; the database is removed afterwards."""
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="upsolve-bench-") as directory:
            yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(directory) / "db")}
        return
    import psycopg
    from psycopg import sql

    server = {"host": args.pg_host, "port": args.pg_port, "user": args.pg_user}
    name = sql.Identifier(args.pg_name)
    with psycopg.connect(dbname=args.pg_admin_db, autocommit=True, **server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": args.pg_name,
            "HOST": args.pg_host,
            "PORT": args.pg_port,
            "USER": args.pg_user,
        }
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(dbname=args.pg_admin_db, autocommit=True, **server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))


def configure(db: dict[str, Any]) -> None:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="upsolve-bench-not-secret",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django_upsolve",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF=__name__,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        DATABASES={"default": db},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        STATIC_URL="/static/",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        UPSOLVE={
            "API_KEY": "up_admin_bench_0123456789abcdef",
            "PROJECT_ID": str(uuid.uuid4()),
            "DEFAULT_ROLE_ID": str(uuid.uuid4()),
            "SYNC_ON_LOGIN": False,
        },
    )
    django.setup()
    from django.contrib import admin
    from django.urls import path

    urlpatterns.append(path("admin/", admin.site.urls))


def fake_token(rng: random.Random) -> str:
    """JWT-shaped text of a realistic length (never sent anywhere)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    body = "".join(rng.choices(alphabet, k=180))
    return f"eyJhbGciOiJIUzI1NiJ9.{body}.{''.join(rng.choices(alphabet, k=43))}"


def populate(n_tenants: int, n_profiles: int, seed: int) -> None:
    """Users, tenants and profiles in every state (ratios roughly as in production)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from django_upsolve.models import UpsolveProfile, UpsolveTenant

    rng = random.Random(seed)
    now = timezone.now()
    User = get_user_model()
    users = User.objects.bulk_create(
        (
            User(username=f"user{i:06d}", email=f"user{i:06d}@example.test", password="!")
            for i in range(n_profiles)
        ),
        batch_size=BATCH,
    )
    tenants = []
    for i in range(n_tenants):
        registered = rng.random() < 0.95
        failing = not registered and rng.random() < 0.5
        tenants.append(
            UpsolveTenant(
                external_id=f"org-{i:05d}",
                name=f"Tenant {i:05d} {rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella'])}",
                upsolve_id=uuid.uuid4() if registered else None,
                registered_at=now - timedelta(days=rng.randint(0, 400)) if registered else None,
                last_error="Upsolve register-organization: HTTP 503 unavailable" if failing else "",
                last_error_at=now - timedelta(minutes=rng.randint(1, 600)) if failing else None,
            )
        )
    tenants = UpsolveTenant.objects.bulk_create(tenants, batch_size=BATCH)

    def profiles() -> Iterator[UpsolveProfile]:
        for i, user in enumerate(users):
            state = rng.random()
            # 60 % valid, 10 % expiring, 20 % expired, 10 % not registered and without a token.
            lifetime = 1800 if state < 0.6 else 120 if state < 0.7 else -3600 if state < 0.9 else 0
            failing = rng.random() < 0.03
            refreshed = now - timedelta(seconds=3600 - lifetime) if lifetime else None
            yield UpsolveProfile(
                user=user,
                tenant=tenants[i % n_tenants],
                role_id=uuid.UUID(int=7),
                name=user.username,
                properties={"organization_id": tenants[i % n_tenants].external_id},
                registered_at=now - timedelta(days=rng.randint(0, 400)) if lifetime else None,
                token=fake_token(rng) if lifetime else "",
                token_expires_at=now + timedelta(seconds=lifetime) if lifetime else None,
                token_refreshed_at=refreshed,
                last_error="Upsolve user-token: HTTP 502 Bad Gateway" if failing else "",
                last_error_at=now - timedelta(minutes=rng.randint(1, 600)) if failing else None,
            )

    UpsolveProfile.objects.bulk_create(profiles(), batch_size=BATCH)
    User.objects.create_superuser("bench-admin", "admin@example.test", "bench-password")


def analyze() -> None:
    """Vacuum and gather planner statistics, as autovacuum would on a live database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def pages() -> list[tuple[str, str]]:
    from django_upsolve.models import UpsolveProfile, UpsolveTenant

    tenants, profiles = TENANTS, PROFILES
    tenant = UpsolveTenant.objects.order_by("pk")[UpsolveTenant.objects.count() // 2]
    profile = UpsolveProfile.objects.order_by("pk")[UpsolveProfile.objects.count() // 2]
    user = profile.user.get_username()
    return [
        ("tenants: first page", tenants),
        ("tenants: search name", f"{tenants}?q={tenant.name.split()[1]}"),
        ("tenants: search external id", f"{tenants}?q={tenant.external_id}"),
        ("tenants: filter registered", f"{tenants}?state=registered"),
        ("tenants: filter not registered", f"{tenants}?state=not_registered"),
        ("tenants: filter failing", f"{tenants}?state=failing"),
        ("tenants: filter users failing", f"{tenants}?state=users_failing"),
        ("tenants: sort by users", f"{tenants}?o={{users}}"),
        ("tenants: sort by valid tokens", f"{tenants}?o=-{{valid_tokens}}"),
        ("tenants: sort by registration", f"{tenants}?o=-{{registration}}"),
        ("tenants: last page", f"{tenants}?p={{last}}"),
        ("tenants: with facets", f"{tenants}?_facets=True"),
        ("tenant: change page", f"{tenants}{tenant.pk}/change/"),
        ("profiles: first page", profiles),
        ("profiles: search username", f"{profiles}?q={user}"),
        ("profiles: search e-mail", f"{profiles}?q={profile.user.email}"),
        ("profiles: search broad (10%)", f"{profiles}?q=user01"),
        ("profiles: filter token expired", f"{profiles}?token_state=expired"),
        ("profiles: filter token expiring", f"{profiles}?token_state=expiring"),
        ("profiles: filter failing", f"{profiles}?state=failing"),
        ("profiles: filter not registered", f"{profiles}?state=not_registered"),
        ("profiles: filter tenant", f"{profiles}?tenant__id__exact={tenant.pk}"),
        (
            "profiles: tenant + token valid",
            f"{profiles}?tenant__id__exact={tenant.pk}&token_state=valid",
        ),
        ("profiles: sort by token expiry", f"{profiles}?o={{token_state}}"),
        ("profiles: sort by tenant", f"{profiles}?o={{tenant_link}}"),
        ("profiles: sort by registration", f"{profiles}?o=-{{registration}}"),
        ("profiles: last page", f"{profiles}?p={{last}}"),
        ("profiles: with facets", f"{profiles}?_facets=True"),
        ("profile: change page", f"{profiles}{profile.pk}/change/"),
    ]


def resolve(url: str, first_pages: dict[str, str]) -> str:
    """Fill ``{column}`` with that column's sort index and ``{last}`` with the last page."""
    base = url.split("?")[0]
    html = first_pages.get(base, "")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "last":
            numbers = re.findall(r'href="\?p=(\d+)"', html)
            return max(numbers, key=int)
        found = re.search(rf'class="sortable column-{name}[^"]*">.*?href="\?o=(\d+)', html, re.S)
        if found is None:
            raise SystemExit(f"No sortable column {name!r} on {base}")
        return found.group(1)

    return re.sub(r"\{(\w+)\}", fill, url)


def measure(args: argparse.Namespace) -> bool:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.login(username="bench-admin", password="bench-password")
    first_pages = {url: client.get(url).content.decode() for url in (TENANTS, PROFILES)}
    all_fast = True
    print(f"{'page':38} {'status':>6} {'first ms':>9} {'median ms':>10} {'queries':>8}")
    for label, raw_url in pages():
        url = resolve(raw_url, first_pages)
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        first, median = times[0], statistics.median(times[1:] or times)
        all_fast &= median < TARGET_MS and response.status_code == 200
        flag = "" if median < TARGET_MS else "  <-- over target"
        print(
            f"{label:38} {response.status_code:>6} {first:>9.1f} {median:>10.1f} "
            f"{len(queries):>8}{flag}"
        )
        if args.show_sql:
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
            print(f"    slowest ({float(slowest['time']) * 1000:.1f} ms): {slowest['sql'][:600]}")
    return all_fast


def main() -> int:
    args = parse_args()
    with database(args) as db:
        configure(db)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        populate(args.tenants, args.profiles, args.seed)
        analyze()
        print(
            f"{args.db}: {args.tenants} tenants, {args.profiles} profiles "
            f"generated in {time.perf_counter() - started:.1f} s"
        )
        fast = measure(args)
    print(f"All pages under {TARGET_MS} ms: {'yes' if fast else 'no'}")
    return 0 if fast else 1


if __name__ == "__main__":
    sys.exit(main())
