import pytest

from aptic_catalog.services import ensure_referential_loaded


@pytest.fixture(autouse=True)
def _referential(db):
    """Catalogues and workshops pick services of the #APTIC referential."""
    ensure_referential_loaded()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded documents go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
