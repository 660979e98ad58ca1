"""The app's own signals. Receivers run in the caller's thread; exceptions propagate.

- ``tenant_registered(sender=UpsolveTenant, tenant)``: a tenant was registered with Upsolve.
- ``user_registered(sender=UpsolveProfile, profile, user)``: a user was (re-)registered.
- ``token_refreshed(sender=UpsolveProfile, profile, user)``: a new token was stored.
- ``sync_failed(sender=UpsolveProfile, user, profile, error)``: a sync failed; ``error``
  is the ``UpsolveError`` (already logged and recorded on the profile).
"""

from django.dispatch import Signal

tenant_registered = Signal()
user_registered = Signal()
token_refreshed = Signal()
sync_failed = Signal()
