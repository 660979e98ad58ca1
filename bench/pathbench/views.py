"""The pages the bench times: a login, and a dashboard page in each configuration's way."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pathbench import configs

#: The same page in every configuration; only the embed differs (none without Upsolve).
TEMPLATES = {
    configs.NO_APP: "pathbench/dashboard_noapp.html",
    configs.SEED: "pathbench/dashboard_seed.html",
    configs.INLINE: "pathbench/dashboard_app.html",
    configs.BACKGROUND: "pathbench/dashboard_app.html",
}


@csrf_exempt  # The bench's client posts credentials without fetching a form first.
@require_POST
def log_in(request: HttpRequest) -> HttpResponse:
    """Django's login (``user_logged_in`` and all), as a form's POST reaches it."""
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return HttpResponse("Wrong username or password.", status=401)
    login(request, user)
    return redirect(settings.LOGIN_REDIRECT_URL)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The page a logged-in user lands on, with the dashboard embedded.

    ``?rows=N`` adds what a real page has around the embed: a query and a table of ``N``
    rows, the same in every configuration.
    """
    template = TEMPLATES[settings.CONFIG]
    rows = table_rows(min(int(request.GET.get(configs.ROWS_PARAMETER) or 0), 1000))
    return render(request, template, {"dashboard_id": settings.DASHBOARD_ID, "rows": rows})


def table_rows(count: int) -> list[tuple[int, str, str]]:
    """``count`` invoice-like rows from the database (none for 0: the bare page)."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n, 'INV-' || lpad(n::text, 6, '0'), md5(n::text) "
            "FROM generate_series(1, %s) AS n",
            [count],
        )
        return cursor.fetchall()


def ping(request: HttpRequest) -> HttpResponse:
    """Answers once a worker is up (the bench waits for it before loading the site)."""
    return HttpResponse("ok", content_type="text/plain")
