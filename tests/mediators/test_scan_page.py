"""The site's scan page without JavaScript (/site/scan/), its service worker, and the URL of a
pass's QR code (/p/<code>)."""

import html
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from mediators.redemption.models import Redemption, RefusedScan
from passnum.passes import codes
from passnum.passes.models import PassState
from tests.mediators.factories import PointOfPresenceFactory, SiteFactory, redeemable_booklet, redeeming_site

pytestmark = pytest.mark.django_db

SCAN_URL = "/site/scan/"


@pytest.fixture
def place():
    return redeeming_site()


@pytest.fixture
def booklet():
    return redeemable_booklet()


@pytest.fixture
def site_client(client, place):
    client.force_login(place.user)
    return client


def page_of(response):
    return html.unescape(response.content.decode())


def passes_of(booklet, n=1):
    return list(booklet.passes.order_by("position")[:n])


def hidden_key(response):
    return re.search(r'name="key" value="([^"]+)"', page_of(response)).group(1)


def scan_form(place, key, code, **extra):
    return {
        "point_of_presence": place.point.pk,
        "service": place.item.service.code,
        "code": code,
        "key": key,
        "collected": "",
        "beneficiary_share": "",
        **extra,
    }


def test_the_scan_page_offers_the_sites_places_and_services(site_client, place):
    response = site_client.get(SCAN_URL)
    assert response.status_code == 200
    page = page_of(response)
    assert place.point.name in page and place.item.service.title in page
    assert 'id="scan-config"' in page and "js/scan.js" in page
    assert reverse("mediators:scan") in page  # the nav entry « Scanner des pass »
    assert "Scanner des pass" in page


def test_a_pass_is_redeemed_by_the_form(site_client, place, booklet):
    pass_ = passes_of(booklet)[0]
    key = hidden_key(site_client.get(SCAN_URL))
    response = site_client.post(SCAN_URL, scan_form(place, key, f"https://passnum.example/p/{pass_.code}"))
    assert response.status_code == 200
    page = page_of(response)
    assert "Pass encaissé" in page and "scan-result-success" in page
    assert codes.grouped(pass_.code) in page
    pass_.refresh_from_db()
    assert pass_.state == PassState.REDEEMED
    redemption = Redemption.objects.get()
    assert redemption.redeemed_by == place.user and redemption.point_of_presence == place.point
    # The next scan gets a new key; the place and the service are remembered in the session.
    assert hidden_key(response) != key
    assert site_client.session["passnum_scan_choice"] == {"point": place.point.pk, "service": place.item.service.code}


def test_a_beneficiary_share_in_euros(site_client, place, booklet):
    pass_ = passes_of(booklet)[0]
    key = hidden_key(site_client.get(SCAN_URL))
    response = site_client.post(SCAN_URL, scan_form(place, key, pass_.code, beneficiary_share="2,50"))
    assert "Reste à charge payé par la personne : 2,50 €" in page_of(response)
    assert Redemption.objects.get().beneficiary_share_cents == 250


def test_a_wrong_beneficiary_share_is_a_field_error(site_client, place, booklet):
    pass_ = passes_of(booklet)[0]
    key = hidden_key(site_client.get(SCAN_URL))
    response = site_client.post(SCAN_URL, scan_form(place, key, pass_.code, beneficiary_share="deux euros"))
    page = page_of(response)
    assert "Indiquez un montant en euros" in page and 'aria-invalid="true"' in page
    assert not Redemption.objects.exists()


def test_a_refusal_shows_its_french_reason_and_the_next_action(site_client, place, booklet):
    pass_ = passes_of(booklet)[0]
    key = hidden_key(site_client.get(SCAN_URL))
    site_client.post(SCAN_URL, scan_form(place, key, pass_.code))
    response = site_client.post(SCAN_URL, scan_form(place, hidden_key(site_client.get(SCAN_URL)), pass_.code))
    page = page_of(response)
    assert "Encaissement refusé" in page and 'role="alert"' in page and "scan-result-refused" in page
    assert "Ce pass a déjà été encaissé le" in page
    assert "demandez un autre pass du carnet" in page
    assert RefusedScan.objects.get().reason == "pass_already_redeemed"


def test_a_mistyped_code_stays_in_the_field(site_client, place, booklet):
    code = passes_of(booklet)[0].code
    mistyped = code[:-2] + ("1" if code[-2] != "1" else "2") + code[-1]
    key = hidden_key(site_client.get(SCAN_URL))
    page = page_of(site_client.post(SCAN_URL, scan_form(place, key, mistyped)))
    assert "faute de frappe" in page
    assert f'value="{mistyped}"' in page
    assert not Redemption.objects.exists()


def test_a_form_sent_twice_redeems_once(site_client, place, booklet):
    pass_ = passes_of(booklet)[0]
    key = hidden_key(site_client.get(SCAN_URL))
    data = scan_form(place, key, pass_.code)
    first = page_of(site_client.post(SCAN_URL, data))
    second = page_of(site_client.post(SCAN_URL, data))
    assert "Pass encaissé" in first and "Pass encaissé" in second  # the same answer, replayed
    assert Redemption.objects.count() == 1
    assert not RefusedScan.objects.exists()


def test_another_sites_point_is_refused(site_client, place, booklet):
    other_point = PointOfPresenceFactory(site=SiteFactory(qualified=True))
    key = hidden_key(site_client.get(SCAN_URL))
    data = scan_form(place, key, passes_of(booklet)[0].code, point_of_presence=other_point.pk)
    page = page_of(site_client.post(SCAN_URL, data))
    assert "Ce lieu n'est pas un lieu ouvert de votre structure" in page
    assert other_point.name not in page
    assert not Redemption.objects.exists()


def test_a_multi_pass_service_collects_the_passes_then_redeems_them_together(client, booklet):
    place = redeeming_site(passes_required=2)
    client.force_login(place.user)
    first, second = passes_of(booklet, 2)
    key = hidden_key(client.get(SCAN_URL))
    response = client.post(SCAN_URL, scan_form(place, key, first.code))
    page = page_of(response)
    assert "1 pass sur 2" in page and "Scannez le pass suivant du même carnet" in page
    assert not Redemption.objects.exists()
    collected = re.search(r'name="collected" value="([^"]+)"', page).group(1)
    assert collected == codes.grouped(first.code)
    assert hidden_key(response) == key  # one submission: the key is kept until the passes are sent
    page = page_of(client.post(SCAN_URL, scan_form(place, key, second.code, collected=collected)))
    assert "2 pass encaissés" in page
    redemption = Redemption.objects.get()
    assert redemption.pass_count == 2 and redemption.amount_cents == 2000


def test_a_site_that_may_not_redeem_is_told_why(client):
    site = SiteFactory()  # a draft application
    from tests.factories import MembershipFactory

    user = MembershipFactory(organisation=site.organisation).user
    client.force_login(user)
    response = client.get(SCAN_URL)
    assert response.status_code == 200
    page = page_of(response)
    assert "n'est pas qualifiée" in page and 'id="scan-form"' not in page
    response = client.post(SCAN_URL, {"code": "x"})
    assert response.status_code == 200 and not Redemption.objects.exists()


def test_the_scan_page_is_for_sites(client, member_of):
    from tests.factories import OrganisationFactory

    client.force_login(member_of(OrganisationFactory(prescriber=True)))
    assert client.get(SCAN_URL).status_code == 403


def test_the_service_worker_is_served_with_the_pages_files(client):
    response = client.get(reverse("mediators:scan_service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = page_of(response)
    assert body.startswith("const PASSNUM_SCAN = ")
    assert '"page": "/site/scan/"' in body and "js/scan.js" in body and "qr-scanner-worker.min.js" in body
    assert 'addEventListener("fetch"' in body


# --- /p/<code>: the URL in a pass's QR code ---------------------------------------------------


def test_a_site_member_gets_the_scan_form_filled_in(site_client, booklet):
    code = passes_of(booklet)[0].code
    response = site_client.get(f"/p/{code}")
    assert response.status_code == 302
    assert response["Location"] == f"{SCAN_URL}?{urlencode({'code': code})}"
    page = page_of(site_client.get(response["Location"]))
    assert f'value="{code}"' in page and "Pass prêt à encaisser" in page


def test_anyone_else_sees_what_the_pass_is_and_where_to_use_it(client, booklet):
    pass_ = passes_of(booklet)[0]
    response = client.get(f"/p/{pass_.code}")
    assert response.status_code == 200
    page = page_of(response)
    assert f"Pass {codes.grouped(pass_.code)}" in page
    assert "Ce pass est utilisable." in page
    assert booklet.programme.name in page and "10 €" in page
    assert pass_.valid_until.strftime("%d/%m/%Y") in page
    assert reverse("mediators:finder") in page
    assert "aucune donnée personnelle" in page


def test_a_used_pass_says_so(client, booklet):
    place = redeeming_site()
    pass_ = passes_of(booklet)[0]
    from tests.mediators.factories import redeem_passes

    redeem_passes(place, [pass_])
    page = page_of(client.get(f"/p/{pass_.code}"))
    assert "Ce pass a déjà été utilisé." in page


@pytest.mark.parametrize(
    "garbage",
    ["x", "ABCD-EFGH-JKMN-P", "%00", "A" * 10_000, "<script>alert(1)</script>", "..", "é€", "a/b/c", "GIR000001/"],
)
def test_garbage_is_explained_never_an_error(client, garbage):
    response = client.get(f"/p/{garbage}")
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_the_qr_page_is_rate_limited(client, booklet, settings):
    code = passes_of(booklet)[0].code
    statuses = [client.get(f"/p/{code}").status_code for _ in range(25)]
    assert statuses[0] == 200 and statuses[-1] == 429
