import importlib

import pytest
from django.apps import apps

from aptic_catalog.services import ensure_referential_loaded

# The operator's default questionnaire is data a migration writes: a test that empties the
# tables (a live server, threads) removes it, so each test of sites finds it again.
_default_questionnaire = importlib.import_module("mediators.migrations.0002_default_questionnaire")


@pytest.fixture(autouse=True)
def _referential(db):
    """Catalogues and workshops pick services of the #APTIC referential; sites answer the
    operator's default questionnaire."""
    ensure_referential_loaded()
    _default_questionnaire.seed(apps, None)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded documents go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
