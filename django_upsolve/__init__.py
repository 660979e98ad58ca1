"""Register Django users with Upsolve AI and embed their dashboards."""

__version__ = "0.1.0"
