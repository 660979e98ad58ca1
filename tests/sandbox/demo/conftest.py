"""Fixtures of the demo's own suite: the seeded demo data."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", stdout=StringIO())
