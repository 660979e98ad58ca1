"""The bench site's app: its templates, its ``bench_db`` command and the call tagging."""

from django.apps import AppConfig


class PathBenchConfig(AppConfig):
    name = "pathbench"

    def ready(self) -> None:
        from . import tagging

        tagging.install()
