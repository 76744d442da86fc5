"""Uploads: the logo's extension comes from its content, an oversized image gets a clear
refusal, a body past the limit is stopped while it streams with a clear 413 page."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from passnum.uploads import LimitedUploadHandler, UploadTooLarge
from sponsors import services
from sponsors.models import Programme
from tests.factories import OrganisationFactory
from tests.sponsors.test_services import png, programme_data
from tests.sponsors.test_views import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsor():
    return OrganisationFactory(sponsor=True)


@pytest.fixture
def sponsor_client(client, member_of, sponsor):
    client.force_login(member_of(sponsor, role="admin"))
    return client


def huge_png(width=30000, height=30000):
    """A small file that announces a 30 000 × 30 000 image (a « decompression bomb »)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = zlib.compress(b"\x00" * 64)
    idat = b"IDAT" + data
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(data))
        + idat
        + struct.pack(">I", zlib.crc32(idat))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def test_logo_extension_comes_from_its_content_not_its_name(sponsor):
    upload = png()
    upload.name = "logo.html"
    programme = services.create_programme(sponsor, programme_data(logo=upload))
    assert programme.logo.name.startswith("sponsors/logos/") and programme.logo.name.endswith(".png")


def test_jpeg_logo_named_png_is_stored_as_jpg(sponsor):
    upload = png(fmt="JPEG")
    upload.name = "logo.svg"
    programme = services.create_programme(sponsor, programme_data(logo=upload))
    assert programme.logo.name.endswith(".jpg")


def test_huge_image_is_refused_clearly(sponsor_client):
    logo = SimpleUploadedFile("logo.png", huge_png(), content_type="image/png")
    response = sponsor_client.post(reverse("sponsors:programme_create"), form_data(logo=logo))
    assert response.status_code == 200
    assert "Le logo est trop grand" in response.content.decode()
    assert not Programme.objects.exists()


def test_body_past_the_limit_gets_a_clear_413_page(sponsor_client, settings):
    settings.PASSNUM_MAX_UPLOAD_BYTES = 50 * 1024
    logo = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 60 * 1024, content_type="image/png")
    response = sponsor_client.post(reverse("sponsors:programme_create"), form_data(logo=logo))
    assert response.status_code == 413
    page = response.content.decode()
    assert "Fichier trop lourd" in page and "50,0\xa0Kio" in page
    assert "rien n&#x27;a été enregistré" in page or "rien n'a été enregistré" in page
    assert not Programme.objects.exists()


def test_handler_stops_the_stream_past_the_limit(settings):
    """A body without Content-Length (or one that lies) is counted chunk by chunk."""
    settings.PASSNUM_MAX_UPLOAD_BYTES = 100
    handler = LimitedUploadHandler()
    handler.handle_raw_input(io.BytesIO(), {}, None, b"x")
    assert handler.receive_data_chunk(b"a" * 60, 0) == b"a" * 60
    with pytest.raises(UploadTooLarge):
        handler.receive_data_chunk(b"a" * 60, 60)
    with pytest.raises(UploadTooLarge):
        LimitedUploadHandler().handle_raw_input(io.BytesIO(), {}, 101, b"x")


def test_upload_settings_are_set(settings):
    assert settings.FILE_UPLOAD_HANDLERS[0] == "passnum.uploads.LimitedUploadHandler"
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE and settings.FILE_UPLOAD_MAX_MEMORY_SIZE


def test_api_body_past_the_limit_gets_a_json_413(client, settings):
    settings.PASSNUM_MAX_UPLOAD_BYTES = 1024
    response = client.post("/api/v1/redemptions", data="{" + " " * 2048 + "}", content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
