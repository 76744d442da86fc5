"""The money loop from end to end, through the services, with the clock moved by time-machine:
order → invoice → payment → print run → booklets to a prescriber → handed out → redeemed → undone
→ redeemed again → month closed → statement PDF → payment batch → SEPA file (XSD-valid) → sent →
paid → programme expired → credit note. The ledger balances after every step, and
``check_ledger`` exits 0 at the end."""

import datetime
import io
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from pypdf import PdfReader

from beneficiaries import services as beneficiary_services
from clearing import selectors as clearing_selectors
from clearing import services as clearing_services
from clearing.models import CreditNote, Statement, StatementStatus
from clearing.payees import services as payee_services
from clearing.payments import services as payment_services
from clearing.services import PARIS
from mediators.redemption import services as redemption_services
from passnum.passes import services as pass_services
from passnum.passes.models import Pass, PassState
from passnum.passes.validity import OFFLINE_UPLOAD_DAYS
from sponsors import services as sponsor_services
from sponsors.models import Order
from tests.beneficiaries.factories import BENEFICIARY
from tests.clearing.payments.factories import sepa_content, xsd_errors
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.mediators.factories import redeem_passes, redeeming_site
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

FACE = 1000  # cents, one pass


def at(year, month, day, hour=10):
    return datetime.datetime(year, month, day, hour, tzinfo=PARIS)


def balanced(programme, **expected):
    """The programme's ledger balances; ``expected`` figures (in cents) are checked too."""
    (line,) = clearing_selectors.ledger(programme=programme)
    assert line.is_balanced, line
    for column, cents in expected.items():
        assert getattr(line, column) == cents, (column, line)
    return line


def test_the_money_loop_balances_at_every_step(django_capture_on_commit_callbacks):
    operator = UserFactory(staff=True)
    with time_machine.travel(at(2026, 9, 1), tick=False) as clock:
        programme = ProgrammeFactory(
            valid_until=datetime.date(2026, 12, 31),
            departments=["33"],
            communes=["33063", "33522"],
            audiences=["seniors"],
        )
        order = sponsor_services.create_quote(programme, 1)
        assert clearing_selectors.ledger(programme=programme) == [] or balanced(programme, ordered=0)

        invoice = sponsor_services.confirm_order(order)  # invoiced: the booklet and its passes exist
        balanced(programme, ordered=10 * FACE, created=10 * FACE)

        sponsor_services.record_payment(invoice, paid_on=datetime.date(2026, 9, 1), reference="VIR-2026-09")
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        balanced(programme, ordered=10 * FACE, created=10 * FACE)

        run = pass_services.print_order_inline(order, actor=operator)
        assert run.done_booklets == 1
        balanced(programme, created=10 * FACE)

        prescriber = OrganisationFactory(prescriber=True)
        (booklet,) = pass_services.allocate_booklets(order, prescriber, count=1)
        counter = MembershipFactory(organisation=prescriber).user
        beneficiary_services.hand_over(prescriber, booklet.serial, dict(BENEFICIARY, commune="33522"), user=counter)
        balanced(programme, created=0, active=10 * FACE)

        clock.move_to(at(2026, 9, 15))
        place = redeeming_site()
        first_pass = booklet.passes.order_by("position").first()
        mistaken = redeem_passes(place, [first_pass])
        balanced(programme, active=9 * FACE, redeemed_unsettled=FACE)

        clock.move_to(at(2026, 9, 15, 11))
        redemption_services.undo_redemption(place.organisation, mistaken.pk, user=place.user)
        balanced(programme, active=10 * FACE, redeemed_unsettled=0)

        redemption = redeem_passes(place, [Pass.objects.get(pk=first_pass.pk)])
        balanced(programme, active=9 * FACE, redeemed_unsettled=FACE)

        clock.move_to(at(2026, 10, 1, 2))
        with django_capture_on_commit_callbacks(execute=True):
            (number,) = clearing_services.close_month(month="2026-09").numbers
        statement = Statement.objects.get(number=number)
        assert (statement.redemption_count, statement.total_cents) == (1, FACE)
        balanced(programme, redeemed_unsettled=0, settled=FACE, paid_to_sites=0)
        with statement.pdf.open("rb") as handle:
            text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
        assert number in text and "10,00" in text

        clock.move_to(at(2026, 10, 2))
        account = payee_services.set_payee_account(
            organisation=place.organisation,
            by=place.user,
            payee_kind="self",
            holder_name="Association Talence Numérique",
            iban="FR76 3000 6000 0112 3456 7890 189",
            bic="AGRIFRPPXXX",
        )
        payee_services.verify_payee_account(account=account, by=operator)
        result = payment_services.create_batch(by=operator)
        batch = result.batch
        assert result.held_back == [] and batch.total_cents == FACE
        content = sepa_content(batch)
        assert xsd_errors(content) == [] and number.encode() in content
        balanced(programme, settled=FACE, paid_to_sites=0)

        clock.move_to(at(2026, 10, 5))
        payment_services.mark_batch_sent(batch=batch, by=operator)
        balanced(programme, settled=FACE)
        clock.move_to(at(2026, 10, 7))
        payment_services.mark_batch_paid(batch=batch, by=operator)
        assert Statement.objects.get(pk=statement.pk).status == StatementStatus.PAID
        balanced(programme, settled=FACE, paid_to_sites=FACE)

        expires_on = Pass.objects.filter(programme=programme).values_list("expires_on", flat=True).first()
        clock.move_to(at(*(expires_on + timedelta(days=OFFLINE_UPLOAD_DAYS + 1)).timetuple()[:3], 3))
        with django_capture_on_commit_callbacks(execute=True):
            report = clearing_services.expire_passes()
        assert report.expired == {programme.pk: (9, 9 * FACE)}
        balanced(programme, ordered=10 * FACE, active=0, settled=FACE, expired=9 * FACE, paid_to_sites=FACE)
        note = CreditNote.objects.get(programme=programme)
        assert (note.expired_pass_count, note.amount_cents) == (9, 9 * FACE)
        assert set(Pass.objects.filter(programme=programme).values_list("state", flat=True)) == {
            PassState.REDEEMED,
            PassState.EXPIRED,
        }
        assert redemption.pk != mistaken.pk

    out = StringIO()
    call_command("check_ledger", stdout=out)  # raises (exit 1) on any gap
    assert programme.name in out.getvalue()
