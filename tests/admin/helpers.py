"""The admin pages under test, and reading back what an action reported."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client

PROFILES = "/admin/django_upsolve/upsolveprofile/"
TENANTS = "/admin/django_upsolve/upsolvetenant/"


def messages_of(response: Any) -> list[tuple[str, str]]:
    """(level tag, text) of the messages shown on ``response`` (fetched with ``follow=True``)."""
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def post_action(client: Client, action: str, profiles: Any) -> Any:
    """Run a profiles-list action on ``profiles`` and follow the redirect back."""
    return client.post(
        PROFILES,
        {"action": action, "_selected_action": [str(p.pk) for p in profiles]},
        follow=True,
    )


def readonly(html: str, field: str) -> str:
    """The text a change page shows for read-only ``field``."""
    found = re.search(
        rf'<div class="form-row[^"]*field-{field}">.*?<div class="readonly">(.*?)</div>', html, re.S
    )
    assert found is not None, f"no read-only {field} on the page"
    return found.group(1).strip()
