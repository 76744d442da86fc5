"""What a site sees of the transfers on /site/releves/: the status of each statement and the
bank's reason for a rejected transfer; another organisation's statement stays out of reach (404)."""

import pytest

from clearing.payments import services
from tests.clearing.payments.factories import statement_to_pay
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_site_sees_its_rejected_transfer_and_nothing_of_another(client):
    operator = UserFactory(staff=True)
    mine, theirs = statement_to_pay(), statement_to_pay()
    batch = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=batch, by=operator)
    services.record_rejection(line=batch.lines.get(statement=mine), reason_code="AC04", by=operator)
    services.record_rejection(line=batch.lines.get(statement=theirs), reason_code="MD07", by=operator)

    client.force_login(MembershipFactory(organisation=mine.site.organisation, role="admin").user)
    page = client.get("/site/releves/").content.decode()
    assert mine.number in page and "À payer de nouveau" in page
    assert "virement rejeté par la banque : Compte clôturé" in page
    assert theirs.number not in page and "décédé" not in page
    detail = client.get(f"/site/releves/{mine.number}/").content.decode()
    assert "Virement rejeté par la banque (AC04) : Compte clôturé" in detail
    assert client.get(f"/site/releves/{theirs.number}/").status_code == 404


def test_a_paid_statement_shows_paid_without_the_old_rejection(client):
    operator = UserFactory(staff=True)
    statement = statement_to_pay()
    first = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=first, by=operator)
    services.record_rejection(line=first.lines.get(), reason_code="AC01", by=operator)
    second = services.create_batch(by=operator).batch
    services.mark_batch_sent(batch=second, by=operator)
    services.mark_batch_paid(batch=second, by=operator)

    client.force_login(MembershipFactory(organisation=statement.site.organisation).user)
    row = client.get("/site/releves/").content.decode().split(statement.number, 2)[-1].split("</tr>")[0]
    assert "Payé" in row and "rejeté" not in row
