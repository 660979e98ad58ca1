"""The Upsolve admin: tenants and profiles overviews, profile actions, an opt-in user inline.

Add a user's Upsolve profile to your own user admin with ``UpsolveProfileInline``
(in its ``inlines``) or ``add_profile_inline()``.
"""

from django.contrib import admin

from ..models import UpsolveProfile, UpsolveTenant
from .profiles import UpsolveProfileAdmin, UpsolveProfileInline, add_profile_inline
from .tenants import UpsolveTenantAdmin

admin.site.register(UpsolveTenant, UpsolveTenantAdmin)
admin.site.register(UpsolveProfile, UpsolveProfileAdmin)

__all__ = [
    "UpsolveProfileAdmin",
    "UpsolveProfileInline",
    "UpsolveTenantAdmin",
    "add_profile_inline",
]
