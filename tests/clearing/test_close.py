"""The monthly close: one statement per site, lines by service and place, exact totals; rerun,
month not ended, crash half-way, void, adjustments."""

import datetime

import pytest

from clearing import selectors, services
from clearing.models import Adjustment, Statement, StatementLine, StatementStatus, StatementStatusChange
from mediators.redemption.models import Redemption
from passnum.audit.models import AuditLog
from tests.clearing.factories import paris, redeeming_site, redemptions_in
from tests.mediators.factories import CatalogueItemFactory, PointOfPresenceFactory, aptic_service

pytestmark = pytest.mark.django_db

AFTER_OCTOBER = paris(2026, 11, 1, 2)


def test_close_issues_one_statement_per_site_with_grouped_lines_and_exact_totals():
    place = redeeming_site()
    other_point = PointOfPresenceFactory(site=place.site, name="Annexe")
    second_service = CatalogueItemFactory(site=place.site, service=aptic_service(2))
    october = redemptions_in(place, [paris(2026, 10, 1, 0), paris(2026, 10, 31, 23)], count=2)
    # Another place and another service of the same site.
    from types import SimpleNamespace

    annexe = SimpleNamespace(**{**vars(place), "point": other_point, "item": second_service})
    annexe_redemptions = redemptions_in(annexe, paris(2026, 10, 10), count=3)
    undone, november, september_late = redemptions_in(
        place, [paris(2026, 10, 12), paris(2026, 11, 1, 0), paris(2026, 9, 30, 23)], count=3
    )
    Redemption.objects.filter(pk=undone.pk).update(undone_at=paris(2026, 10, 12, 13))
    other = redeeming_site()
    redemptions_in(other, paris(2026, 10, 5))

    result = services.close_month(month="2026-10", now=AFTER_OCTOBER)

    assert len(result.numbers) == 2
    statement = Statement.objects.get(site=place.site)
    assert statement.number in result.numbers and statement.number.startswith("REL-2026-")
    assert statement.month == datetime.date(2026, 10, 1)
    paid = {r.pk for r in october + annexe_redemptions} | {september_late.pk}  # never closed before
    assert set(StatementLine.objects.filter(statement=statement).values_list("redemption_id", flat=True)) == paid
    face = october[0].amount_cents
    assert statement.redemption_count == 6
    assert statement.redemptions_cents == statement.total_cents == 6 * face
    groups = {(g["point_of_presence"], g["service_code"]): g for g in selectors.statement_groups(statement=statement)}
    assert groups[("Annexe", 2)]["redemptions"] == 3 and groups[("Annexe", 2)]["amount_cents"] == 3 * face
    assert groups[(place.point.name, 1)]["redemptions"] == 3
    assert sum(g["amount_cents"] for g in groups.values()) == statement.total_cents
    settled = set(Redemption.objects.filter(settled_at=AFTER_OCTOBER).values_list("pk", flat=True))
    assert paid <= settled and undone.pk not in settled and november.pk not in settled
    assert StatementStatusChange.objects.get(statement=statement).to_status == StatementStatus.ISSUED
    assert AuditLog.objects.filter(action="clearing.statement.issued", target_id=str(statement.pk)).exists()


def test_rerun_is_a_no_op_that_says_so():
    place = redeeming_site()
    redemptions_in(place, paris(2026, 10, 5), count=2)
    first = services.close_month(month="2026-10", now=AFTER_OCTOBER)
    second = services.close_month(month=datetime.date(2026, 10, 1), now=AFTER_OCTOBER + datetime.timedelta(hours=1))
    assert len(first.numbers) == 1 and second.numbers == []
    assert "déjà clos" in second.message
    assert Statement.objects.count() == 1 and StatementLine.objects.count() == 2


def test_a_month_not_ended_is_refused():
    with pytest.raises(services.ClearingError) as refused:
        services.close_month(month="2026-10", now=paris(2026, 10, 31, 23))
    assert refused.value.code == "month_not_ended"
    assert not Statement.objects.exists()


def test_an_invalid_month_is_refused():
    with pytest.raises(services.ClearingError) as refused:
        services.close_month(month="octobre", now=AFTER_OCTOBER)
    assert refused.value.code == "month_invalid"


def test_a_close_killed_half_way_then_rerun_gives_the_statements_of_a_clean_run(monkeypatch):
    places = [redeeming_site() for _ in range(3)]
    for index, place in enumerate(places):
        redemptions_in(place, paris(2026, 10, 5), count=index + 1)
    real_close = services.close_site_month
    calls = []

    def crash_after_first_site(**kwargs):
        if calls:
            raise RuntimeError("worker killed")
        calls.append(kwargs["site"].pk)
        return real_close(**kwargs)

    monkeypatch.setattr(services, "close_site_month", crash_after_first_site)
    with pytest.raises(RuntimeError):
        services.close_month(month="2026-10", now=AFTER_OCTOBER)
    assert Statement.objects.count() == 1
    monkeypatch.setattr(services, "close_site_month", real_close)

    result = services.close_month(month="2026-10", now=AFTER_OCTOBER)

    assert len(result.numbers) == 2
    by_site = {s.site_id: s for s in Statement.objects.all()}
    assert [by_site[p.site.pk].redemption_count for p in places] == [1, 2, 3]
    assert StatementLine.objects.count() == 6 == Redemption.objects.filter(settled_at__isnull=False).count()
    numbers = sorted(s.number for s in by_site.values())
    assert numbers == [f"REL-2026-{n:06d}" for n in (1, 2, 3)]  # gapless across the crash


def test_void_unsettles_keeps_the_number_and_the_next_close_pays_again(operator_user):
    place = redeeming_site()
    redemptions = redemptions_in(place, paris(2026, 10, 5), count=2)
    statement = Statement.objects.get(number=services.close_month(month="2026-10", now=AFTER_OCTOBER).numbers[0])

    with pytest.raises(services.ClearingError) as refused:
        services.void_statement(statement=statement, reason=" ", by=operator_user)
    assert refused.value.code == "reason_required"
    services.void_statement(statement=statement, reason="IBAN erroné", by=operator_user)

    statement.refresh_from_db()
    assert statement.status == StatementStatus.VOIDED and statement.number.startswith("REL-2026-")
    assert list(statement.status_changes.values_list("to_status", flat=True)) == ["issued", "voided"]
    assert not Redemption.objects.filter(pk__in=[r.pk for r in redemptions], settled_at__isnull=False).exists()
    assert StatementLine.objects.filter(statement=statement, live=False).count() == 2
    with pytest.raises(services.ClearingError) as again:
        services.void_statement(statement=statement, reason="encore", by=operator_user)
    assert again.value.code == "statement_status_refused"

    result = services.close_month(month="2026-11", now=paris(2026, 12, 1, 2))

    replacement = Statement.objects.get(number=result.numbers[0])
    assert replacement.month == datetime.date(2026, 11, 1) and replacement.redemption_count == 2
    assert replacement.number != statement.number
    assert StatementLine.objects.filter(live=True, statement=replacement).count() == 2


def test_an_adjustment_is_carried_once(operator_user):
    place = redeeming_site()
    (redemption,) = redemptions_in(place, paris(2026, 10, 5))
    adjustment = services.add_adjustment(
        site=place.site, amount_cents=-300, reason="Trop payé en septembre", by=operator_user
    )
    assert AuditLog.objects.filter(action="clearing.adjustment.added", target_id=str(adjustment.pk)).exists()

    first = Statement.objects.get(number=services.close_month(month="2026-10", now=AFTER_OCTOBER).numbers[0])
    assert first.adjustments_cents == -300
    assert first.total_cents == redemption.amount_cents - 300
    adjustment.refresh_from_db()
    assert adjustment.statement == first

    second = services.close_month(month="2026-11", now=paris(2026, 12, 1, 2))
    assert second.numbers == []
    assert Adjustment.objects.filter(statement__isnull=True).count() == 0


def test_an_adjustment_alone_makes_a_statement(operator_user):
    place = redeeming_site()
    services.add_adjustment(site=place.site, amount_cents=1500, reason="Encaissement oublié", by=operator_user)
    result = services.close_month(month="2026-10", now=AFTER_OCTOBER)
    statement = Statement.objects.get(number=result.numbers[0])
    assert (statement.redemption_count, statement.adjustments_cents, statement.total_cents) == (0, 1500, 1500)


def test_an_adjustment_that_would_make_the_next_statement_negative_is_refused(operator_user):
    place = redeeming_site()
    (redemption,) = redemptions_in(place, paris(2026, 10, 5))
    with pytest.raises(services.ClearingError) as refused:
        services.add_adjustment(
            site=place.site, amount_cents=-(redemption.amount_cents + 1), reason="Reprise", by=operator_user
        )
    assert refused.value.code == "adjustment_makes_statement_negative"
    assert not Adjustment.objects.exists()
    for amount in (0, "12"):
        with pytest.raises(services.ClearingError) as invalid:
            services.add_adjustment(site=place.site, amount_cents=amount, reason="x", by=operator_user)
        assert invalid.value.code == "adjustment_amount_invalid"


def test_undo_is_refused_once_settled():
    from django.utils import timezone

    from mediators.redemption import services as mediators_services
    from mediators.redemption.services import RedemptionRefused

    place = redeeming_site()
    (redemption,) = redemptions_in(place, timezone.now() - datetime.timedelta(hours=1))
    month = timezone.localdate().replace(day=1)
    services.close_month(month=month, now=timezone.now() + datetime.timedelta(days=40))
    with pytest.raises(RedemptionRefused) as refused:
        mediators_services.undo_redemption(place.organisation, redemption.pk, user=place.user)
    assert refused.value.code == "redemption_settled"
