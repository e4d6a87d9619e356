"""App configuration for the worker's summaries app (no models: they live in ``common``)."""

from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "summaries"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
