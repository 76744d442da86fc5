import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from passnum.accounts.models import User
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.models import Membership, Organisation

pytestmark = pytest.mark.django_db


def run_demo(*args):
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def test_demo_creates_every_kind_and_role_and_is_idempotent():
    output = json.loads(run_demo("--json"))
    kinds = {account["kind"] for account in output["accounts"]}
    roles = {account["role"] for account in output["accounts"]}
    assert kinds == set(OrganisationKind.values)
    assert roles == set(Role.values)
    counts = (User.objects.count(), Organisation.objects.count(), Membership.objects.count())
    again = json.loads(run_demo("--json"))
    assert (User.objects.count(), Organisation.objects.count(), Membership.objects.count()) == counts
    assert [a["email"] for a in again["accounts"]] == [a["email"] for a in output["accounts"]]


def test_demo_passwords_are_not_known_on_a_real_database():
    # The test database is PostgreSQL: no fixed demo password there.
    output = json.loads(run_demo("--json"))
    assert all(account["password"] != "passnum-demo-2026" for account in output["accounts"])
    operator = next(a for a in output["accounts"] if a["kind"] == "operator")
    assert operator["totp_secret"]
    user = User.objects.get(email=operator["email"])
    assert user.check_password(operator["password"])


def test_demo_has_a_month_of_redemptions_and_passes_the_api_redeems_as_they_are():
    from rest_framework.test import APIClient

    from mediators.models import Redemption

    output = json.loads(run_demo("--json"))
    redemptions = Redemption.objects.filter(site__organisation__name__icontains="Talence")
    assert redemptions.count() == 24
    days = {r.redeemed_at.date() for r in redemptions}
    assert len(days) > 15
    from mediators.models import RefusedScan

    refused = RefusedScan.objects.filter(organisation__name__icontains="Talence")
    assert set(refused.values_list("reason", flat=True)) == {"code_mistyped", "pass_already_redeemed"}
    json.loads(run_demo("--json"))
    assert redemptions.count() == 24 and refused.count() == 2  # idempotent
    passes = output["redeemable_passes"]
    assert len(passes) >= 5
    first = passes[0]
    client = APIClient()
    client.force_login(User.objects.get(email=first["site_email"]))
    response = client.post(
        "/api/v1/redemptions",
        {"codes": [first["code"]], "service": first["service"], "point_of_presence": first["point_of_presence"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="demo-1",
    )
    assert response.status_code == 201, response.json()


def test_the_printed_demo_tells_what_to_try_and_where_while_json_stays_json():
    data = json.loads(run_demo("--json"))  # JSON only: the whole output parses
    text = run_demo("--base-url", "http://127.0.0.1:8123")
    from passnum.passes.codes import grouped

    for account in data["accounts"]:
        assert account["email"] in text
    serial = data["booklets_in_stock"][-1]["serial"]
    code = data["redeemable_passes"][-1]["code"]
    assert f"Carnet en stock au guichet : {serial}" in text
    assert f"http://127.0.0.1:8123/counter/remettre/?serial={serial}" in text
    assert f"Pass à encaisser : {grouped(code)}" in text
    assert f"http://127.0.0.1:8123/p/{code}" in text
    # The pages of each role, one account after the other.
    pages = text.split("Pages à ouvrir, par compte :", 1)[1]
    expected = {
        "operateur@": "/admin/",
        "commanditaire@": "/sponsor/",
        "finances@": "/sponsor/",
        "cofinanceur@": "/financeur/",
        "prescripteur@": "/counter/",
        "guichet@": "/counter/",
        "site@": "/site/scan/",
        "mediateur@": "/site/",
        "instructeur@": "/subventions/",
        "entreprise@": "/subventions/",
    }
    blocks = dict(re.findall(r"^  (\S+@\S+) :\n((?:      .*\n)+)", pages, flags=re.MULTILINE))
    assert {email.split("@")[0] + "@" for email in blocks} == set(expected)
    for email, block in blocks.items():
        assert f"http://127.0.0.1:8123{expected[email.split('@')[0] + '@']}" in block, (email, block)
    assert "http://127.0.0.1:8123/trouver/" in pages and "http://127.0.0.1:8123/verifier/" in pages

    # What it names is true: the booklet is in stock, the pass can be redeemed.
    from passnum.passes.models import Booklet, Pass

    assert Booklet.objects.get(serial=serial).state == Booklet.State.ALLOCATED
    assert Pass.objects.get(code=code).state == "active"
