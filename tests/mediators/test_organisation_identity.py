"""The structure's identity after sign-up: its administrator changes the name, SIRET, address
(/site/identite/organisation/), the legal form and the sector (/site/identite/); members cannot.
SIRET checked as at sign-up and unique; audited with before and after; bad input never a 500."""

import pytest
from django.urls import reverse

from mediators.qualification import services
from passnum.audit.models import AuditLog
from passnum.organisations.services import OrganisationError
from passnum.organisations.validators import siret_from_prefix
from tests.clearing.payees.factories import PayeeAccountFactory
from tests.factories import OrganisationFactory
from tests.mediators.factories import SiteFactory

pytestmark = pytest.mark.django_db

NEW_SIRET = siret_from_prefix("552100550001")
URL = "/site/identite/organisation/"


@pytest.fixture
def site():
    return SiteFactory(organisation__name="Les Clics", organisation__address="1 rue X")


@pytest.fixture
def admin_client(client, member_of, site):
    client.force_login(member_of(site.organisation, role="admin"))
    return client


def identity(**changes):
    return {
        "name": "Les Clics du Lac",
        "siret": NEW_SIRET,
        "address": "2 avenue du Lac",
        "postcode": "33000",
        "city": "Bordeaux",
        "email": "contact@clics.fr",
        **changes,
    }


def field_errors(response, field):
    return " ".join(str(e) for e in response.context["form"].errors.get(field, []))


def test_identity_page_links_to_the_form_filled_with_the_current_identity(admin_client, site):
    page = admin_client.get(reverse("mediators:identity")).content.decode()
    assert f'href="{reverse("mediators:organisation_edit")}"' in page
    form = admin_client.get(URL).context["form"]
    assert (form["name"].value(), form["address"].value()) == ("Les Clics", "1 rue X")
    assert form["siret"].value() == site.organisation.siret


def test_admin_changes_name_siret_and_address_audited(admin_client, site):
    old_siret = site.organisation.siret
    page = admin_client.get(reverse("mediators:identity")).content.decode()
    assert URL in page and "écrivez à l'opérateur" not in page
    assert admin_client.get(URL).status_code == 200
    response = admin_client.post(URL, identity(siret=f"{NEW_SIRET[:3]} {NEW_SIRET[3:6]} {NEW_SIRET[6:]}"))
    assert response.status_code == 302 and response.url == reverse("mediators:identity")
    organisation = site.organisation
    organisation.refresh_from_db()
    assert (organisation.name, organisation.siret, organisation.address, organisation.postcode) == (
        "Les Clics du Lac",
        NEW_SIRET,
        "2 avenue du Lac",
        "33000",
    )
    assert (organisation.city, organisation.email) == ("Bordeaux", "contact@clics.fr")
    log = AuditLog.objects.get(action="organisation.updated")
    assert log.organisation_id == organisation.pk and log.actor is not None
    assert log.before["siret"] == old_siret and log.before["name"] == "Les Clics"
    assert log.after["siret"] == NEW_SIRET and log.after["name"] == "Les Clics du Lac"
    # Nothing changed: nothing written to the journal.
    assert admin_client.post(URL, identity()).status_code == 302
    assert AuditLog.objects.filter(action="organisation.updated").count() == 1


@pytest.mark.parametrize(
    ("siret", "message"),
    [("12345678000012", "clé de contrôle"), ("123", "14 chiffres"), ("1234567800001A", "que des chiffres")],
)
def test_bad_siret_is_refused_on_the_field(admin_client, site, siret, message):
    response = admin_client.post(URL, identity(siret=siret))
    assert response.status_code == 200
    assert message in field_errors(response, "siret")
    site.organisation.refresh_from_db()
    assert site.organisation.name == "Les Clics"  # nothing half-saved
    assert not AuditLog.objects.filter(action="organisation.updated").exists()


def test_siret_of_another_organisation_is_refused(admin_client, site):
    other = OrganisationFactory(sponsor=True)
    response = admin_client.post(URL, identity(siret=other.siret))
    assert response.status_code == 200
    assert "déjà inscrite" in field_errors(response, "siret")
    site.organisation.refresh_from_db()
    assert site.organisation.siret != other.siret and site.organisation.name == "Les Clics"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "  "}, "name", "obligatoire"),
        ({"postcode": "00100"}, "postcode", "aucun département"),
        ({"postcode": "3300"}, "postcode", "5 chiffres"),
        ({"email": "pas-une-adresse"}, "email", "adresse e-mail valide"),
    ],
)
def test_bad_identity_is_refused_on_the_field(admin_client, site, changes, field, message):
    response = admin_client.post(URL, identity(**changes))
    assert response.status_code == 200
    assert message in field_errors(response, field)
    site.organisation.refresh_from_db()
    assert site.organisation.siret != NEW_SIRET


def test_a_member_cannot_change_the_identity(client, member_of, site):
    client.force_login(member_of(site.organisation, role="member"))
    response = client.post(URL, identity())
    assert response.status_code == 302 and response.url == reverse("mediators:identity")
    assert client.get(URL).status_code == 302
    site.organisation.refresh_from_db()
    assert site.organisation.siret != NEW_SIRET
    # The legal form and the sector are shown but cannot be changed by a member.
    page = client.get(reverse("mediators:identity"))
    assert page.context["form"].fields["legal_form"].disabled
    assert URL not in page.content.decode()
    response = client.post(
        reverse("mediators:identity"),
        {"legal_form": "commune", "sector": "public", "presentation": "Bonjour", "audiences": ["seniors"]},
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.legal_form, site.sector, site.presentation) == ("association", "private", "Bonjour")


def test_admin_changes_legal_form_and_sector_audited(admin_client, site):
    response = admin_client.post(
        reverse("mediators:identity"), {"legal_form": "commune", "sector": "public", "audiences": []}
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.legal_form, site.sector) == ("commune", "public")
    log = AuditLog.objects.filter(action="site.identity_changed").latest("pk")
    assert log.before["legal_form"] == "association" and log.after["legal_form"] == "commune"
    assert log.before["sector"] == "private" and log.after["sector"] == "public"


def test_public_site_paid_through_its_treasurer_cannot_become_private(admin_client, site):
    site.legal_form, site.sector = "commune", "public"
    site.save()
    PayeeAccountFactory(organisation=site.organisation, payee_kind="treasurer_regie")
    response = admin_client.post(
        reverse("mediators:identity"), {"legal_form": "association", "sector": "private", "audiences": []}
    )
    assert response.status_code == 200
    assert "comptable public" in field_errors(response, "sector")
    site.refresh_from_db()
    assert site.sector == "public"


def test_service_keeps_the_siret_unique(site, member_of):
    admin = member_of(site.organisation, role="admin")
    other = SiteFactory()
    with pytest.raises(OrganisationError) as error:
        services.update_organisation_identity(site=site, by=admin, **identity(siret=other.organisation.siret, email=""))
    assert error.value.code == "siret_taken" and error.value.field == "siret"
    # Its own SIRET, unchanged, is not "already registered".
    site = services.update_organisation_identity(
        site=site, by=admin, **identity(siret=site.organisation.siret, email="")
    )
    assert site.organisation.name == "Les Clics du Lac"


def test_siret_taken_at_the_same_moment_is_a_clear_error(admin_client, site, monkeypatch):
    """Two organisations saving the same SIRET at once: the unique index answers, never a 500."""
    from passnum.organisations import services as organisation_services

    other = OrganisationFactory(sponsor=True)
    monkeypatch.setattr(organisation_services, "check_siret", lambda siret, exclude_pk=None: siret)
    response = admin_client.post(URL, identity(siret=other.siret))
    assert response.status_code == 200
    assert "déjà inscrite" in field_errors(response, "siret")
    site.organisation.refresh_from_db()
    assert site.organisation.name == "Les Clics"
