"""Uploaded files (print PDFs, invoices, logos) are never served as plain static media."""

import importlib

import pytest
from django.urls import Resolver404, clear_url_caches, resolve

import passnum.urls


@pytest.fixture
def urls_with_debug(settings):
    """The URL configuration as it is built when DEBUG is on (a developer's machine)."""
    settings.DEBUG = True
    clear_url_caches()
    importlib.reload(passnum.urls)
    yield passnum.urls
    settings.DEBUG = False
    clear_url_caches()
    importlib.reload(passnum.urls)


def test_media_route_absent_even_with_debug(urls_with_debug):
    with pytest.raises(Resolver404):
        resolve("/media/print/secret/carnets-GIRB000001-GIRB000050.pdf")


def test_media_prefix_not_exempt_from_second_factor():
    from passnum.accounts.middleware import ALLOWED_PREFIXES

    assert not any(prefix.startswith("/media") for prefix in ALLOWED_PREFIXES)
