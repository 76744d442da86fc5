"""Issued statements, their lines, the status log and adjustments are protected by the database
itself: these tests go around the services and meet PostgreSQL's own refusal."""

import pytest
from django.db import ProgrammingError, transaction

from clearing import services
from clearing.models import Adjustment, Statement, StatementLine, StatementStatusChange
from tests.clearing.factories import paris, redeeming_site, redemptions_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement():
    place = redeeming_site()
    redemptions_in(place, paris(2026, 10, 5), count=2)
    return Statement.objects.get(number=services.close_month(month="2026-10", now=paris(2026, 11, 1, 2)).numbers[0])


def refused_by_database(action):
    with pytest.raises(ProgrammingError) as refused, transaction.atomic():
        action()
    assert "pgtrigger: Cannot" in str(refused.value)


@pytest.mark.parametrize(
    "change",
    [{"total_cents": 1, "redemptions_cents": 1}, {"number": "REL-2026-999999"}, {"month": "2026-09-01"}],
)
def test_update_of_an_issued_statement_is_refused_by_the_database(statement, change):
    refused_by_database(lambda: Statement.objects.filter(pk=statement.pk).update(**change))
    statement.refresh_from_db()
    assert statement.redemption_count == 2


def test_delete_of_a_statement_and_its_lines_is_refused_by_the_database(statement):
    refused_by_database(lambda: StatementLine.objects.filter(statement=statement)._raw_delete("default"))
    refused_by_database(lambda: Statement.objects.filter(pk=statement.pk)._raw_delete("default"))
    assert StatementLine.objects.filter(statement=statement).count() == 2


def test_a_line_only_leaves_its_statement(statement):
    line = StatementLine.objects.filter(statement=statement).first()
    refused_by_database(lambda: StatementLine.objects.filter(pk=line.pk).update(amount_cents=1))
    StatementLine.objects.filter(pk=line.pk).update(live=False)  # what a void does
    refused_by_database(lambda: StatementLine.objects.filter(pk=line.pk).update(live=True))


def test_only_the_pdf_and_the_status_of_a_statement_may_change(statement):
    Statement.objects.filter(pk=statement.pk).update(pdf="clearing/releves/x.pdf", status="in_batch")
    statement.refresh_from_db()
    assert (statement.pdf.name, statement.status) == ("clearing/releves/x.pdf", "in_batch")


def test_the_status_log_is_append_only(statement):
    refused_by_database(lambda: StatementStatusChange.objects.filter(statement=statement).update(reason="x"))
    refused_by_database(lambda: StatementStatusChange.objects.filter(statement=statement)._raw_delete("default"))


def test_an_adjustment_is_never_edited_nor_deleted(operator_user):
    place = redeeming_site()
    adjustment = services.add_adjustment(site=place.site, amount_cents=500, reason="Oubli", by=operator_user)
    refused_by_database(lambda: Adjustment.objects.filter(pk=adjustment.pk).update(amount_cents=900))
    refused_by_database(lambda: Adjustment.objects.filter(pk=adjustment.pk)._raw_delete("default"))
    adjustment.refresh_from_db()
    assert adjustment.amount_cents == 500
