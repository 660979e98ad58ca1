"""Which page view made an Upsolve call: the view's id travels with every call it causes.

The bench's client names each request in an ``X-Bench-View`` header; the middleware keeps
the name for the thread serving it, and every ``requests`` call that thread makes meanwhile
(django-upsolve's client, the seed middleware's) carries it on to the stand-in, which counts
calls per view. Nothing is added to a request that makes no call: the middleware only sets a
thread-local, so the configurations compared pay the same.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import requests
from django.http import HttpRequest, HttpResponse

from pathbench.configs import VIEW_HEADER

_serving = threading.local()


class TagViewMiddleware:
    """Remember, for this thread, which view it serves (outermost, so it spans the rest)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _serving.view = request.headers.get(VIEW_HEADER, "")
        try:
            return self.get_response(request)
        finally:
            _serving.view = ""


def install() -> None:
    """Make every ``requests`` call of this process carry the view being served, if any."""
    send = requests.Session.send
    if getattr(send, "tags_views", False):
        return

    @functools.wraps(send)
    def tagged_send(
        session: requests.Session, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        view = getattr(_serving, "view", "")
        if view:
            request.headers[VIEW_HEADER] = view
        return send(session, request, **kwargs)

    tagged_send.tags_views = True  # type: ignore[attr-defined]
    requests.Session.send = tagged_send  # type: ignore[method-assign]
