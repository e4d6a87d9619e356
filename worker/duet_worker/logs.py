"""The worker's side of the log ids: every line about a job carries its ``job_id`` and the
``request_id`` of the HTTP request that created it (a message header; none for a job the
sweeper published again).

Inside a task the ids are bound in context variables (task_prerun to task_postrun). Celery
writes the "received" line in the main process, outside any task, before any signal: for
that one the ids come from the message itself, remembered by the request class
(:class:`IdRequest`, the app's tasks use it through :class:`IdTask`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from celery import Task, signals
from celery.worker.request import Request

from shared_resource import logs
from shared_resource.contract import REQUEST_ID_HEADER

#: request ids of recently received messages, by task (= job) id; bounded.
_received: OrderedDict[str, str | None] = OrderedDict()
_REMEMBERED = 10_000
_bound: list[Any] = []


def header_request_id(request: Any) -> str | None:
    """The request id a message carries, wherever this Celery version puts custom headers."""
    value = getattr(request, REQUEST_ID_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(REQUEST_ID_HEADER)
    return value if isinstance(value, str) else None


def _remember(task_id: str, request_id: str | None) -> None:
    _received[task_id] = request_id
    _received.move_to_end(task_id)
    while len(_received) > _REMEMBERED:
        _received.popitem(last=False)


class CeleryMessageIds(logging.Filter):
    """Ids for Celery's own lines about a message written outside the task (``received``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        data = getattr(record, "data", None)
        if not getattr(record, "job_id", None) and isinstance(data, dict) and data.get("id"):
            record.job_id = data["id"]
            request_id = _received.get(data["id"])
            if request_id:
                record.request_id = request_id
        return True


class IdRequest(Request):
    """Main process: notes the message's request id before Celery logs its arrival."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request_id = self.request_dict.get(REQUEST_ID_HEADER)
        _remember(self.id, request_id if isinstance(request_id, str) else None)


class IdTask(Task):
    """The app's task base (``task_cls``): its messages become :class:`IdRequest`."""

    Request = "duet_worker.logs:IdRequest"


@signals.task_prerun.connect
def bind_ids(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Pool process: bind the job and request ids for every line the task writes."""
    context = logs.bound(job_id=task_id, request_id=header_request_id(task.request))
    context.__enter__()
    _bound.append(context)


@signals.task_postrun.connect
def unbind_ids(**kwargs: Any) -> None:
    while _bound:
        _bound.pop().__exit__(None, None, None)


@signals.setup_logging.connect
def keep_django_logging(**kwargs: Any) -> None:
    """Celery leaves logging alone when this signal has a receiver: Django's LOGGING
    (DUET_LOG_FORMAT) is then the only configuration, in every process."""


@signals.celeryd_init.connect
def no_banner_in_json(instance: Any = None, **kwargs: Any) -> None:
    """The start-up banner is printed, not logged: left out when lines must be JSON."""
    from django.conf import settings

    if settings.DUET_LOG_FORMAT == "json" and instance is not None:
        instance.quiet = True
