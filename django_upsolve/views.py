"""The token endpoint the browser calls to refresh an embedded iframe.

``POST`` (with the CSRF token) as a logged-in user answers::

    {"token": "<jwt>", "expires_at": <epoch seconds>, "now": <epoch seconds>,
     "refreshing": <bool>}

``now`` is the server's clock, so a client can correct its own; ``refreshing`` is true
when the token is stale and a new one is on its way (background mode: ask again after
``Retry-After``). Anonymous users get ``401 {"error": "authentication_required"}``; in
background mode a token still on its way is ``202 {"status": "pending"}`` with
``Retry-After``; a user the adapter leaves out, or a tenant they are not a member of, is
``403 {"error": "not_available"}`` (asking again cannot change it); when no token can be
had now, ``503 {"error": "token_unavailable"}`` with ``Retry-After``. No answer is ever
cached, and a user only ever receives their own token.
"""

from __future__ import annotations

from urllib.parse import unquote

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from .embed import Placeholder, embed_for

#: The header ``upsolve.js`` names the page's tenant in (its frame's data-upsolve-tenant).
TENANT_HEADER = "X-Upsolve-Tenant"
#: Seconds the browser is asked to wait after a 503.
RETRY_AFTER = 30
#: Seconds the browser waits before asking again for a token that is on its way.
PENDING_RETRY_AFTER = 1


@never_cache
@require_POST
@csrf_protect
def token(request: HttpRequest) -> JsonResponse:
    """The current user's token and its expiry; never waits on Upsolve in background mode."""
    # The tenant the page shows: another tab switching organization must not change it.
    embed = embed_for(request, tenant=unquote(request.headers.get(TENANT_HEADER, "")) or None)
    if isinstance(embed, Placeholder):
        if embed.reason == "anonymous":
            return JsonResponse({"error": "authentication_required"}, status=401)
        if embed.reason == "pending":
            response = JsonResponse({"status": "pending"}, status=202)
            response["Retry-After"] = str(PENDING_RETRY_AFTER)
            return response
        if embed.reason == "not-available":
            return JsonResponse({"error": "not_available"}, status=403)
        response = JsonResponse({"error": "token_unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        # The failure behind it is logged once by the sync and the breaker. Django would log
        # every open tab's retry at ERROR on django.request, which mails ADMINS each time;
        # this is the marker Django itself sets on a response it has logged already.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    answer = JsonResponse(
        {
            "token": embed.token,
            "expires_at": embed.expires_epoch,
            "now": int(timezone.now().timestamp()),
            "refreshing": embed.refreshing,
        }
    )
    if embed.refreshing:
        answer["Retry-After"] = str(PENDING_RETRY_AFTER)
    return answer
