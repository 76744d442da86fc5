"""The money rules under random sequences of use cases (Hypothesis stateful testing, real PostgreSQL).

A world of one paid programme (booklets at a prescriber) and two qualified sites (one service
paid by one pass, one by two) lives through random steps: hand-over of a booklet, redemption,
undo, a booklet declared lost, an adjustment, the clock moving on (time-machine), the nightly
expiry, the close of an ended month (the same month twice too) and the void of a statement.
Every step goes through the services; a refusal (``DomainError``) is a legitimate outcome and
leaves nothing behind. After each step:

- the ledger is balanced for every programme, in cents;
- the statement, credit-note and invoice numbers of each series and year are exactly 1..N, the
  counter's last number, with no duplicates; a number once given stays on the same document;
- every statement's total is what it carries, and a live redemption is settled exactly when a
  live line of a statement holds it.

Each example runs in a savepoint rolled back at its end, so examples do not see each other.
"""

import datetime
from collections import Counter

import factory.random
import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from clearing import services
from clearing.models import Adjustment, CreditNote, Statement, StatementLine, StatementStatus, SubscriptionInvoice
from clearing.selectors import ledger
from mediators.redemption.models import Redemption
from mediators.redemption.services import undo_redemption
from passnum.errors import DomainError
from passnum.numbering.models import DocumentCounter, Series
from passnum.numbering.services import sequence_of
from passnum.passes import services as pass_services
from passnum.passes.models import Booklet, PassState
from passnum.passes.validity import OFFLINE_UPLOAD_DAYS
from sponsors.models import Order, SponsorInvoice
from tests.beneficiaries.factories import booklets_in_stock
from tests.clearing.factories import paris
from tests.factories import OrganisationFactory, UserFactory
from tests.mediators.factories import redeem_passes, redeeming_site

START = paris(2031, 3, 24)
VALID_UNTIL = datetime.date(2031, 4, 30)  # no grace: the passes expire after the 8th of May
STEPS_BEFORE_EXPIRY = 12
BOOKLETS = 6
DOCUMENTS = {
    Series.REL: Statement,
    Series.AV: CreditNote,
    Series.ABO: SubscriptionInvoice,
    Series.FAC: SponsorInvoice,
    Series.CMD: Order,  # one series per sponsor (``DocumentCounter.organisation``)
}


class MoneyRules(RuleBasedStateMachine):
    outcomes = Counter()  # over every example: what the run exercised (see the test)

    def __init__(self):
        super().__init__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.numbers = {}  # (owner, number) → (model, pk): a number, once given, never moves
        self.steps = 0

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)
        self.traveller.stop()

    @initialize()
    def world(self):
        prescriber = OrganisationFactory(prescriber=True)
        self.booklets = booklets_in_stock(
            prescriber, BOOKLETS, departments=["33"], communes=[], valid_until=VALID_UNTIL,
            grace_months=0,
        )  # fmt: skip
        self.programme = self.booklets[0].programme
        self.places = [redeeming_site(passes_required=1), redeeming_site(passes_required=2)]
        self.operator = UserFactory(is_staff=True)
        # Every example starts with a booklet handed out and both kinds of redemption made, so
        # that its first close has money to settle whatever the random steps do next (the steps
        # alone may close empty months only, and the run would prove nothing about statements).
        first = self.booklets[0]
        self.attempt("hand over", lambda: pass_services.hand_out_booklet(first))
        for place in self.places:
            passes = list(first.passes.filter(state=PassState.ACTIVE).order_by("position"))
            needed = place.item.passes_required
            self.attempt(f"redeem {needed}", lambda place=place, passes=passes[:needed]: redeem_passes(place, passes))

    def attempt(self, name, action):
        """Runs one use case in a savepoint; a refusal is a legitimate outcome."""
        self.steps += 1
        try:
            with transaction.atomic():
                result = action()
        except DomainError:
            self.outcomes[f"{name} refused"] += 1
            return None
        self.outcomes[name] += 1
        return result

    def today(self):
        return datetime.datetime.now(tz=services.PARIS).date()

    # --- the steps ---------------------------------------------------------------------------

    def booklets_in(self, state, *, with_active_passes=False):
        booklets = Booklet.objects.filter(pk__in=[b.pk for b in self.booklets], state=state).order_by("pk")
        if with_active_passes:
            booklets = booklets.filter(passes__state=PassState.ACTIVE).distinct()
        return list(booklets)

    def has_allocated(self):
        return bool(self.booklets_in(Booklet.State.ALLOCATED))

    def has_handed_out(self):
        return bool(self.booklets_in(Booklet.State.HANDED_OUT))

    @precondition(has_allocated)
    @rule(choice=st.integers(0, 1000))
    def hand_over(self, choice):
        booklets = self.booklets_in(Booklet.State.ALLOCATED)
        booklet = booklets[choice % len(booklets)]
        self.attempt("hand over", lambda: pass_services.hand_out_booklet(booklet))

    @precondition(has_handed_out)
    @rule(choice=st.integers(0, 1000), places=st.lists(st.integers(0, 1), min_size=1, max_size=3))
    def redeem(self, choice, places):
        """One to three redemptions in a row, each at a service paid by one pass or by two."""
        for index in places:
            place = self.places[index]
            needed = place.item.passes_required
            booklets = self.booklets_in(Booklet.State.HANDED_OUT, with_active_passes=True)
            if not booklets:
                return
            booklet = booklets[choice % len(booklets)]
            passes = list(booklet.passes.filter(state=PassState.ACTIVE).order_by("position"))[:needed]
            self.attempt(f"redeem {needed}", lambda place=place, passes=passes: redeem_passes(place, passes))

    @rule(choice=st.integers(0, 1000))
    def undo(self, choice):
        live = list(Redemption.objects.filter(undone_at__isnull=True).order_by("redeemed_at", "pk"))
        if not live:
            return
        redemption = live[choice % len(live)]
        place = next(p for p in self.places if p.site.pk == redemption.site_id)
        self.attempt("undo", lambda: undo_redemption(place.organisation, redemption.pk, user=place.user))

    @precondition(has_handed_out)
    @rule(choice=st.integers(0, 1000))
    def declare_lost(self, choice):
        booklets = self.booklets_in(Booklet.State.HANDED_OUT)
        booklet = booklets[choice % len(booklets)]
        self.attempt("lost", lambda: pass_services.cancel_booklet(booklet, reason="déclaré perdu"))

    @rule(place=st.integers(0, 1), euros=st.integers(-30, 30).filter(bool))
    def adjust(self, place, euros):
        site = self.places[place].site
        self.attempt(
            "adjustment",
            lambda: services.add_adjustment(site=site, amount_cents=euros * 100, reason="Écart", by=self.operator),
        )

    @rule(step=st.sampled_from([datetime.timedelta(days=9), datetime.timedelta(days=1), datetime.timedelta(hours=2)]))
    def time_passes(self, step):
        self.clock.shift(step)

    @precondition(lambda self: self.steps >= STEPS_BEFORE_EXPIRY)
    @rule(days_after=st.integers(0, 3))
    def expire(self, days_after):
        """The clock jumps past the end of the upload window (if not there yet), then the nightly
        expiry runs."""
        first_day = pass_services.expiry_date(self.programme) + datetime.timedelta(days=OFFLINE_UPLOAD_DAYS + 1)
        target = paris(first_day.year, first_day.month, first_day.day) + datetime.timedelta(days=days_after)
        if datetime.datetime.now(tz=services.PARIS) < target:
            self.clock.move_to(target)
        report = self.attempt("expiry", lambda: services.expire_passes(today=self.today()))
        if report is not None:
            self.outcomes["credit notes issued"] += len(report.credit_notes)

    @rule(again=st.booleans())
    def close(self, again):
        """The close of the 1st: the clock jumps to 2 a.m. on the 1st of next month, and the month
        that just ended is closed; ``again`` closes the last ended month once more instead."""
        if not again:
            following = (self.today().replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            self.clock.move_to(paris(following.year, following.month, 1, hour=2))
        month = services.previous_month(self.today())
        lines_before = StatementLine.objects.count()
        result = self.attempt("close again" if again else "close", lambda: services.close_month(month=month))
        if result is not None and result.numbers:
            self.outcomes["statements issued"] += len(result.numbers)
            self.outcomes["redemptions settled"] += StatementLine.objects.count() - lines_before

    @rule(choice=st.integers(0, 1000))
    def void(self, choice):
        statements = list(Statement.objects.exclude(status=StatementStatus.VOIDED).order_by("pk"))
        if not statements:
            return
        statement = statements[choice % len(statements)]
        self.attempt(
            "void", lambda: services.void_statement(statement=statement, reason="Erreur de RIB", by=self.operator)
        )

    # --- after each step ---------------------------------------------------------------------

    @invariant()
    def ledger_is_balanced(self):
        for line in ledger():
            assert line.is_balanced, line

    @invariant()
    def numbers_are_gapless_and_never_reused(self):
        for counter in DocumentCounter.objects.all():
            model = DOCUMENTS[counter.series]
            documents = model.objects.filter(number__startswith=f"{counter.series}-{counter.year}-")
            if counter.organisation_id is not None:  # a sponsor's own series
                documents = documents.filter(sponsor_id=counter.organisation_id)
            rows = list(documents.values_list("number", "pk"))
            sequences = sorted(sequence_of(number) for number, _ in rows)
            assert sequences == list(range(1, counter.last_number + 1)), (counter.series, counter.year, sequences)
            for number, pk in rows:
                key = (counter.organisation_id, number)
                assert self.numbers.setdefault(key, (model, pk)) == (model, pk), number
        for (_owner, number), (model, pk) in self.numbers.items():
            assert model.objects.filter(pk=pk, number=number).exists(), number

    @invariant()
    def statements_carry_their_total(self):
        for statement in Statement.objects.all():
            lines = StatementLine.objects.filter(statement=statement)
            adjustments = Adjustment.objects.filter(statement=statement).aggregate(cents=Sum("amount_cents"))
            if statement.status != StatementStatus.VOIDED:
                assert lines.filter(live=False).count() == 0, statement.number
                assert (lines.aggregate(cents=Sum("amount_cents"))["cents"] or 0) == statement.redemptions_cents
                assert (adjustments["cents"] or 0) == statement.adjustments_cents
                assert statement.total_cents >= 0
            else:
                assert not lines.filter(live=True).exists() and adjustments["cents"] is None, statement.number
            assert statement.total_cents == (
                statement.redemptions_cents + statement.adjustments_cents - statement.subscription_netted_cents
            )

    @invariant()
    def settled_exactly_when_on_a_live_line(self):
        on_live_lines = set(StatementLine.objects.filter(live=True).values_list("redemption_id", flat=True))
        settled = set(Redemption.objects.filter(settled_at__isnull=False).values_list("pk", flat=True))
        assert settled == on_live_lines
        assert not Redemption.objects.filter(settled_at__isnull=False, undone_at__isnull=False).exists()


@pytest.mark.django_db
def test_money_rules_hold_after_every_step():
    # The same world whatever ran before: the factories' fake data drawn from a fixed seed (the
    # steps are derandomized; what they meet must not depend on the tests run before this one).
    factory.random.reseed_random("money-rules")
    MoneyRules.outcomes.clear()
    run_state_machine_as_test(
        MoneyRules,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # The sequences did reach the money: statements issued and voided, adjustments carried,
    # undos, and the two kinds of redemption.
    done = MoneyRules.outcomes
    print(dict(sorted(done.items())))
    steps = ("statements issued", "redemptions settled", "close again", "credit notes issued", "void", "adjustment")
    for step in (*steps, "undo", "redeem 1", "redeem 2", "hand over", "lost"):
        assert done[step] > 0, (step, done)
