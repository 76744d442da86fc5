"""Import of sites and points of presence: every bad line reported, nothing imported unless the
whole file is valid (the console's import-export resources, used directly)."""

import pytest
import tablib

from mediators.places.models import PointOfPresence
from mediators.qualification.models import QualificationStatus, Site
from mediators.resources import PointOfPresenceResource, SiteResource
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from tests.mediators.factories import SiteFactory

pytestmark = pytest.mark.django_db

SITE_HEADERS = [
    "siret",
    "name",
    "address",
    "postcode",
    "city",
    "email",
    "legal_form",
    "sector",
    "presentation",
    "website",
    "status",
]
POINT_HEADERS = [
    "id",
    "siret",
    "name",
    "address",
    "address_complement",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "opening_hours",
    "phone",
    "email",
    "wheelchair_accessible",
    "hearing_support",
    "visual_support",
    "cognitive_support",
    "literacy_support",
    "is_mobile",
    "regulated_free",
    "is_active",
]


def site_row(siret, name="Asso", legal_form="association", sector="private", status="qualified"):
    return [siret, name, "1 rue X", "33400", "Talence", "", legal_form, sector, "", "", status]


def dataset(headers, rows):
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append(row)
    return data


def test_site_import_reports_every_bad_line_and_writes_nothing():
    good = siret_from_prefix("444555660001")
    rows = [
        site_row(good),
        site_row("12345678000012"),
        site_row(siret_from_prefix("444555670001"), legal_form="club"),
        site_row(good, name="Doublon"),
        site_row(siret_from_prefix("444555680001"), legal_form="commune", sector="private"),
    ]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=True)
    assert result.has_validation_errors()
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert sorted(errors) == [2, 3, 4, 5]
    assert "Ligne 3 : SIRET" in errors[2] and "clé de contrôle" in errors[2]
    assert "Ligne 4 : forme juridique « club » inconnue" in errors[3]
    assert "Ligne 5 : le SIRET" in errors[4] and "ligne 2" in errors[4]
    assert "Ligne 6 :" in errors[5] and "secteur public" in errors[5]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert not Site.objects.exists() and not Organisation.objects.exists()


def test_site_import_creates_organisations_and_sites():
    rows = [site_row(siret_from_prefix("444555660001")), site_row(siret_from_prefix("444555690001"), status="")]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Site.objects.filter(status=QualificationStatus.QUALIFIED).count() == 1
    assert Site.objects.filter(status=QualificationStatus.DRAFT).count() == 1
    assert {o.kind for o in Organisation.objects.all()} == {"site"}
    export = SiteResource().export()
    assert export.headers == SITE_HEADERS and len(export) == 2


def test_point_import_checks_each_line():
    site = SiteFactory()
    siret = site.organisation.siret

    def point(**changes):
        values = {
            "id": "",
            "siret": siret,
            "name": "Lieu",
            "address": "1 rue X",
            "address_complement": "",
            "postcode": "33400",
            "commune": "Talence",
            "insee_code": "33522",
            "latitude": "44.8",
            "longitude": "-0.58",
            "opening_hours": "",
            "phone": "",
            "email": "",
            "wheelchair_accessible": "1",
            "hearing_support": "0",
            "visual_support": "0",
            "cognitive_support": "0",
            "literacy_support": "0",
            "is_mobile": "0",
            "regulated_free": "1",
            "is_active": "1",
        }
        values.update(changes)
        return [values[h] for h in POINT_HEADERS]

    rows = [
        point(),
        point(latitude="48.85", longitude="120"),
        point(insee_code="99999"),
        point(siret=siret_from_prefix("999888770001")),
    ]
    result = PointOfPresenceResource().import_data(dataset(POINT_HEADERS, rows), dry_run=False)
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert sorted(errors) == [2, 3, 4]
    assert "Ligne 3 : latitude : Ces coordonnées sont hors de France" in errors[2]
    assert "Ligne 4 :" in errors[3] and "code INSEE" in errors[3]
    assert "Ligne 5 : aucune structure" in errors[4]
    assert not PointOfPresence.objects.exists()

    result = PointOfPresenceResource().import_data(
        dataset(POINT_HEADERS, [point(), point(name="Annexe")]), dry_run=False
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(site.points.values_list("name", flat=True)) == ["Annexe", "Lieu"]


# --- an imported site gets an administrator ------------------------------------------------------


def site_row_with_email(siret, email, **kwargs):
    row = site_row(siret, **kwargs)
    row[SITE_HEADERS.index("email")] = email
    return row


def test_imported_site_with_an_email_invites_its_administrator(operator_user, django_capture_on_commit_callbacks):
    from django.core import mail

    from passnum.audit.models import AuditLog
    from passnum.organisations.models import Invitation

    siret = siret_from_prefix("444555660001")
    rows = [
        site_row_with_email(siret, "Direction@Clics.fr"),
        site_row(siret_from_prefix("444555690001")),  # no e-mail: nobody to invite
    ]
    with django_capture_on_commit_callbacks(execute=True):
        result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False, user=operator_user)
    assert not result.has_errors() and not result.has_validation_errors()
    invitation = Invitation.objects.get()
    assert invitation.organisation.siret == siret and invitation.email == "direction@clics.fr"
    assert invitation.role == "admin" and invitation.is_pending and invitation.invited_by == operator_user
    assert [message.to for message in mail.outbox] == [["direction@clics.fr"]]
    assert invitation.token in mail.outbox[0].body
    assert AuditLog.objects.filter(action="invitation.sent", organisation_id=invitation.organisation_id).exists()

    # Importing the same file again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False, user=operator_user)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_no_invitation_once_the_site_has_an_administrator(member_of):
    from passnum.organisations.models import Invitation

    site = SiteFactory()
    member_of(site.organisation, role="admin")
    rows = [site_row_with_email(site.organisation.siret, "nouveau@clics.fr", status="draft")]
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert not Invitation.objects.exists()


def test_accepted_invitation_is_not_sent_again():
    from mediators.qualification import services
    from passnum.organisations.models import Invitation
    from passnum.organisations.services import accept_invitation
    from tests.factories import UserFactory

    siret = siret_from_prefix("444555660001")
    rows = [site_row_with_email(siret, "direction@clics.fr")]
    SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    invitation = Invitation.objects.get()
    accept_invitation(token=invitation.token, user=UserFactory(email="direction@clics.fr"))
    SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert Invitation.objects.count() == 1
    site = Site.objects.get(organisation__siret=siret)
    assert services.invite_site_admin(site=site, email="direction@clics.fr") is None


def test_expired_invitation_is_sent_again_on_reimport():
    import datetime

    from django.utils import timezone

    from passnum.organisations.models import Invitation

    rows = [site_row_with_email(siret_from_prefix("444555660001"), "direction@clics.fr")]
    SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(days=1))
    SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    assert Invitation.objects.count() == 2 and Invitation.objects.pending().count() == 1


def test_dry_run_and_bad_email_invite_nobody(django_capture_on_commit_callbacks):
    from django.core import mail

    from passnum.organisations.models import Invitation

    rows = [site_row_with_email(siret_from_prefix("444555660001"), "direction@clics.fr")]
    with django_capture_on_commit_callbacks(execute=True):
        result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=True)
    assert not result.has_validation_errors()
    assert not Invitation.objects.exists() and not mail.outbox

    rows.append(site_row_with_email(siret_from_prefix("444555690001"), "pas-une-adresse"))
    result = SiteResource().import_data(dataset(SITE_HEADERS, rows), dry_run=False)
    errors = {row.number: str(row.error) for row in result.invalid_rows}
    assert list(errors) == [2] and "Ligne 3 : l'e-mail de contact « pas-une-adresse »" in errors[2]
    assert not Invitation.objects.exists() and not Site.objects.exists()


# --- who imported which file, through the console -------------------------------------------------


def point_row(siret, point_id="", name="Lieu"):
    values = dict.fromkeys(POINT_HEADERS, "0")
    values.update(
        id=point_id, siret=siret, name=name, address="1 rue X", address_complement="", postcode="33400",
        commune="Talence", insee_code="33522", latitude="44.8", longitude="-0.58", opening_hours="", phone="",
        email="", is_active="1",
    )  # fmt: skip
    return [values[h] for h in POINT_HEADERS]


def csv_file(name, headers, rows):
    from tests.audit.test_admin_blind_spots import csv_upload

    return csv_upload(name, [headers, *rows])


def sites_file():
    existing = SiteFactory()
    rows = [site_row(existing.organisation.siret, status="draft"), site_row(siret_from_prefix("444555660001"))]
    return Site, csv_file("structures-gironde.csv", SITE_HEADERS, rows)


def points_file():
    site = SiteFactory()
    from tests.mediators.factories import PointOfPresenceFactory

    existing = PointOfPresenceFactory(site=site)
    rows = [point_row(site.organisation.siret, str(existing.pk), "Renommé"), point_row(site.organisation.siret)]
    return PointOfPresence, csv_file("lieux-gironde.csv", POINT_HEADERS, rows)


@pytest.mark.parametrize("make_file", [sites_file, points_file], ids=["sites", "points"])
def test_an_import_in_the_console_is_audited_with_its_file_and_counts(client, operator_user, make_file):
    from tests.audit.test_admin_blind_spots import import_in_console

    model, upload = make_file()
    entry = import_in_console(client, operator_user, model, upload)
    assert entry.after["file"] == upload.name
    assert (entry.after["created"], entry.after["updated"]) == (1, 1)
    assert model.objects.count() == 2
