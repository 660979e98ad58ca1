"""The migration to one profile per membership keeps every existing row, both ways."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.helpers import make_jwt

APP = "django_upsolve"
BEFORE = [(APP, "0003_profile_background_sync")]
AFTER = [(APP, "0004_profile_per_membership")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    """An executor on the default database, left fully migrated afterwards."""
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate(executor: MigrationExecutor, target: list[tuple[str, str]]):
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_existing_profiles_become_memberships_and_back(executor):
    old = migrate(executor, BEFORE)
    User = old.get_model("auth", "User")
    Tenant = old.get_model(APP, "UpsolveTenant")
    Profile = old.get_model(APP, "UpsolveProfile")
    tenant = Tenant.objects.create(
        external_id="acme", name="Acme", upsolve_id=uuid.uuid4(), registered_at=timezone.now()
    )
    rows = {}
    for name in ("ada", "bob"):
        user = User.objects.create(username=name)
        profile = Profile.objects.create(
            user=user,
            tenant=tenant,
            upsolve_user_id=uuid.uuid4(),
            registered_at=timezone.now(),
            token=make_jwt(sub=name),
            token_expires_at=timezone.now(),
        )
        rows[name] = (profile.pk, profile.upsolve_user_id, profile.token)
    unregistered = Profile.objects.create(user=User.objects.create(username="cy"))

    new = migrate(executor, AFTER)
    Profile = new.get_model(APP, "UpsolveProfile")
    for name, (pk, upsolve_user_id, token) in rows.items():
        profile = Profile.objects.get(pk=pk)
        assert (profile.user.username, profile.tenant.external_id) == (name, "acme")
        assert (profile.upsolve_user_id, profile.token) == (upsolve_user_id, token)
    assert Profile.objects.get(pk=unregistered.pk).tenant is None

    old = migrate(executor, BEFORE)
    Profile = old.get_model(APP, "UpsolveProfile")
    assert {p.pk: (p.upsolve_user_id, p.token) for p in Profile.objects.exclude(token="")} == {
        pk: (upsolve_user_id, token) for pk, upsolve_user_id, token in rows.values()
    }
