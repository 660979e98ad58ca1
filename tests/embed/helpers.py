"""Rendering the tags and reading back what they rendered."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.http import HttpRequest
from django.template import Context, Template
from django.test import RequestFactory


def make_request(user: Any, path: str = "/reports/?page=2") -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    return request


def render(source: str, request: HttpRequest | None, **context: Any) -> str:
    """Render ``source`` (after ``{% load upsolve %}``) with ``request`` in the context."""
    values = {"request": request, **context} if request is not None else context
    return Template("{% load upsolve %}" + source).render(Context(values))


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str, tag: str) -> list[dict[str, str | None]]:
    """The attributes (unescaped, as a browser reads them) of every ``tag`` element."""
    collector = _Collector()
    collector.feed(html)
    return [attrs for name, attrs in collector.elements if name == tag]


def only_iframe(html: str) -> dict[str, str | None]:
    (iframe,) = elements(html, "iframe")
    return iframe


def query(url: str | None) -> list[tuple[str, str]]:
    assert url is not None
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)
