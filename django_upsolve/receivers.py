"""The ``user_logged_in`` receiver: a thin, failure-proof delegation to the service layer.

Django sends ``user_logged_in`` with ``send`` (not ``send_robust``), after the
session was rotated, so any exception here would turn a login into a 500.
Everything is therefore caught and logged; the login goes on as usual. When the
login runs in a transaction (``ATOMIC_REQUESTS``) the sync runs in a savepoint,
so that a database error in it cannot break that transaction (and lose the session).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .conf import upsolve_settings
from .exceptions import UpsolveError, UpsolveImproperlyConfigured

logger = logging.getLogger(__name__)


@receiver(user_logged_in, dispatch_uid="django_upsolve.sync_on_login")
def sync_on_login(sender: Any, user: Any, request: Any = None, **kwargs: Any) -> None:
    """Inline mode: register the active membership if needed and fetch a token for this
    login. Background mode: queue that sync (once per membership) and return at once."""
    from . import background, refresh, services
    from .memberships import login_memberships

    try:
        mode = upsolve_settings.SYNC_MODE
        if mode == "off":
            return
        if mode == "background":
            # In a savepoint too: a database error while queueing must not break the login's
            # transaction (and lose its session). Starting the sweeps has its own.
            with services.savepoint_if_in_transaction():
                for membership in login_memberships(user, request):
                    background.request_sync(membership, fresh_token=True, seen=True)
            refresh.ensure_scheduled()
            return
        # An UpsolveError was already logged and recorded on the profile by the service layer
        # (caught inside the savepoint, so that record is kept).
        with services.savepoint_if_in_transaction(), suppress(UpsolveError):
            profile = services.sync_login(user, request)
            if profile is not None and profile.tenant is not None:
                services.mark_seen(user.pk, profile.tenant.external_id)
    except UpsolveImproperlyConfigured as err:
        # Reported by the system checks already (no credentials in development or CI).
        logger.warning("Upsolve sync skipped for user pk=%s: %s", user.pk, err)
    except Exception:
        logger.exception("Unexpected error while syncing user pk=%s with Upsolve.", user.pk)
