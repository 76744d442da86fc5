import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clearing import services
from clearing.models import Statement, SubscriptionInvoice

pytestmark = pytest.mark.django_db


def test_demo_site_has_two_consecutive_closed_months_and_reruns_add_nothing():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    output = json.loads(out.getvalue())
    last = services.previous_month(timezone.localdate())
    statements = [Statement.objects.get(number=entry["number"]) for entry in output["statements"]]
    assert [s.month for s in statements] == [services.previous_month(last), last]
    for entry, statement in zip(output["statements"], statements, strict=True):
        assert entry["number"].startswith("REL-") and entry["site_email"] == "site@demo.passnum.fr"
        assert entry["total_cents"] == statement.total_cents > 0
        assert statement.adjustments.exists()  # each month carries its adjustment
    assert output["subscription_invoices"][0].startswith("ABO-")
    ledger = StringIO()
    call_command("check_ledger", stdout=ledger)  # exits non-zero on any gap
    assert "équilibrés" in ledger.getvalue()

    assert Statement.objects.filter(site=statements[0].site).count() == 2
    before = (Statement.objects.count(), SubscriptionInvoice.objects.count())
    call_command("demo", "--json", stdout=StringIO())
    assert (Statement.objects.count(), SubscriptionInvoice.objects.count()) == before
    assert before[1] == 1
