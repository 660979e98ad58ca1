"""Background mode in one process: logins and pages queue, never wait; one sync per user.

The in-process backends stand in for a worker here (``ImmediateBackend`` runs the task when
the login's transaction commits, ``DummyBackend`` only records it); tests/background runs
real ``db_worker`` processes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from io import StringIO
from unittest.mock import Mock

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.test import override_settings
from django.utils import timezone, translation

from django_upsolve import background, refresh, services
from django_upsolve.exceptions import UpsolveBreakerOpen
from django_upsolve.memberships import membership_of
from django_upsolve.models import UpsolveProfile
from django_upsolve.stored_token import read_stored_token
from django_upsolve.taskframework import task_backends
from tests.embed.helpers import elements, make_request, render
from tests.helpers import hour_token_ending, log_in, make_user, override_upsolve

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.embed.urls")]

BACKGROUND = {"SYNC_ON_LOGIN": "background"}


@pytest.fixture
def queued():
    """The syncs the dummy backend recorded (it never runs them)."""
    backend = task_backends["dummy"]
    backend.clear()
    yield _Syncs(backend.results)
    backend.clear()


class _Syncs:
    """The ``sync_user`` results among a backend's results (a login also starts the sweep)."""

    def __init__(self, results):
        self.results = results

    def _syncs(self):
        return [result for result in self.results if result.task.name == "sync_user"]

    def __iter__(self):
        return iter(self._syncs())

    def __len__(self):
        return len(self._syncs())

    def __eq__(self, other):
        return self._syncs() == other


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_background_login_queues_one_sync_and_calls_nothing(
    client, http, queued, django_capture_on_commit_callbacks
):
    ada = make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        log_in(client, "ada")
    assert len(http.calls) == 0
    (result,) = queued
    assert result.task.name == "sync_user"
    assert result.args == [str(ada.pk)]
    profile = UpsolveProfile.objects.get()
    assert result.kwargs == {
        "tenant": f"user-{ada.pk}",
        "queued_at": profile.sync_queued_at.isoformat(),  # the mark the task owns
        "fresh_token": True,
        "valid_for": None,
    }
    assert profile.last_seen_at is not None


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_many_logins_and_pages_lead_to_one_sync_in_flight(
    client, http, queued, django_capture_on_commit_callbacks
):
    ada = make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            log_in(client, "ada")
        for _ in range(3):
            render('{% upsolve_dashboard "d" %}', make_request(ada))
    assert len(queued) == 1
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_lost_sync_is_queued_again_after_its_ttl(queued, django_capture_on_commit_callbacks):
    membership = membership_of(make_user("ada"))
    with django_capture_on_commit_callbacks(execute=True):
        assert background.request_sync(membership)
        UpsolveProfile.objects.update(
            sync_queued_at=timezone.now() - background.QUEUED_TTL - timedelta(seconds=1)
        )
        assert background.request_sync(membership)
    assert len(queued) == 2


@override_upsolve(**BACKGROUND)
def test_the_queued_sync_runs_registers_and_stores_a_token(
    client, upsolve_sandbox, django_capture_on_commit_callbacks
):
    make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        log_in(client, "ada")  # the immediate backend runs the task on commit
    assert [call.path for call in upsolve_sandbox.calls] == [
        "register-organization",
        "register-user",
        "user-token",
    ]
    profile = UpsolveProfile.objects.get()
    assert profile.token
    assert profile.sync_queued_at is None  # the task unmarked it


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_user_without_a_token_gets_a_pending_frame_filled_later(
    queued, http, django_capture_on_commit_callbacks
):
    ada = make_user("ada")
    with django_capture_on_commit_callbacks(execute=True):
        html = render('{% upsolve_dashboard "d" title="Sales" %}', make_request(ada))
    (frame,) = elements(html, "iframe")
    assert "hidden" in frame
    assert "src" not in frame
    assert frame["data-upsolve-src"].endswith("/share/dashboard/d?theme=light")
    assert frame["data-upsolve-expires"] == "0"
    assert frame["title"] == "Sales"
    (status,) = elements(html, "p")
    assert status["data-upsolve-placeholder"] == "pending"
    assert len(queued) == 1
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_pending_frame_escapes_its_values_and_speaks_the_active_language(queued, http):
    html = render(
        '{% upsolve_dashboard "d" title=evil %}',
        make_request(make_user("ada")),
        evil='"><script>alert(1)</script>',
    )
    with translation.override("fr"):
        french = render('{% upsolve_dashboard "d" %}', make_request(make_user("bea")))
    assert "<script>alert" not in html
    assert elements(html, "iframe")[0]["title"] == '"><script>alert(1)</script>'
    assert "Préparation de vos analyses…" in french


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_stale_token_is_served_while_a_task_refreshes_it(
    make_user_with_token, queued, http, django_capture_on_commit_callbacks
):
    ada = make_user_with_token(lifetime=60)  # valid, but inside REFRESH_MARGIN
    token = UpsolveProfile.objects.get().token
    with django_capture_on_commit_callbacks(execute=True):
        html = render('{% upsolve_dashboard "d" %}', make_request(ada))
    (frame,) = elements(html, "iframe")
    assert f"jwt={token}" in frame["src"]
    assert len(queued) == 1
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_fresh_render_is_one_narrow_query_for_every_embed_of_the_page(
    make_user_with_token, queued, django_assert_num_queries
):
    ada = make_user_with_token(lifetime=3600)
    services.mark_seen(ada.pk, f"user-{ada.pk}")
    request = make_request(ada)
    with django_assert_num_queries(1) as captured:
        render('{% upsolve_dashboard "a" %}{% upsolve_dashboard "b" %}{% upsolve_token %}', request)
    (sql,) = [query["sql"] for query in captured.captured_queries]
    assert '"token"' in sql
    assert '"properties"' not in sql  # only the columns a decision needs
    assert queued == []


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_the_token_endpoint_answers_202_while_a_token_is_on_its_way(
    client, queued, http, django_capture_on_commit_callbacks
):
    client.force_login(make_user("ada"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/upsolve/token/")
    assert response.status_code == 202
    assert response["Retry-After"] == "1"
    assert response.json() == {"status": "pending"}
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_get_token_never_waits_in_background_mode(
    make_user_with_token, queued, http, django_capture_on_commit_callbacks
):
    ada = make_user_with_token(lifetime=60)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.get_token(ada) == UpsolveProfile.objects.get().token  # stale but valid
        UpsolveProfile.objects.update(**hour_token_ending(timezone.now()))
        assert services.get_token(ada) is None  # expired: queued, nothing to give yet
    assert len(http.calls) == 0


@override_upsolve(REFRESH_MARGIN=300, TOKEN_EXPIRATION=120)
def test_tokens_shorter_than_the_margin_are_used(client, upsolve_sandbox):
    ada = make_user("ada")
    log_in(client, "ada")
    for _ in range(5):
        html = render('{% upsolve_dashboard "d" %}', make_request(ada))
        assert elements(html, "iframe")
    for _ in range(3):
        assert client.post("/upsolve/token/").status_code == 200
    assert upsolve_sandbox.count("user-token") == 1  # the login's


def seen_profile(make_profile, username, *, seen, expires, **fields):
    """A profile last seen at ``seen`` holding an hour-long token expiring at ``expires``."""
    profile = make_profile(username, **fields)
    UpsolveProfile.objects.filter(pk=profile.pk).update(
        last_seen_at=seen, **hour_token_ending(expires)
    )
    return profile


def test_the_sweep_takes_active_users_near_expiry_only(make_profile):
    now = timezone.now()
    due = seen_profile(make_profile, "due", seen=now, expires=now + timedelta(seconds=60))
    seen_profile(make_profile, "dormant", seen=now - timedelta(days=1), expires=now)
    seen_profile(make_profile, "fresh", seen=now, expires=now + timedelta(hours=1))
    seen_profile(make_profile, "queued", seen=now, expires=now, sync_queued_at=now)
    seen_profile(make_profile, "failing", seen=now, expires=now, last_error_at=now)
    legacy = make_profile("legacy", token=None)  # from before profiles were per membership
    UpsolveProfile.objects.filter(pk=legacy.pk).update(tenant=None, last_seen_at=now)
    assert list(refresh.due(now)) == [due]


@pytest.mark.parametrize("lifetime", [300, 900, 1200, 3600])
def test_the_sweep_takes_a_token_exactly_when_a_sync_would_replace_it(make_profile, lifetime):
    """A token shorter than twice the sweep's lead is kept until half its life is left, by
    the sync as by the sweep: the sweep queues no sync that would find the token fresh."""
    now = timezone.now()
    expected = {}
    for left in range(0, lifetime + 1, 50):
        expires = now + timedelta(seconds=left)
        refreshed = expires - timedelta(seconds=lifetime)
        profile = make_profile(f"left{left}")
        UpsolveProfile.objects.filter(pk=profile.pk).update(
            last_seen_at=now, token_expires_at=expires, token_refreshed_at=refreshed
        )
        profile.refresh_from_db()
        expected[profile.pk] = not profile.has_fresh_token(refresh.lead(), now=now)
    assert any(expected.values()) and not all(expected.values())
    due = set(refresh.due(now).values_list("pk", flat=True))
    assert {pk: pk in due for pk in expected} == expected


@override_upsolve(TASK_BACKEND="dummy")
def test_queue_due_marks_and_queues_in_batches(make_profile, queued):
    now = timezone.now()
    for n in range(5):
        seen_profile(make_profile, f"u{n}", seen=now, expires=now + timedelta(seconds=30))
    summary = refresh.queue_due(batch=2)
    assert (summary.due, summary.queued) == (5, 5)
    assert len(queued) == 5
    assert {result.kwargs["valid_for"] for result in queued} == {refresh.lead()}
    assert not refresh.due().exists()


@override_upsolve(TASK_BACKEND="dummy")
def test_a_backend_that_refuses_tasks_ends_the_sweep_and_leaves_users_due(
    make_profile, queued, monkeypatch
):
    now = timezone.now()
    for n in range(5):
        seen_profile(make_profile, f"u{n}", seen=now, expires=now + timedelta(seconds=30))
    refused = Mock(side_effect=ConnectionError("The broker is down."))
    monkeypatch.setattr(type(task_backends["dummy"]), "enqueue", refused)
    summary = refresh.queue_due(batch=2)
    assert (summary.due, summary.queued, summary.failed) == (2, 0, 2)
    assert refused.call_count == 1  # the first refusal ends it
    assert refresh.due().count() == 5  # unmarked: the next sweep tries again


@override_upsolve(TASK_BACKEND="dummy")
def test_a_task_module_that_cannot_load_fails_the_sweep_and_leaves_users_due(
    make_profile, monkeypatch
):
    """As where the tasks framework is missing or ``TASK_BACKEND`` unknown: defining the
    task fails on import. The command says so and exits 1; nobody is left marked."""
    import sys

    from django.core.management import CommandError, call_command

    now = timezone.now()
    for n in range(3):
        seen_profile(make_profile, f"u{n}", seen=now, expires=now + timedelta(seconds=30))
    monkeypatch.setitem(sys.modules, "django_upsolve.tasks", None)  # import raises
    with pytest.raises(CommandError, match=r"^3 token\(s\) could not be refreshed\.$"):
        call_command("upsolve_refresh", "--enqueue", stdout=StringIO())
    assert refresh.due().count() == 3


@override_upsolve(TASK_BACKEND="dummy")
def test_a_sweep_that_fails_still_schedules_the_next(queued, monkeypatch):
    from django_upsolve.tasks import refresh_active_tokens

    monkeypatch.setattr(refresh, "queue_due", Mock(side_effect=DatabaseError("Gone away.")))
    with pytest.raises(DatabaseError):
        refresh_active_tokens.call()
    (after,) = queued.results
    assert after.task.name == "refresh_active_tokens"
    assert after.task.run_after > timezone.now()


@override_settings(USE_TZ=False)
@override_upsolve(**BACKGROUND, TASK_BACKEND="database")
def test_sweeps_and_deferrals_are_scheduled_without_time_zones_too():
    """``run_after`` is naive then: the database backend refuses aware datetimes."""
    from django_tasks_db.models import DBTaskResult

    from django_upsolve import breaker, tasks

    assert refresh.schedule_next(tasks.refresh_active_tokens)
    ada = make_user("ada")
    now = timezone.now()
    assert background.mark_queued(membership_of(ada), now)
    for _ in range(5):
        breaker.record_failure()
    arguments = {"tenant": f"user-{ada.pk}", "queued_at": now.isoformat()}
    assert tasks.sync_user.call(str(ada.pk), **arguments) == "deferred"
    scheduled = DBTaskResult.objects.order_by("run_after")
    assert [result.task_path.rsplit(".", 1)[1] for result in scheduled] == [
        "sync_user",
        "refresh_active_tokens",
    ]
    assert all(result.run_after > timezone.now() for result in scheduled)  # both naive


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_database_error_while_starting_the_sweeps_keeps_the_login_and_its_sync(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The transaction stays usable (PostgreSQL aborts it after an error outside a savepoint)
    and the login's sync stays queued (it is not in the sweeps' savepoint)."""
    from django.db import transaction

    from django_upsolve.receivers import sync_on_login

    ada = make_user("ada")

    def broken(sweep, seconds):  # as a database backend whose insert fails
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(refresh, "_chain_checked_at", float("-inf"))
    monkeypatch.setattr(refresh, "_enqueue_after", broken)
    with django_capture_on_commit_callbacks() as enqueues, transaction.atomic():
        sync_on_login(sender=None, user=ada, request=None)  # logged, never raised
        assert get_user_model().objects.filter(pk=ada.pk).exists()  # still usable
    assert UpsolveProfile.objects.get().sync_queued_at is not None
    assert len(enqueues) == 1


def test_refresh_due_renews_tokens_in_process(make_user_with_token, upsolve_sandbox):
    ada = make_user_with_token(lifetime=60)
    services.sync_login(ada)  # registered with the sandbox, which then knows the user
    UpsolveProfile.objects.update(
        last_seen_at=timezone.now(), **hour_token_ending(timezone.now() + timedelta(seconds=60))
    )
    before = upsolve_sandbox.count("user-token")
    summary = refresh.refresh_due()
    assert (summary.due, summary.refreshed, summary.failed) == (1, 1, 0)
    assert upsolve_sandbox.count("user-token") == before + 1
    row = read_stored_token(ada.pk, f"user-{ada.pk}")
    assert row is not None and row.fresh(refresh.lead(), now=timezone.now())


@pytest.mark.parametrize(
    ("backend", "ids"),
    [
        ("default", ["django_upsolve.W004"]),  # immediate: runs in the request
        ("dummy", ["django_upsolve.E017"]),  # never runs anything
        ("database", []),
        ("nowhere", ["django_upsolve.E016"]),
    ],
)
def test_checks_catch_a_backend_that_cannot_run_the_sync(backend, ids):
    from django_upsolve.checks import check_background

    with override_upsolve(**BACKGROUND, TASK_BACKEND=backend):
        assert [message.id for message in check_background()] == ids
    with override_upsolve(TASK_BACKEND=backend):
        assert check_background() == []  # inline mode needs no backend


def queued_sync(user, queued, capture) -> tuple[str, dict]:
    """Queue a sync of ``user``'s membership as a page would; the new task's arguments."""
    before = len(queued)
    with capture(execute=True):
        assert background.request_sync(membership_of(user))
    assert len(queued) == before + 1
    result = list(queued)[-1]
    return result.args[0], result.kwargs


@pytest.fixture
def ada_queued(queued, django_capture_on_commit_callbacks):
    """ada, with a sync of hers queued: (ada, the task's user pk, its keyword arguments)."""
    ada = make_user("ada")
    with override_upsolve(**BACKGROUND, TASK_BACKEND="dummy"):  # the test's own is not on yet
        return (ada, *queued_sync(ada, queued, django_capture_on_commit_callbacks))


def stored_mark(user) -> datetime | None:
    return UpsolveProfile.objects.get(user=user).sync_queued_at


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_sync_that_finds_the_breaker_open_is_deferred_until_it_closes(ada_queued, queued, http):
    from django_upsolve import breaker
    from django_upsolve.tasks import sync_user

    ada, user_pk, kwargs = ada_queued
    for _ in range(5):
        breaker.record_failure()
    assert sync_user.call(user_pk, **kwargs) == "deferred"
    _, again = queued
    assert again.task.run_after.timestamp() >= breaker.status().open_until
    # The mark moved to the deferred task's start, so it stays queued while it waits...
    assert stored_mark(ada) == again.task.run_after
    assert again.kwargs["queued_at"] == again.task.run_after.isoformat()
    # ...and a page QUEUED_TTL after the first mark does not take it for lost.
    assert not background.mark_queued(membership_of(ada), timezone.now() + background.QUEUED_TTL)
    assert len(queued) == 2
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_sync_deferred_while_a_trial_call_runs_waits_a_few_seconds(
    ada_queued, queued, monkeypatch
):
    """Half-open, ``open_until`` has passed: a deferral must not come back every second."""
    from django_upsolve import breaker, tasks

    _, user_pk, kwargs = ada_queued
    half_open = breaker.BreakerStatus("half-open", 5, time.time() - 10)
    monkeypatch.setattr(breaker, "status", lambda: half_open)
    monkeypatch.setattr(
        services, "sync_in_background", Mock(side_effect=UpsolveBreakerOpen("Trial running."))
    )
    before = timezone.now()
    assert tasks.sync_user.call(user_pk, **kwargs) == "deferred"
    _, again = queued
    assert again.task.run_after >= before + tasks.MIN_DEFERRAL


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_late_task_whose_mark_was_taken_over_leaves_the_sync_to_the_newer_one(
    ada_queued, queued, http, django_capture_on_commit_callbacks
):
    """A task that starts after QUEUED_TTL (a backlog) was counted as lost and queued again:
    it neither syncs nor clears the newer task's mark, which would let pages queue more."""
    from django_upsolve.tasks import sync_user

    ada, user_pk, late = ada_queued
    lost = timezone.now() - background.QUEUED_TTL - timedelta(seconds=1)
    UpsolveProfile.objects.update(sync_queued_at=lost)
    late["queued_at"] = lost.isoformat()
    _, newer = queued_sync(ada, queued, django_capture_on_commit_callbacks)
    assert sync_user.call(user_pk, **late) == "superseded"
    assert stored_mark(ada).isoformat() == newer["queued_at"]
    assert len(http.calls) == 0


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_task_for_a_user_gone_meanwhile_clears_its_mark(ada_queued, monkeypatch):
    from django_upsolve.tasks import sync_user

    ada, user_pk, kwargs = ada_queued
    users = get_user_model()._default_manager
    # A read replica that does not have the user yet, say.
    monkeypatch.setattr(users, "filter", lambda **_: users.none())
    assert sync_user.call(user_pk, **kwargs) == "gone"
    assert stored_mark(ada) is None


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_login_that_finds_a_sync_queued_still_counts_as_seen(queued):
    membership = membership_of(make_user("ada"))
    assert background.request_sync(membership, seen=True)
    long_ago = timezone.now() - timedelta(hours=2)
    UpsolveProfile.objects.update(last_seen_at=long_ago)
    assert background.request_sync(membership, seen=True)  # queued already
    assert UpsolveProfile.objects.get().last_seen_at > long_ago


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_membership_the_adapter_no_longer_lists_leaves_the_sweeps(make_profile, http):
    now = timezone.now()
    profile = seen_profile(make_profile, "ada", seen=now, expires=now)  # not the adapter's tenant
    assert services.sync_in_background(profile.user, tenant=profile.external_id) is None
    assert UpsolveProfile.objects.get().last_seen_at is None
    assert not refresh.due().exists()
    assert len(http.calls) == 0


def test_upsolve_refresh_reports_what_it_did(make_user_with_token, upsolve_sandbox):
    from io import StringIO

    from django.core.management import call_command

    ada = make_user_with_token(lifetime=60)
    services.sync_login(ada)
    UpsolveProfile.objects.update(
        last_seen_at=timezone.now(), **hour_token_ending(timezone.now() + timedelta(seconds=60))
    )
    out = StringIO()
    call_command("upsolve_refresh", stdout=out)
    assert out.getvalue().strip() == "1 due, 0 queued, 1 refreshed, 0 failed."


def test_upsolve_refresh_goes_on_past_an_adapter_bug(upsolve_sandbox, caplog):
    from django.core.management import CommandError, call_command

    for name in ("ada", "bob", "carol"):
        make_user(name)
    call_command("upsolve_sync", stdout=StringIO())
    UpsolveProfile.objects.update(
        last_seen_at=timezone.now(), **hour_token_ending(timezone.now() + timedelta(seconds=60))
    )
    out = StringIO()
    with (
        override_upsolve(ADAPTER="tests.adapters.BuggyForBobAdapter"),
        pytest.raises(CommandError, match=r"^1 token\(s\) could not be refreshed\.$"),
    ):
        call_command("upsolve_refresh", "-v", "2", stdout=out)
    lines = out.getvalue().splitlines()
    for name in ("ada", "bob", "carol"):
        tenant = f"user-{get_user_model().objects.get(username=name).pk}"
        outcome = "failed: KeyError: 'plan'" if name == "bob" else "refreshed"
        assert f"{name} ({tenant}): {outcome}" in lines
    assert lines[-1] == "3 due, 0 queued, 2 refreshed, 1 failed."
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.name == "django_upsolve.refresh"


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_database_error_while_queueing_leaves_the_logins_transaction_usable(monkeypatch):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from django_upsolve.models import UpsolveTenant
    from django_upsolve.receivers import sync_on_login

    ada = make_user("ada")
    tenant = UpsolveTenant.objects.create(external_id="acme", name="Acme")

    def broken(membership, now, *, seen=False):
        UpsolveProfile.objects.create(user=ada, tenant=tenant)
        UpsolveProfile.objects.create(user=ada, tenant=tenant)  # IntegrityError

    monkeypatch.setattr(background, "mark_queued", broken)
    with transaction.atomic():  # a login under ATOMIC_REQUESTS
        sync_on_login(sender=None, user=ada, request=None)  # logged, never raised
        assert get_user_model().objects.filter(pk=ada.pk).exists()  # still usable
    assert not UpsolveProfile.objects.exists()


class LaggingReplicaRouter:
    """Reads of profiles go to a replica that has none of the writes yet (the ``postgres``
    alias, left empty); everything else to ``default``."""

    def db_for_read(self, model, **hints):
        return "postgres" if model is UpsolveProfile else "default"

    def db_for_write(self, model, **hints):
        return "default"


@pytest.mark.django_db(databases=["default", "postgres"])
@override_settings(DATABASE_ROUTERS=[LaggingReplicaRouter()])
@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_task_reads_its_mark_where_it_was_written(
    queued, monkeypatch, django_capture_on_commit_callbacks
):
    from django_upsolve.tasks import sync_user

    ada = make_user("ada")
    _, kwargs = queued_sync(ada, queued, django_capture_on_commit_callbacks)
    synced = Mock(return_value=object())
    monkeypatch.setattr(services, "sync_in_background", synced)
    assert sync_user.call(str(ada.pk), **kwargs) == "synced"  # not "superseded"
    assert UpsolveProfile.objects.using("default").get().sync_queued_at is None


@override_upsolve(**BACKGROUND, TASK_BACKEND="dummy")
def test_a_worker_whose_settings_the_app_cannot_use_says_so_without_a_traceback(ada_queued, caplog):
    from django_upsolve.tasks import sync_user

    ada, user_pk, kwargs = ada_queued
    with override_upsolve(CACHE_ALIAS="nope"):
        assert sync_user.call(user_pk, **kwargs) == "misconfigured"
    (record,) = [r for r in caplog.records if r.name == "django_upsolve.tasks"]
    assert (record.levelname, record.exc_info) == ("ERROR", None)
    assert f"user pk={ada.pk} not run: UPSOLVE['CACHE_ALIAS'] = 'nope'" in record.getMessage()
    assert stored_mark(ada) is None  # the next page queues again
