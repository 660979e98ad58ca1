"""App configuration of the Upsolve sandbox: registers its system checks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UpsolveSandboxConfig(AppConfig):
    name = "django_upsolve.sandbox"
    label = "upsolve_sandbox"
    verbose_name = _("Upsolve sandbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the dashboard checks)
