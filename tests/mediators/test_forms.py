"""Bad input in the site space: a French message on the field, nothing saved, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearing.payees.models import PayeeAccount
from tests.factories import UserFactory
from tests.mediators.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_client(client, member_of):
    site = SiteFactory()
    client.force_login(member_of(site.organisation, role="admin"))
    client.site = site
    return client


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


@pytest.mark.parametrize(
    ("siret", "message"),
    [("12345678000012", "clé de contrôle"), ("123", "14 chiffres")],
)
def test_register_bad_siret(client, siret, message):
    client.force_login(UserFactory())
    response = client.post(
        reverse("mediators:register"),
        {
            "name": "X",
            "siret": siret,
            "legal_form": "association",
            "sector": "private",
            "address": "a",
            "postcode": "33000",
            "city": "Bordeaux",
        },
    )
    assert response.status_code == 200
    assert message in " ".join(field_errors(response, "siret"))


def test_register_siret_already_registered(client):
    siret = SiteFactory().organisation.siret
    client.force_login(UserFactory())
    response = client.post(
        reverse("mediators:register"),
        {
            "name": "X",
            "siret": siret,
            "legal_form": "association",
            "sector": "private",
            "address": "a",
            "postcode": "33000",
            "city": "Bordeaux",
        },
    )
    assert "déjà inscrite" in " ".join(field_errors(response, "siret"))


def test_point_outside_france_message_on_field(site_client):
    response = site_client.post(
        reverse("mediators:point_add"),
        {
            "name": "L",
            "address": "a",
            "postcode": "33400",
            "commune": "Talence",
            "insee_code": "33522",
            "latitude": "51.5",
            "longitude": "-0.12",
        },
    )
    assert "hors de France" in " ".join(field_errors(response, "latitude"))
    assert not site_client.site.points.exists()


def test_point_unknown_insee(site_client):
    response = site_client.post(
        reverse("mediators:point_add"),
        {
            "name": "L",
            "address": "a",
            "postcode": "33400",
            "commune": "Talence",
            "insee_code": "ABCDE",
            "latitude": "44.8",
            "longitude": "-0.5",
        },
    )
    assert "code INSEE" in " ".join(field_errors(response, "insee_code"))


@pytest.mark.parametrize(
    ("iban", "bic", "field", "message"),
    [
        ("FR76 3000 6000 0112 3456 7890 188", "AGRIFRPPXXX", "iban", "n'est pas valide"),
        ("BR1800360305000010009795493C1", "BRASBRRJXXX", "iban", "hors de la zone SEPA"),
        ("FR7630006000011234567890189", "XX", "bic", "BIC n'est pas valide"),
    ],
)
def test_bank_bad_input(site_client, iban, bic, field, message):
    response = site_client.post(
        reverse("mediators:bank"), {"payee_kind": "self", "holder_name": "Asso", "iban": iban, "bic": bic}
    )
    assert message in " ".join(field_errors(response, field))
    assert not PayeeAccount.objects.exists()


def test_bank_is_for_admins_only(client, member_of):
    site = SiteFactory()
    client.force_login(member_of(site.organisation, role="member"))
    response = client.post(
        reverse("mediators:bank"),
        {"payee_kind": "self", "holder_name": "Asso", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPPXXX"},
    )
    assert response.status_code == 302
    assert not PayeeAccount.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"%PDF" + b"0" * (5 * 1024 * 1024 + 1), "5 Mo au plus"), (b"GIF89a....", "ni un PDF")],
)
def test_document_bad_input(site_client, content, message):
    response = site_client.post(
        reverse("mediators:documents"), {"kind": "statutes", "file": SimpleUploadedFile("f.pdf", content)}
    )
    assert message in " ".join(field_errors(response, "file"))
    assert not site_client.site.documents.exists()


def test_catalogue_service_not_in_referential(site_client):
    response = site_client.post(
        reverse("mediators:catalogue"),
        {
            "service": "500",
            "passes_required": "1",
            "format": "individual",
            "duration_minutes": "60",
            "tariff_euros": "10",
        },
    )
    assert "référentiel #APTIC" in " ".join(field_errors(response, "service"))
    assert not site_client.site.catalogue.exists()


def test_every_site_page_renders(site_client):
    from tests.mediators.factories import (
        CatalogueItemFactory,
        PointOfPresenceFactory,
        SupportingDocumentFactory,
        WorkshopFactory,
    )

    site = site_client.site
    point = PointOfPresenceFactory(site=site)
    item = CatalogueItemFactory(site=site)
    document = SupportingDocumentFactory(site=site)
    workshop = WorkshopFactory(site=site, point_of_presence=point)
    for name, args in [
        ("dashboard", []),
        ("identity", []),
        ("questionnaire", []),
        ("charter", []),
        ("submit", []),
        ("points", []),
        ("point_add", []),
        ("point_edit", [point.pk]),
        ("point_close", [point.pk]),
        ("catalogue", []),
        ("catalogue_edit", [item.pk]),
        ("catalogue_remove", [item.pk]),
        ("documents", []),
        ("document_download", [document.pk]),
        ("document_delete", [document.pk]),
        ("bank", []),
        ("workshops", []),
        ("workshop_add", []),
        ("workshop_edit", [workshop.pk]),
        ("workshop_cancel", [workshop.pk]),
    ]:
        response = site_client.get(reverse(f"mediators:{name}", args=args))
        assert response.status_code == 200, name


def test_sponsor_cannot_use_the_site_space(client, member_of):
    from tests.factories import OrganisationFactory

    client.force_login(member_of(OrganisationFactory(sponsor=True)))
    assert client.get(reverse("mediators:dashboard")).status_code == 403
