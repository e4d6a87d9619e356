"""System checks: the worker's timeouts must nest, or jobs run twice or never finish.

A provider call that outlives the soft time limit cannot be cleaned up; a hard limit past
the lease lets the sweeper hand a still-running job to a second worker; a lease past the
visibility timeout lets the broker deliver the message again while the job still runs.
"""

from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def timeouts_nest(**kwargs: Any) -> list[checks.CheckMessage]:
    chain = [
        ("DUET_PROVIDER_TIMEOUT", settings.DUET_PROVIDER_TIMEOUT),
        ("CELERY_TASK_SOFT_TIME_LIMIT", settings.CELERY_TASK_SOFT_TIME_LIMIT),
        ("CELERY_TASK_TIME_LIMIT", settings.CELERY_TASK_TIME_LIMIT),
        ("DUET_LEASE_SECONDS", settings.DUET_LEASE_SECONDS),
        (
            "visibility_timeout",
            settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600),
        ),
    ]
    return [
        checks.Error(
            f"{inner}={inner_value} must be less than {outer}={outer_value}",
            hint="Timeouts must nest: provider < soft limit < hard limit < lease "
            "< visibility timeout.",
            id="summaries.E001",
        )
        for (inner, inner_value), (outer, outer_value) in pairwise(chain)
        if not inner_value < outer_value
    ]


@checks.register()
def provider_configured(**kwargs: Any) -> list[checks.CheckMessage]:
    from .providers import PROVIDERS

    if settings.DUET_PROVIDER not in PROVIDERS:
        return [
            checks.Error(
                f"DUET_PROVIDER={settings.DUET_PROVIDER!r} is not one of {sorted(PROVIDERS)}",
                id="summaries.E002",
            )
        ]
    return []
