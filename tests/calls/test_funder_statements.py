"""What a funder owes: its share of the value redeemed and settled by the sites' clearing
statements, month by month, and its quarterly statement (numbered, PDF, immutable)."""

import datetime

import pytest
from django.db import ProgrammingError, transaction

from clearing import selectors as clearing_selectors
from clearing import services as clearing_services
from passnum.errors import DomainError
from passnum.refusals import Refusal
from sponsors.calls import selectors, services
from sponsors.calls.models import FunderStatement, FunderStatementLine
from sponsors.models import CoFunder
from tests.clearing.factories import paris, redeemable_booklet, redeeming_site, redemptions_in
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

AFTER_Q3 = datetime.date(2026, 10, 5)


@pytest.fixture
def funded():
    """A programme of 10,01 € passes co-funded at 50 % by a funder: July, one redemption settled
    by July's close; September, two settled by September's close; October, one settled by
    October's (next quarter); one more in September never closed is not counted."""
    funder = OrganisationFactory(funder=True)
    place = redeeming_site()
    booklet = redeemable_booklet(face_value_cents=1001)
    programme = booklet.programme
    CoFunder.objects.create(programme=programme, name=funder.name, organisation=funder, share_bp=5000)
    other = redeemable_booklet()  # a programme the funder does not co-fund
    redemptions_in(place, paris(2026, 7, 10), booklet=booklet)
    redemptions_in(place, paris(2026, 7, 11), booklet=other)
    clearing_services.close_month(month="2026-07", now=paris(2026, 8, 1, 2))
    redemptions_in(place, [paris(2026, 9, 1), paris(2026, 9, 30, 23)], count=2, booklet=booklet)
    clearing_services.close_month(month="2026-09", now=paris(2026, 10, 1, 2))
    redemptions_in(place, paris(2026, 10, 3), booklet=booklet)
    clearing_services.close_month(month="2026-10", now=paris(2026, 11, 1, 2))
    return funder, programme


def test_settled_value_by_programme_and_month_reads_live_lines(funded):
    funder, programme = funded
    settled = clearing_selectors.settled_value_by_programme_and_month(programme_ids=[programme.pk])
    assert settled == {
        (programme.pk, datetime.date(2026, 7, 1)): 1001,
        (programme.pk, datetime.date(2026, 9, 1)): 2002,
        (programme.pk, datetime.date(2026, 10, 1)): 1001,
    }
    assert clearing_selectors.settled_value_by_programme_and_month(
        programme_ids=[programme.pk], first_month=datetime.date(2026, 9, 1), last_month=datetime.date(2026, 9, 1)
    ) == {(programme.pk, datetime.date(2026, 9, 1)): 2002}


def test_amount_due_month_by_month_rounds_half_up_to_the_cent(funded):
    funder, programme = funded
    lines = selectors.amounts_due(funder=funder)
    # 1 001 × 50 % = 500,5 → 501 (half up); 2 002 × 50 % = 1 001.
    assert [(line["month"], line["settled_cents"], line["amount_cents"]) for line in lines] == [
        (datetime.date(2026, 7, 1), 1001, 501),
        (datetime.date(2026, 9, 1), 2002, 1001),
        (datetime.date(2026, 10, 1), 1001, 501),
    ]
    assert selectors.funder_overview(funder=funder)["total_cents"] == 2003


def test_quarterly_statement_is_correct_to_the_cent_numbered_and_has_its_pdf(funded):
    funder, programme = funded
    statement = services.issue_funder_statement(funder=funder, year=2026, quarter=3, today=AFTER_Q3)
    assert statement.number == f"COF-{AFTER_Q3.year}-000001"
    assert (statement.settled_cents, statement.amount_cents) == (3003, 1502)
    lines = list(statement.lines.order_by("month"))
    assert [(line.month, line.share_bp, line.settled_cents, line.amount_cents) for line in lines] == [
        (datetime.date(2026, 7, 1), 5000, 1001, 501),
        (datetime.date(2026, 9, 1), 5000, 2002, 1001),
    ]
    assert lines[0].programme_name == programme.name
    with statement.pdf.open("rb") as pdf:
        content = pdf.read()
    assert content.startswith(b"%PDF") and len(content) > 1000
    second = services.issue_funder_statement(
        funder=OrganisationFactory(funder=True), year=2026, quarter=3, today=AFTER_Q3
    )
    assert second.number == f"COF-{AFTER_Q3.year}-000002" and second.amount_cents == 0


def test_a_quarter_is_issued_once_and_only_once_ended(funded):
    funder, _ = funded
    with pytest.raises(DomainError) as error:
        services.issue_funder_statement(funder=funder, year=2026, quarter=3, today=datetime.date(2026, 9, 30))
    assert error.value.code == Refusal.QUARTER_NOT_ENDED and "01/10/2026" in error.value.message
    services.issue_funder_statement(funder=funder, year=2026, quarter=3, today=datetime.date(2026, 10, 1))
    with pytest.raises(DomainError) as error:
        services.issue_funder_statement(funder=funder, year=2026, quarter=3, today=AFTER_Q3)
    assert error.value.code == Refusal.FUNDER_STATEMENT_EXISTS
    assert FunderStatement.objects.count() == 1


def test_the_periodic_task_issues_the_last_quarter_for_each_funder_once(funded):
    funder, _ = funded
    issued = services.issue_previous_quarter_statements(today=AFTER_Q3)
    assert [(s.funder, s.year, s.quarter, s.amount_cents) for s in issued] == [(funder, 2026, 3, 1502)]
    assert services.issue_previous_quarter_statements(today=AFTER_Q3) == []


def refused_by_database(action):
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        action()
    assert "pgtrigger: Cannot" in str(refused.value)


def test_an_issued_statement_and_its_lines_are_immutable_in_the_database(funded):
    funder, _ = funded
    statement = services.issue_funder_statement(funder=funder, year=2026, quarter=3, today=AFTER_Q3)
    refused_by_database(lambda: FunderStatement.objects.filter(pk=statement.pk).update(amount_cents=1))
    refused_by_database(lambda: FunderStatementLine.objects.filter(statement=statement).update(amount_cents=1))
    refused_by_database(lambda: FunderStatementLine.objects.filter(statement=statement)._raw_delete("default"))
    refused_by_database(lambda: FunderStatement.objects.filter(pk=statement.pk)._raw_delete("default"))
    statement.refresh_from_db()
    assert statement.amount_cents == 1502 and statement.lines.count() == 2
