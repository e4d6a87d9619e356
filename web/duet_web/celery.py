"""The web's Celery app: a publisher only.

It reads the ``CELERY_*`` Django settings and sends tasks by name (``send_task``), so it
needs neither the worker's code nor its LLM libraries. It registers no tasks.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")

app = Celery("duet_web")
app.config_from_object("django.conf:settings", namespace="CELERY")
