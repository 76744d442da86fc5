import json
from io import StringIO

import pytest
from django.core.management import call_command

from beneficiaries.models import Beneficiary, HandOver
from passnum.passes.models import Booklet, Pass, PassJournal

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Beneficiary, HandOver, Booklet, Pass, PassJournal)]


def test_demo_hands_booklets_over_and_lists_stock(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    output = json.loads(out.getvalue())
    stock = output["booklets_in_stock"]
    assert stock and all(item["prescriber_email"] == "prescripteur@demo.passnum.fr" for item in stock)
    assert Booklet.objects.get(serial=stock[0]["serial"]).state == "allocated"
    # The counter's demo (the year of use of passnum/demo_year.py has its own programme).
    assert HandOver.objects.filter(booklet__programme__prefix="GIRB").count() == 36
    assert len({b.created_by_id for b in Beneficiary.objects.filter(programme__prefix="GIRB")}) == 2
    assert set(Beneficiary.objects.values_list("age_band", flat=True)) == {"16-25", "26-44", "45-59", "60-74", "75+"}
    before = counts()
    call_command("demo", "--json", stdout=StringIO())
    assert counts() == before
