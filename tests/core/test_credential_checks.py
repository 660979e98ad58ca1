"""Missing credentials: a warning for development commands, an error for ``check --deploy``.

A project whose CI has no Upsolve credentials must still be able to migrate and run its
tests, while a deployment without them must not pass ``check --deploy``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_upsolve.checks import check_deployment, check_development, check_settings

REQUIRED = ("API_KEY", "PROJECT_ID", "DEFAULT_ROLE_ID")
GOOD = {
    "API_KEY": "up_admin_test_0123456789abcdef",
    "PROJECT_ID": "1f0c6a34-54d4-4b57-9d0a-7c1c8a3a9e10",
    "DEFAULT_ROLE_ID": "5b1ad0a2-7d8e-4a43-9f39-3b7fd1f4f6c2",
    "API_URL": "https://api.upsolve.test/v1/api/projects",
}
NO_CREDENTIALS = {name: "" for name in REQUIRED}
REDIS = {  # a shared cache: no W003
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
}
ROOT = Path(__file__).resolve().parents[2]


def upsolve(settings: dict[str, object] | None) -> override_settings:
    return override_settings(UPSOLVE=settings, CACHES=REDIS)


def run_check(**options: object) -> str:
    """``manage.py check``; returns what it wrote to stderr (where Django lists warnings)."""
    stderr = io.StringIO()
    call_command("check", stdout=io.StringIO(), stderr=stderr, **options)
    return stderr.getvalue()


def test_development_commands_only_warn():
    with upsolve(NO_CREDENTIALS):
        found = check_development()

    assert [message.id for message in found] == ["django_upsolve.W006"]
    assert found[0].msg == (
        "UPSOLVE['API_KEY'], UPSOLVE['PROJECT_ID'], UPSOLVE['DEFAULT_ROLE_ID'] are not set: "
        "logins cannot reach Upsolve."
    )
    assert "check --deploy" in found[0].hint


@pytest.mark.parametrize("name", REQUIRED)
def test_one_warning_names_the_one_missing_setting(name):
    with upsolve({**GOOD, name: None}):
        [found] = check_development()

    assert found.id == "django_upsolve.W006"
    assert found.msg.startswith(f"UPSOLVE[{name!r}] is not set")


def test_other_errors_stay_errors_in_development():
    with upsolve({**NO_CREDENTIALS, "TOKEN_EXPIRATION": 0}):
        found = {message.id for message in check_development()}

    assert found == {"django_upsolve.W006", "django_upsolve.E005"}


@pytest.mark.parametrize("value", [NO_CREDENTIALS, {}, None])
def test_deployment_fails_on_each_missing_setting(value):
    with upsolve(value):
        found = check_deployment()

    assert [message.id for message in found] == ["django_upsolve.E001"] * 3
    assert [message.msg for message in found] == [f"UPSOLVE[{n!r}] is not set." for n in REQUIRED]


def test_deployment_check_reports_nothing_else():
    with upsolve({**GOOD, "TOKEN_EXPIRATION": 0, "APIKEY": "x"}):
        assert check_deployment() == []


def test_check_settings_still_reports_everything_as_upsolve_status_shows_it():
    with upsolve(NO_CREDENTIALS):
        assert {message.id for message in check_settings()} == {"django_upsolve.E001"}


# Through the management commands -------------------------------------------------------------


@pytest.mark.django_db
def test_manage_py_check_passes_with_a_warning():
    with upsolve(NO_CREDENTIALS):
        output = run_check()

    assert "django_upsolve.W006" in output
    assert "django_upsolve.E001" not in output


@pytest.mark.django_db
def test_manage_py_check_deploy_fails():
    with (
        upsolve(NO_CREDENTIALS),
        pytest.raises(SystemCheckError, match=r"django_upsolve\.E001") as raised,
    ):
        run_check(deploy=True)

    for name in REQUIRED:
        assert f"UPSOLVE[{name!r}] is not set." in str(raised.value)


@pytest.mark.django_db
def test_manage_py_check_deploy_passes_with_credentials():
    # The suite installs the sandbox, which check --deploy rightly refuses (its own check).
    with upsolve(GOOD), override_settings(SILENCED_SYSTEM_CHECKS=["upsolve_sandbox.E003"]):
        output = run_check(deploy=True)

    assert "django_upsolve." not in output


@pytest.mark.django_db
def test_migrate_runs_without_credentials():
    with upsolve(NO_CREDENTIALS):
        call_command("migrate", verbosity=0, skip_checks=False)


@pytest.mark.django_db
def test_migrate_still_stops_on_a_real_error():
    with (
        upsolve({**NO_CREDENTIALS, "TOKEN_EXPIRATION": 0}),
        pytest.raises(SystemCheckError, match=r"django_upsolve\.E005"),
    ):
        call_command("migrate", verbosity=0, skip_checks=False)


def test_a_project_without_credentials_migrates_but_does_not_deploy(tmp_path: Path):
    """The CI of a project with no credentials at all: a new database, no UPSOLVE setting."""
    (tmp_path / "ci_settings.py").write_text(
        "from tests.settings import *\n"
        "del UPSOLVE\n"
        f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', "
        f"'NAME': {str(tmp_path / 'db.sqlite3')!r}}}}}\n"
        "DATABASE_ROUTERS = []\n"
        f"CACHES = {REDIS!r}\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ci_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    migrate = manage("migrate", "--no-input")
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying django_upsolve.0001_initial... OK" in migrate.stdout
    assert "django_upsolve.W006" in migrate.stderr

    deploy = manage("check", "--deploy")
    assert deploy.returncode == 1
    assert deploy.stderr.count("django_upsolve.E001") == 3
