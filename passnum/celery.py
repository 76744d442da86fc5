"""Celery application. Without a broker (the embedded default) tasks run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")

app = Celery("passnum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
