"""The ledger check: per programme, ordered = created + active + redeemed-unsettled +
settled + expired + cancelled, in cents; ``check_ledger`` exits non-zero on any difference."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from clearing import services
from clearing.selectors import ledger
from mediators.redemption.models import Redemption
from mediators.redemption.selectors import redeemed_value_by_programme
from tests.clearing.helpers import programme_in_every_state

pytestmark = pytest.mark.django_db


def test_every_cent_is_accounted_for_before_and_after_expiry():
    world = programme_in_every_state()
    Redemption.objects.filter(pk=Redemption.objects.order_by("redeemed_at").first().pk).update(
        settled_at=timezone.now()
    )
    (line,) = ledger(programme=world.programme)
    assert line.ordered == 40_000  # 4 booklets of 10 passes of 10 €, paid or only invoiced
    assert (line.created, line.active, line.redeemed_unsettled, line.settled, line.expired, line.cancelled) == (
        20_000,
        8_000,
        1_000,
        1_000,
        0,
        10_000,
    )
    assert line.is_balanced and line.paid_to_sites == 0

    services.expire_passes(today=world.expiry_day)
    (line,) = ledger(programme=world.programme)
    assert (line.created, line.active, line.expired) == (10_000, 0, 18_000)
    assert line.difference == 0 and line.is_balanced


def test_the_redemption_sums_come_from_live_redemptions():
    world = programme_in_every_state()
    assert redeemed_value_by_programme(programme=world.programme) == {
        world.programme.pk: {"redeemed_unsettled": (2, 2000), "settled": (0, 0)}
    }


def test_check_ledger_is_clean_on_a_consistent_database():
    programme_in_every_state()
    programme_in_every_state(redeem=0)
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "2 programme(s) équilibrés" in out.getvalue()


def test_check_ledger_fails_when_a_pass_row_is_tampered_with():
    world = programme_in_every_state()
    other = programme_in_every_state()
    victim = world.booklet.passes.filter(state="active").first()
    with connection.cursor() as cursor:  # a pass marked redeemed behind the services' back
        cursor.execute("UPDATE passes_pass SET state = 'redeemed' WHERE id = %s", [victim.pk])
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger", stdout=out)
    assert "1 programme(s) sur 2 ne sont pas équilibrés" in str(failed.value)
    assert "ÉCART" in out.getvalue()
    (line,) = ledger(programme=world.programme)
    assert line.difference == 1000 and line.redeemed_difference == 1000
    assert ledger(programme=other.programme)[0].is_balanced


def test_check_ledger_exits_with_status_1():
    """Through the real command line, as the operator's monitoring would run it."""
    world = programme_in_every_state()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE passes_pass SET face_value_cents = 1 WHERE booklet_id = %s", [world.in_stock.pk])
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger", "--programme", str(world.programme.pk), stdout=StringIO())
    assert failed.value.returncode == 1


def test_the_operator_sees_the_ledger_in_the_admin(client, operator_user):
    world = programme_in_every_state()
    client.force_login(operator_user)
    page = client.get(reverse("admin:clearing_ledger"))
    assert page.status_code == 200
    body = page.content.decode()
    assert world.programme.name in body and "Tous les programmes sont équilibrés" in body
