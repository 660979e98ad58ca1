"""App configuration: registers system checks and the login receiver."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UpsolveConfig(AppConfig):
    name = "django_upsolve"
    label = "django_upsolve"
    verbose_name = _("Upsolve")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (registers checks and receivers)
