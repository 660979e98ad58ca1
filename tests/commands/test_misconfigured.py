"""Run with the system checks skipped, a setting the app cannot use stops the commands with
one line naming it (never the key), not a traceback."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_upsolve import refresh
from django_upsolve.conf import upsolve_settings
from django_upsolve.models import UpsolveProfile
from tests.helpers import hour_token_ending, make_user, override_upsolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada_due(upsolve_sandbox: Any) -> None:
    """Ada, synced, and due for the sweep: seen just now, expiring within the margin."""
    ada = make_user("ada")
    call_command("upsolve_sync", stdout=StringIO())
    UpsolveProfile.objects.filter(user=ada).update(
        last_seen_at=timezone.now(), **hour_token_ending(timezone.now() + timedelta(seconds=30))
    )


@pytest.mark.parametrize("command", ["upsolve_sync", "upsolve_refresh"])
def test_a_key_no_header_can_carry_is_a_command_error(command, ada_due):
    key = upsolve_settings.API_KEY + "\u200b"
    with override_upsolve(API_KEY=key), pytest.raises(CommandError) as caught:
        call_command(command, "--skip-checks", stdout=StringIO(), stderr=StringIO())
    assert "UPSOLVE['API_KEY'] contains U+200B" in str(caught.value)
    assert upsolve_settings.API_KEY not in str(caught.value)


@pytest.mark.parametrize("command", ["upsolve_sync", "upsolve_refresh"])
def test_an_unknown_cache_alias_is_a_command_error(command, ada_due):
    with (
        override_upsolve(CACHE_ALIAS="nope"),
        pytest.raises(CommandError, match=r"^UPSOLVE\['CACHE_ALIAS'\] = 'nope' is not in "),
    ):
        call_command(command, "--skip-checks", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("command", ["upsolve_sync", "upsolve_refresh"])
def test_an_adapter_module_that_raises_on_import_is_a_command_error(
    command, ada_due, tmp_path, monkeypatch
):
    (tmp_path / "broken_adapter_module.py").write_text("ADAPTER = undefined_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    adapter = "broken_adapter_module.ADAPTER"
    with override_upsolve(ADAPTER=adapter), pytest.raises(CommandError) as caught:
        call_command(command, "--skip-checks", stdout=StringIO(), stderr=StringIO())
    assert str(caught.value) == f"Importing UPSOLVE['ADAPTER'] = {adapter!r} raised NameError."


def test_enqueue_onto_an_unknown_task_backend_is_a_command_error_marking_nobody(ada_due, caplog):
    with override_upsolve(TASK_BACKEND="nope"), pytest.raises(CommandError) as caught:
        call_command("upsolve_refresh", "--enqueue", stdout=StringIO(), stderr=StringIO())
    assert str(caught.value).startswith("UPSOLVE['TASK_BACKEND'] = 'nope' is not a usable ")
    assert [record for record in caplog.records if record.exc_info] == []
    assert refresh.due().count() == 1
