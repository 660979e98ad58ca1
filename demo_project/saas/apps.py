from django.apps import AppConfig


class SaasConfig(AppConfig):
    name = "demo_project.saas"
    label = "saas"
    verbose_name = "Demo SaaS"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the plan-change receiver)
