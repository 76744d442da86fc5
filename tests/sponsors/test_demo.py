import json
from io import StringIO

import pytest
from django.core.management import call_command

from passnum.passes.models import Booklet, Pass, PrintFile, PrintRun, StockMovement
from sponsors.models import Order, Programme, SponsorInvoice

pytestmark = pytest.mark.django_db


def counts():
    models = [Programme, Order, SponsorInvoice, Booklet, Pass, PrintRun, PrintFile, StockMovement]
    return [model.objects.count() for model in models]


def test_demo_has_a_paid_printed_order_and_allocated_booklets():
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    output = json.loads(out.getvalue())
    assert output["programmes"][0]["prefix"] == "GIR"
    assert output["programmes"][0]["orders"][0]["status"] == "paid"
    assert output["booklets_allocated"][0] == {"serial": "GIR000001", "prescriber": "CCAS de Bordeaux"}
    run = PrintRun.objects.get(kind=PrintRun.Kind.FULL)
    assert run.status == PrintRun.Status.DONE and run.done_booklets == 20
    before = counts()
    call_command("demo", "--json", stdout=StringIO())
    assert counts() == before
