"""Fixtures of the background tests: a database and Redis prefix per test, two stand-in
Upsolves, and the processes of the test, all removed when it ends.

The databases are copies of one template migrated once per run, on PostgreSQL whatever
``DATABASE_URL`` says: several processes share them, as machines would.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.helpers import API_KEY
from tests.reliability.faultserver import FaultServer

from .processes import Database, Processes, Site, manage, process_env

RUN = f"test_django_upsolve_bg_{os.getpid()}"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def template_database() -> Iterator[Database]:
    """A database migrated for the background settings, copied by each test."""
    template = Database(f"{RUN}_template")
    template.create()
    try:
        manage(
            process_env(template, f"{RUN}-migrate", "http://127.0.0.1:9/v1/api/projects"),
            "migrate",
            "--noinput",
        )
        yield template
    finally:
        template.drop()


@pytest.fixture
def database(template_database: Database) -> Iterator[Database]:
    copy = Database(f"{RUN}_{next(_numbers)}")
    copy.create(template=template_database)
    try:
        yield copy
    finally:
        copy.drop()


@pytest.fixture
def cache_prefix() -> Iterator[str]:
    """A Redis key prefix of this test alone; its keys are deleted afterwards."""
    prefix = f"{RUN}-{next(_numbers)}"
    yield prefix
    client = redis.Redis.from_url(settings.CACHES["redis"]["LOCATION"])
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def site(database: Database, cache_prefix: str, processes: Processes) -> Iterator[Site]:
    with (
        FaultServer(api_key=API_KEY) as web_upsolve,
        FaultServer(api_key=API_KEY) as worker_upsolve,
    ):
        yield Site(database, cache_prefix, web_upsolve, worker_upsolve, processes)
        processes.stop_all()  # before the stand-ins go
