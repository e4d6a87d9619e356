"""Jobs published through the web's own code, without HTTP: ``./dev faults`` and ``./dev bench``.

Run by :meth:`dev.stack.Stack.web_side` with the web venv's Python, in web/, with the web's
environment, so Django is set up exactly as the service's:

    python webside.py republish ID...        # publish each job id once more
    python webside.py raw JSON               # send hand-made payloads by task name
    python webside.py enqueue TITLE N TEXT   # create N jobs of user "bench" and publish them
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")
sys.path[0] = os.getcwd()  # web/, not tools/dev/
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models.functions import Now  # noqa: E402

from documents.publish import publish  # noqa: E402
from duet_web.celery import app  # noqa: E402
from shared_resource.contract import QUEUE, SUMMARISE_TASK  # noqa: E402
from shared_resource.models import Document, SummaryJob  # noqa: E402


def republish(*ids: str) -> None:
    assert all(publish(uuid.UUID(i)) for i in ids)


def raw(payloads: str) -> None:
    for kwargs in json.loads(payloads):
        app.send_task(SUMMARISE_TASK, kwargs=kwargs, task_id=str(uuid.uuid4()), queue=QUEUE)


def enqueue(title: str, count: str, text: str) -> None:
    user = get_user_model().objects.get(username="bench")
    stale = Now() + timedelta(seconds=settings.DUET_SWEEP_STALE_SECONDS)
    for _ in range(int(count)):
        document = Document.objects.create(owner=user, title=title, text=text)
        publish(SummaryJob.objects.create(document=document, lease_expires=stale).id)


if __name__ == "__main__":
    {"republish": republish, "raw": raw, "enqueue": enqueue}[sys.argv[1]](*sys.argv[2:])
