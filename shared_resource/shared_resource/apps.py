"""The package shared_resource is the Django app labelled ``common`` (tables ``common_*``)."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class SharedResourceConfig(AppConfig):
    name = "shared_resource"
    # The label, not the package name, prefixes table names (``common_document``) and
    # migration records, and the worker's database grants are written against it.
    label = "common"
    verbose_name = "duet common"
    # Pinned here so that the migrations never depend on the host project's settings.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .compatibility import record_on_migrate
        from .grants import grant_worker_privileges

        pre_migrate.connect(record_on_migrate, sender=self)
        post_migrate.connect(record_on_migrate, sender=self)
        post_migrate.connect(grant_worker_privileges, sender=self)
