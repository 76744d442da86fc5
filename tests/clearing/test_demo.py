import json
from io import StringIO

import pytest
from django.core.management import call_command

from clearing.models import Statement, SubscriptionInvoice

pytestmark = pytest.mark.django_db


def test_demo_site_has_a_statement_and_a_subscription_invoice_and_reruns_add_nothing():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    output = json.loads(out.getvalue())
    (statement,) = output["statements"]
    assert statement["number"].startswith("REL-") and statement["site_email"] == "site@demo.passnum.fr"
    assert statement["total_cents"] == Statement.objects.get(number=statement["number"]).total_cents > 0
    assert output["subscription_invoices"][0].startswith("ABO-")
    call_command("demo", "--json", stdout=StringIO())
    assert (Statement.objects.count(), SubscriptionInvoice.objects.count()) == (1, 1)
