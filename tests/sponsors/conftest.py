import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded logos, invoices and print files go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
