"""Django's tasks API, wherever it lives: ``django.tasks`` on Django 6.x, else the
``django-tasks`` backport on Django 5.2 (the ``tasks`` extra, or ``pip install django-tasks``).

Only background mode needs it, so importing this module is deferred until then.
"""

from __future__ import annotations

try:
    from django.tasks import Task, TaskResultStatus, task, task_backends
    from django.tasks.backends.dummy import DummyBackend
    from django.tasks.backends.immediate import ImmediateBackend
    from django.tasks.exceptions import InvalidTaskBackend
except ImportError:  # Django 5.2: the backport.
    from django_tasks import (  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
        TaskResultStatus,
        task,
        task_backends,
    )
    from django_tasks.backends.dummy import (  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
        DummyBackend,
    )
    from django_tasks.backends.immediate import (  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
        ImmediateBackend,
    )
    from django_tasks.base import Task  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
    from django_tasks.exceptions import (  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
        InvalidTaskBackendError as InvalidTaskBackend,
    )

__all__ = [
    "DummyBackend",
    "ImmediateBackend",
    "InvalidTaskBackend",
    "Task",
    "TaskResultStatus",
    "task",
    "task_backends",
]
