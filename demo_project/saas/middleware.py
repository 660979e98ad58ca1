"""Two small middlewares that keep the demo honest and easy to open."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

Middleware = Callable[[HttpRequest], HttpResponse]


def canonical_host(get_response: Middleware) -> Middleware:
    """Redirect ``localhost:8000`` to ``DEMO_BASE_URL``, so the sandbox iframe is same-origin."""
    canonical = urlsplit(settings.DEMO_BASE_URL).netloc

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method == "GET" and request.get_host() != canonical:
            return HttpResponseRedirect(settings.DEMO_BASE_URL + request.get_full_path())
        return get_response(request)

    return middleware


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(get_response: Middleware) -> Middleware:
    """A strict Content-Security-Policy: no inline script or style, frames from Upsolve only."""
    hubs = sorted({_origin(settings.UPSOLVE[key]) for key in ("HUB_URL", "APPLICATION_HUB_URL")})
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"frame-src 'self' {' '.join(hubs)}",
            "frame-ancestors 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Content-Security-Policy", policy)
        return response

    return middleware
