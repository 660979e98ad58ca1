"""The seed-style integration: Upsolve's own example (Clerk's middleware), in Django.

Every authenticated request asks ``/user-token`` for the user; a 404 (a user Upsolve does
not know yet) registers the user with ``/register-user`` and asks again. The token is handed
to the page (``request.upsolve_token``); nothing is stored, so every view waits on Upsolve.
The user's Upsolve id is derived from the primary key, and the tenant is the user's own,
as django-upsolve's default adapter has it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

#: Where the seed's user ids come from: a stable UUID per primary key, stored nowhere.
NAMESPACE = uuid.UUID("2b7c9e41-6d3a-4f58-8e1b-5a0c7d9f2e63")
_local = threading.local()


class SeedUpsolveMiddleware:
    """A token from Upsolve for every authenticated request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            request.upsolve_token = user_token(request.user)  # type: ignore[attr-defined]
        return self.get_response(request)


def user_token(user: AbstractBaseUser) -> str:
    """``/user-token``; on 404 ``/register-user``, then ``/user-token`` again."""
    config = settings.UPSOLVE
    user_id = str(uuid.uuid5(NAMESPACE, f"user-{user.pk}"))
    asked = {"userId": user_id, "expiration": config["TOKEN_EXPIRATION"]}
    answer = _post("user-token", asked)
    if answer.status_code == 404:
        _post(
            "register-user",
            {
                "projectId": config["PROJECT_ID"],
                "projectOrganizationId": f"user-{user.pk}",
                "userId": user_id,
                "userRoleId": config["DEFAULT_ROLE_ID"],
                "name": user.get_username(),
                "properties": {"organization_id": f"user-{user.pk}"},
            },
        ).raise_for_status()
        answer = _post("user-token", asked)
    answer.raise_for_status()
    token: str = answer.json()["data"]["token"]
    return token


def _post(call: str, body: dict[str, Any]) -> requests.Response:
    """POST to Upsolve over this thread's pooled session, as the example's fetch does."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["Authorization"] = f"Bearer {settings.UPSOLVE['API_KEY']}"
    return session.post(f"{settings.UPSOLVE['API_URL']}/{call}", json=body, timeout=(1.5, 4.0))
