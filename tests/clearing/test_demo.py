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
    assert len(output["statements"]) == 1 and output["statements"][0].startswith("REL-")
    assert output["subscription_invoices"][0].startswith("ABO-")
    call_command("demo", "--json", stdout=StringIO())
    assert (Statement.objects.count(), SubscriptionInvoice.objects.count()) == (1, 1)
