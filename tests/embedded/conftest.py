"""The embedded default, as ``make run`` serves it: SQLite in a data folder, no Redis, Celery
tasks run in-process. ``make test`` runs this folder in a second pytest run, without
``DATABASE_URL``, on a temporary data folder."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="session")
def demo(django_db_setup, django_db_blocker):
    """``manage.py demo`` once on the migrated test database; each test's changes are rolled back."""
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("demo", "--json", stdout=out)
    return json.loads(out.getvalue())
