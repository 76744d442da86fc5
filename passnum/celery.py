"""Celery application. Without a broker (the embedded default) tasks run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passnum.settings")

app = Celery("passnum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Apps split into sub-packages keep their tasks there (Django apps are discovered above).
app.autodiscover_tasks(["mediators.qualification", "mediators.redemption"])
