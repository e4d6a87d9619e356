"""App configuration for API tokens (a web-only table: the worker role never reaches it)."""

from django.apps import AppConfig


class ApiTokensConfig(AppConfig):
    name = "api_tokens"
    verbose_name = "duet API tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI description of the scheme)
