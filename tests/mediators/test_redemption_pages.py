"""The site's « Encaissements » and « Scans refusés » pages, the undo confirmation, and the
operator's read-only admin of redemptions."""

import csv
import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediators.redemption import services
from mediators.redemption.models import Redemption
from passnum.idempotency.models import StoredAnswer
from passnum.passes import codes
from passnum.passes.models import Pass, PassState
from tests.factories import OrganisationFactory
from tests.mediators.factories import (
    CatalogueItemFactory,
    PointOfPresenceFactory,
    RedemptionFactory,
    RefusedScanFactory,
    aptic_service,
    redeem_passes,
    redeemable_booklet,
    redeeming_site,
)

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MARCH = datetime.datetime(2025, 3, 10, 10, 0, tzinfo=PARIS)
APRIL = datetime.datetime(2025, 4, 15, 10, 0, tzinfo=PARIS)
LIST = reverse("mediators:redemptions")
REFUSED = reverse("mediators:refused_scans")


@pytest.fixture
def travel(client):
    """``travel(moment)`` moves the clock there (until the test ends). Sessions last ten hours:
    the user logged in with ``travel.login(user)`` is logged in again after each move."""
    state = {"traveller": None, "user": None}

    def move(moment):
        if state["traveller"] is not None:
            state["traveller"].stop()
        state["traveller"] = time_machine.travel(moment, tick=False)
        state["traveller"].start()
        if state["user"] is not None:
            client.force_login(state["user"])

    def login(user):
        state["user"] = user
        client.force_login(user)

    move.login = login
    yield move
    if state["traveller"] is not None:
        state["traveller"].stop()


@pytest.fixture
def place(travel):
    travel(MARCH)
    return redeeming_site()


@pytest.fixture
def booklet(place):
    return redeemable_booklet()


@pytest.fixture
def site_client(client, place, travel):
    travel.login(place.user)
    return client


def next_pass(booklet):
    return booklet.passes.filter(state=PassState.ACTIVE).order_by("position").first()


def redeem_at(moment, travel, place, booklet, **extra):
    travel(moment)
    return redeem_passes(place, [next_pass(booklet)], **extra)


def page_text(response):
    return response.content.decode()


# --- « Encaissements » -----------------------------------------------------------------------


def test_the_list_shows_the_current_month_with_its_totals(site_client, place, booklet, travel):
    march = redeem_at(MARCH, travel, place, booklet)
    first = redeem_at(APRIL, travel, place, booklet)
    second = redeem_at(APRIL + datetime.timedelta(hours=2), travel, place, booklet)

    response = site_client.get(LIST)
    assert response.status_code == 200
    html = page_text(response)
    assert "Avril 2025" in html
    for redemption in (first, second):
        code = codes.grouped(redemption.lines.get().pass_ref.code)
        assert code in html
    assert codes.grouped(march.lines.get().pass_ref.code) not in html
    assert response.context["totals"] == {"count": 2, "passes": 2, "amount_cents": 2000}
    assert "20,00\u00a0€" in html
    assert booklet.serial in html and place.point.name in html and str(place.user) in html
    assert "month=2025-03" in html and "Mois précédent" in html
    assert "Mois suivant" not in html  # nothing after the current month
    assert html.count(">Annuler<") == 2  # both are within 24 hours
    assert 'aria-current="page">Encaissements' in html


def test_another_month_is_chosen_with_its_links(site_client, place, booklet, travel):
    march = redeem_at(MARCH, travel, place, booklet)
    redeem_at(APRIL, travel, place, booklet)

    response = site_client.get(LIST, {"month": "2025-03"})
    html = page_text(response)
    assert list(response.context["page"]) == [march]
    assert "Mars 2025" in html
    assert "month=2025-04" in html and "Mois suivant" in html and "Mois en cours" in html
    assert ">Annuler<" not in html  # more than 24 hours ago
    assert response.context["totals"]["count"] == 1


def test_the_list_filters_by_service_and_place(site_client, place, booklet, travel):
    other_point = PointOfPresenceFactory(site=place.site, name="Maison des services")
    CatalogueItemFactory(site=place.site, service=aptic_service(2))
    at_first = redeem_at(APRIL, travel, place, booklet)
    travel(APRIL + datetime.timedelta(hours=1))
    elsewhere = services.redeem(
        place.organisation,
        user=place.user,
        codes_entered=[next_pass(booklet).code],
        service_code=2,
        point_id=other_point.pk,
    )

    by_service = site_client.get(LIST, {"service": "2"})
    assert list(by_service.context["page"]) == [elsewhere]
    assert by_service.context["totals"]["count"] == 1
    by_point = site_client.get(LIST, {"point": str(place.point.pk)})
    assert list(by_point.context["page"]) == [at_first]
    both = site_client.get(LIST, {"service": "1", "point": str(other_point.pk)})
    assert list(both.context["page"]) == []
    assert "Aucun encaissement" in page_text(both)
    # The filters stay in the month links and the CSV link.
    assert "service=2" in page_text(by_service).split("Changer de mois")[1]


def test_totals_are_in_euros_french_style_and_count_only_live_redemptions(site_client, place, travel):
    booklet = redeemable_booklet(face_value_cents=123450)
    kept = redeem_at(APRIL, travel, place, booklet)
    undone = redeem_at(APRIL + datetime.timedelta(hours=1), travel, place, booklet)
    services.undo_redemption(place.organisation, undone.pk, user=place.user)

    response = site_client.get(LIST)
    assert response.context["totals"] == {"count": 1, "passes": 1, "amount_cents": kept.amount_cents}
    html = page_text(response)
    assert "1\u202f234,50\u00a0€" in html
    assert "Annulé" in html and "En vigueur" in html


def test_bad_filters_are_reported_never_a_500(site_client, place, booklet, travel):
    other_site_point = PointOfPresenceFactory()
    redeem_at(APRIL, travel, place, booklet)
    response = site_client.get(
        LIST, {"month": "2025-13", "service": "x" * 500, "point": str(other_site_point.pk), "page": "-3"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"month", "service", "point"}
    assert response.context["month"] == datetime.date(2025, 4, 1)  # the current month instead
    assert response.context["totals"]["count"] == 1
    assert 'aria-describedby="id_month_helptext id_month_error"' in page_text(response)
    for month in ("garbage", "1999-01", "2025-00", "2025-3-1"):
        assert site_client.get(LIST, {"month": month}).status_code == 200


def test_the_list_is_paginated_and_its_queries_do_not_grow_with_rows(site_client, place, travel):
    booklets = [redeemable_booklet() for _ in range(4)]
    moment = APRIL
    for booklet in booklets[:1]:
        redeem_at(moment, travel, place, booklet)
    travel(APRIL + datetime.timedelta(days=1))
    site_client.get(LIST)  # the first request after logging in updates the session
    with CaptureQueriesContext(connection) as few:
        assert site_client.get(LIST).status_code == 200
    for index in range(24):
        moment = APRIL + datetime.timedelta(minutes=index + 1)
        redeem_at(moment, travel, place, booklets[1 + index % 3])
    travel(APRIL + datetime.timedelta(days=1))
    site_client.get(LIST)
    with CaptureQueriesContext(connection) as many:
        response = site_client.get(LIST)
    assert len(response.context["rows"]) == 20 and response.context["page"].paginator.num_pages == 2
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "Page 1 sur 2" in page_text(response)
    second = site_client.get(LIST, {"month": "2025-04", "page": "2"})
    assert len(second.context["rows"]) == 5


def test_the_csv_export_gives_the_filtered_month(site_client, place, booklet, travel):
    redeem_at(MARCH, travel, place, booklet)
    april = [redeem_at(APRIL + datetime.timedelta(hours=i), travel, place, booklet) for i in range(2)]
    services.undo_redemption(place.organisation, april[1].pk, user=place.user)

    html = page_text(site_client.get(LIST))
    assert "month=2025-04&amp;format=csv" in html
    response = site_client.get(LIST, {"month": "2025-04", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="encaissements-2025-04.csv"' in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][0] == "Date d'encaissement" and "Montant remboursable (€)" in rows[0]
    body = {row[1]: row for row in rows[1:]}
    assert set(body) == {str(r.pk) for r in april}
    live = body[str(april[0].pk)]
    assert live[0] == "15/04/2025 10:00"
    assert live[2] == codes.grouped(april[0].lines.get().pass_ref.code)
    assert live[3] == booklet.serial and live[5] == "1" and live[7] == place.point.name
    assert live[8] == "1" and live[9] == "10,00" and live[10] == "0,00"
    assert live[12] == "en vigueur" and body[str(april[1].pk)][12] == "annulé"


def test_the_csv_neutralises_spreadsheet_formulas(site_client, place, booklet, travel):
    place.point.name = '=HYPERLINK("http://x")'
    place.point.save()
    redeem_at(APRIL, travel, place, booklet)
    text = site_client.get(LIST, {"format": "csv"}).content.decode("utf-8")
    row = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))[1]
    assert row[7].startswith("'=")


def test_the_page_shows_only_the_sites_own_redemptions(site_client, place, booklet, travel):
    travel(APRIL)
    stranger = RedemptionFactory()
    html = page_text(site_client.get(LIST))
    assert str(stranger.pk) not in html
    assert stranger.booklet.serial not in html
    assert site_client.get(LIST, {"format": "csv"}).content.decode().count("\n") == 1


# --- undo ------------------------------------------------------------------------------------


def undo_url(redemption):
    return reverse("mediators:redemption_undo", args=[redemption.pk])


def test_undo_through_the_confirmation_page(site_client, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    pass_ = redemption.lines.get().pass_ref
    travel(APRIL + datetime.timedelta(hours=3))

    page = site_client.get(undo_url(redemption))
    html = page_text(page)
    assert page.status_code == 200
    assert codes.grouped(pass_.code) in html and "Oui, annuler l'encaissement" in html
    assert "16/04/2025 à 10:00" in html  # until when
    redemption.refresh_from_db()
    assert redemption.undone_at is None  # a GET changes nothing

    response = site_client.post(undo_url(redemption), follow=True)
    assert response.redirect_chain[-1][0] == f"{LIST}?month=2025-04"
    assert "L&#x27;encaissement est annulé : le pass est de nouveau utilisable." in page_text(response)
    redemption.refresh_from_db()
    assert redemption.undone_at is not None and redemption.undone_by == place.user
    assert Pass.objects.get(pk=pass_.pk).state == PassState.ACTIVE

    again = site_client.get(undo_url(redemption))
    assert "déjà annulé" in page_text(again) and "Oui, annuler" not in page_text(again)


def test_undo_is_refused_after_24_hours_with_the_french_reason(site_client, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    travel(APRIL + datetime.timedelta(hours=23))
    assert "Oui, annuler l'encaissement" in page_text(site_client.get(undo_url(redemption)))

    travel(APRIL + datetime.timedelta(hours=25))  # the confirmation page was left open
    response = site_client.post(undo_url(redemption))
    html = page_text(response)
    assert response.status_code == 200
    assert "Un encaissement ne peut être annulé que dans les 24 heures" in html
    assert 'role="alert"' in html and "Oui, annuler" not in html
    redemption.refresh_from_db()
    assert redemption.undone_at is None
    assert "Le délai de 24 heures est passé" in page_text(site_client.get(undo_url(redemption)))


def test_a_settled_redemption_cannot_be_undone(site_client, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    Redemption.objects.filter(pk=redemption.pk).update(settled_at=APRIL + datetime.timedelta(hours=1))
    html = page_text(site_client.get(undo_url(redemption)))
    assert "figure déjà sur un relevé" in html and "Oui, annuler" not in html
    response = site_client.post(undo_url(redemption))
    assert "figure déjà sur un relevé de remboursement" in page_text(response)
    redemption.refresh_from_db()
    assert redemption.undone_at is None


def test_another_organisations_redemption_answers_404(client, member_of, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    outsider = member_of(OrganisationFactory(site=True), role="admin")
    client.force_login(outsider)
    assert client.get(undo_url(redemption)).status_code == 404
    assert client.post(undo_url(redemption)).status_code == 404
    redemption.refresh_from_db()
    assert redemption.undone_at is None
    assert client.get("/site/encaissements/not-a-uuid/annuler/").status_code == 404


# --- « Scans refusés » -----------------------------------------------------------------------


def refuse(place, entered):
    """A scan refused through the redemption (as the scan page and the API do): it is logged."""
    status, body = services.redeem_once(
        place.organisation,
        key=f"page-test-{entered[0]}",
        request_hash="0" * 64,
        user=place.user,
        codes_entered=entered,
        service_code=place.item.service.code,
        point_id=place.point.pk,
    )
    assert status == 409, body
    return body


def test_refused_scans_are_listed_with_their_reason_and_filtered(site_client, place, booklet, travel):
    travel(APRIL)
    pass_ = next_pass(booklet)
    redeem_passes(place, [pass_])
    refuse(place, [pass_.code])  # already redeemed
    RefusedScanFactory(organisation=place.organisation, user=place.user, entered="ABCD-EFGH-JKMN-Q")
    RefusedScanFactory(organisation=OrganisationFactory(site=True), entered="AUTRE-STRUCTURE")

    response = site_client.get(REFUSED)
    html = page_text(response)
    assert response.status_code == 200
    assert "2 scans refusés" in html
    assert "ABCD-EFGH-JKMN-Q" in html and "AUTRE-STRUCTURE" not in html
    assert "Ce code comporte une faute de frappe." in html
    assert "déjà encaissé" in html  # the stored French message of the refusal
    assert place.point.name in html and str(place.user) in html
    reasons = dict(response.context["form"].fields["reason"].choices)
    assert reasons["code_mistyped"] == "Faute de frappe dans le code"
    assert reasons["pass_already_redeemed"] == "Pass déjà encaissé"
    assert 'aria-current="page">Scans refusés' in html

    filtered = site_client.get(REFUSED, {"reason": "code_mistyped"})
    assert [scan.reason for scan in filtered.context["page"]] == ["code_mistyped"]
    assert "1 scan refusé : Faute de frappe dans le code" in page_text(filtered)

    wrong = site_client.get(REFUSED, {"reason": "<script>", "page": "x"})
    assert wrong.status_code == 200 and "reason" in wrong.context["form"].errors
    assert wrong.context["page"].paginator.count == 2


def test_refused_scans_queries_do_not_grow_with_rows(site_client, place):
    RefusedScanFactory(organisation=place.organisation, user=place.user, point_of_presence=place.point)
    site_client.get(REFUSED)  # the first request after logging in updates the session
    with CaptureQueriesContext(connection) as few:
        site_client.get(REFUSED)
    RefusedScanFactory.create_batch(
        30, organisation=place.organisation, user=place.user, point_of_presence=place.point, service=aptic_service()
    )
    with CaptureQueriesContext(connection) as many:
        response = site_client.get(REFUSED)
    assert len(response.context["page"]) == 20
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_site_nav_links_to_both_pages(site_client):
    html = page_text(site_client.get(reverse("mediators:dashboard")))
    assert f'href="{LIST}"' in html and f'href="{REFUSED}"' in html


# --- the operator's admin --------------------------------------------------------------------


def test_the_admin_lists_redemptions_read_only(client, operator_user, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    code = redemption.lines.get().pass_ref.code
    undone = redeem_at(APRIL + datetime.timedelta(hours=1), travel, place, booklet)
    services.undo_redemption(place.organisation, undone.pk, user=place.user)
    client.force_login(operator_user)

    changelist = reverse("admin:mediators_redemption_changelist")
    response = client.get(changelist)
    assert response.status_code == 200
    html = page_text(response)
    assert "10,00 €" in html and "annulé" in html and "en vigueur" in html
    for query, expected in [
        ({"etat": "live"}, [redemption]),
        ({"etat": "undone"}, [undone]),
        ({"mois": "2025-04"}, [redemption, undone]),
        ({"mois": "2025-03"}, []),
        ({"mois": "n'importe quoi"}, [redemption, undone]),
        ({"programme__id__exact": booklet.programme_id}, [redemption, undone]),
        ({"q": codes.grouped(code).lower()}, [redemption]),
        ({"q": booklet.serial}, [redemption, undone]),
        ({"q": place.organisation.name}, [redemption, undone]),
    ]:
        response = client.get(changelist, query)
        assert response.status_code == 200, query
        assert set(response.context["cl"].result_list) == set(expected), query

    detail = client.get(reverse("admin:mediators_redemption_change", args=[redemption.pk]))
    assert detail.status_code == 200
    assert codes.grouped(code) in page_text(detail)
    assert 'name="_save"' not in page_text(detail)  # view only
    assert client.get(reverse("admin:mediators_redemption_add")).status_code == 403
    assert client.post(reverse("admin:mediators_redemption_delete", args=[redemption.pk])).status_code == 403
    assert (
        client.post(reverse("admin:mediators_redemption_change", args=[redemption.pk]), {"amount_cents": 1}).status_code
        == 403
    )
    redemption.refresh_from_db()
    assert redemption.amount_cents == 1000


def test_the_admin_lists_refused_scans_and_idempotency_keys(client, operator_user, place, booklet, travel):
    redemption = redeem_at(APRIL, travel, place, booklet)
    scan = RefusedScanFactory(organisation=place.organisation, entered="ZZZZ-ZZZZ-ZZZZ-Z")
    RefusedScanFactory(reason="pass_unknown", entered="AUTRE")
    key = StoredAnswer.objects.create(
        organisation=place.organisation,
        scope="redemptions",
        key="cle-de-test",
        request_hash="0" * 64,
        status_code=201,
        body=f'{{"id":"{redemption.pk}"}}',
        subject=str(redemption.pk),
        created_at=APRIL,
    )
    client.force_login(operator_user)

    scans = reverse("admin:mediators_refusedscan_changelist")
    assert client.get(scans).status_code == 200
    assert list(client.get(scans, {"reason": "code_mistyped"}).context["cl"].result_list) == [scan]
    assert list(client.get(scans, {"q": "ZZZZ"}).context["cl"].result_list) == [scan]
    assert list(client.get(scans, {"q": place.organisation.name}).context["cl"].result_list) == [scan]
    assert client.get(reverse("admin:mediators_refusedscan_change", args=[scan.pk])).status_code == 200
    assert client.get(reverse("admin:mediators_refusedscan_add")).status_code == 403

    keys = reverse("admin:idempotency_storedanswer_changelist")
    response = client.get(keys, {"q": "cle-de-test"})
    assert response.status_code == 200 and list(response.context["cl"].result_list) == [key]
    assert client.get(reverse("admin:idempotency_storedanswer_change", args=[key.pk])).status_code == 200
    assert client.get(reverse("admin:idempotency_storedanswer_add")).status_code == 403
    assert client.post(reverse("admin:idempotency_storedanswer_delete", args=[key.pk])).status_code == 403
