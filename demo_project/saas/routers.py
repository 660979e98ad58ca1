"""Keeps the sandbox's tables in their own database (``DATABASES["sandbox"]``)."""

from typing import Any

SANDBOX_APP = "upsolve_sandbox"
SANDBOX_DB = "sandbox"


class SandboxRouter:
    """Reads, writes and migrations of the sandbox app go to the sandbox database only."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return SANDBOX_DB if model._meta.app_label == SANDBOX_APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return (db == SANDBOX_DB) == (app_label == SANDBOX_APP)
