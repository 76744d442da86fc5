"""Calls for projects: each rule of a purchase plan at its boundary, the funder's decisions, the
co-funding agreement on a stable co-funder row whose share the sponsor cannot change."""

import datetime

import pytest
from django.utils import timezone

from clearing.services import PARIS
from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from passnum.refusals import Refusal
from sponsors import services as sponsor_services
from sponsors.calls import services
from sponsors.calls.models import Agreement, Application, Call
from sponsors.models import CoFunder
from tests.calls.factories import ApplicationFactory, CallFactory
from tests.factories import OrganisationFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

BOOKLET_CENTS = 10 * 1000  # a booklet of 10 passes of 10 €


def paris(day, hour=12, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def call():
    return CallFactory(priority_audiences=["job_seekers", "youth"], priority_min_bp=5000)


@pytest.fixture
def programme():
    return ProgrammeFactory()


def apply(call, programme, *, booklets=1000, share=5000, audiences=None, now=None):
    return services.save_application(
        sponsor=programme.sponsor,
        call=call,
        programme=programme,
        booklet_count=booklets,
        share_bp=share,
        audiences=audiences if audiences is not None else {"job_seekers": 3000, "youth": 2000, "seniors": 5000},
        now=now,
    )


def refused(code, action):
    with pytest.raises(DomainError) as error:
        action()
    assert error.value.code == code, error.value.message
    return error.value


def test_the_default_rules_are_the_2020_state_call():
    call = services.create_call(
        funder=OrganisationFactory(funder=True),
        data={
            "title": "Appel 2020",
            "deadline": timezone.localdate(),
            "max_share_bp": 5000,
            "min_purchase_cents": 2_000_000,
            "max_purchase_cents": 300_000_000,
        },
    )
    assert (call.max_share_bp, call.min_purchase_cents, call.max_purchase_cents) == (5000, 2_000_000, 300_000_000)
    assert call.status == Call.Status.DRAFT
    assert Call._meta.get_field("max_share_bp").default == 5000
    assert Call._meta.get_field("min_purchase_cents").default == 20_000_00
    assert Call._meta.get_field("max_purchase_cents").default == 3_000_000_00


def test_only_a_funder_publishes_a_call():
    refused(
        Refusal.CALL_INVALID,
        lambda: services.create_call(
            funder=OrganisationFactory(sponsor=True), data={"title": "x", "deadline": timezone.localdate()}
        ),
    )


def test_call_minimum_above_its_cap_is_refused():
    error = refused(
        Refusal.CALL_INVALID,
        lambda: services.create_call(
            funder=OrganisationFactory(funder=True),
            data={
                "title": "x",
                "deadline": timezone.localdate(),
                "max_share_bp": 5000,
                "min_purchase_cents": 500,
                "max_purchase_cents": 499,
            },
        ),
    )
    assert error.field == "max_purchase_cents"


# --- the amount: minimum and cap --------------------------------------------------------------


def test_purchase_of_exactly_the_minimum_is_accepted_and_one_cent_below_refused(call, programme):
    services.check_purchase(call=call, amount_cents=call.min_purchase_cents)
    error = refused(
        Refusal.PURCHASE_BELOW_MINIMUM,
        lambda: services.check_purchase(call=call, amount_cents=call.min_purchase_cents - 1),
    )
    assert "19 999,99 €" in error.message.replace("\u202f", " ") and "20 000,00 €" in error.message.replace(
        "\u202f", " "
    )
    # Through the application: 200 booklets of 100 € are exactly 20 000 €, 199 are below.
    assert apply(call, programme, booklets=200).amount_cents == 20_000_00
    refused(
        Refusal.PURCHASE_BELOW_MINIMUM, lambda: apply(call, ProgrammeFactory(sponsor=programme.sponsor), booklets=199)
    )


def test_purchase_of_exactly_the_cap_is_accepted_and_one_cent_above_refused(call, programme):
    services.check_purchase(call=call, amount_cents=call.max_purchase_cents)
    refused(
        Refusal.PURCHASE_OVER_CAP, lambda: services.check_purchase(call=call, amount_cents=call.max_purchase_cents + 1)
    )
    assert apply(call, programme, booklets=30_000).amount_cents == 3_000_000_00
    refused(
        Refusal.PURCHASE_OVER_CAP, lambda: apply(call, ProgrammeFactory(sponsor=programme.sponsor), booklets=30_001)
    )


def test_amount_comes_from_the_programme_booklet_value(call):
    programme = ProgrammeFactory(passes_per_booklet=5, face_value_cents=1500)
    assert apply(call, programme, booklets=300).amount_cents == 300 * 5 * 1500


# --- the share ----------------------------------------------------------------------------------


def test_share_equal_to_the_cap_is_accepted_and_one_hundredth_of_a_percent_more_refused(call, programme):
    assert apply(call, programme, share=5000).requested_share_bp == 5000
    error = refused(
        Refusal.SHARE_TOO_HIGH, lambda: apply(call, ProgrammeFactory(sponsor=programme.sponsor), share=5001)
    )
    assert "50,01 %" in error.message and "50 %" in error.message
    assert error.field == "share"


# --- the deadline -------------------------------------------------------------------------------


def test_submission_on_the_deadline_day_is_accepted_the_next_day_refused_and_the_draft_stays(call, programme):
    late_programme = ProgrammeFactory(sponsor=programme.sponsor)
    on_time = apply(call, programme, now=paris(call.deadline, 9))
    services.submit_application(application=on_time, now=paris(call.deadline, 23, 59))
    assert Application.objects.get(pk=on_time.pk).status == Application.Status.SUBMITTED

    late = apply(call, late_programme, now=paris(call.deadline, 9))
    next_day = paris(call.deadline + datetime.timedelta(days=1), 0, 0)
    error = refused(Refusal.CALL_DEADLINE_PASSED, lambda: services.submit_application(application=late, now=next_day))
    assert call.deadline.strftime("%d/%m/%Y") in error.message
    late.refresh_from_db()
    assert late.status == Application.Status.DRAFT and late.submitted_at is None


def test_a_call_past_its_deadline_takes_no_new_application_even_open(call, programme):
    assert call.status == Call.Status.OPEN
    refused(
        Refusal.CALL_DEADLINE_PASSED,
        lambda: apply(call, programme, now=paris(call.deadline + datetime.timedelta(days=1))),
    )
    assert not Application.objects.exists()


@pytest.mark.parametrize("status", [Call.Status.DRAFT, Call.Status.CLOSED])
def test_a_draft_or_closed_call_takes_no_application(status, programme):
    call = CallFactory(status=status)
    refused(Refusal.CALL_NOT_OPEN, lambda: apply(call, programme))


# --- audiences ----------------------------------------------------------------------------------


def test_priority_audiences_at_exactly_their_minimum_are_accepted_one_hundredth_below_refused(call, programme):
    apply(call, programme, audiences={"job_seekers": 2500, "youth": 2500, "seniors": 5000})
    error = refused(
        Refusal.PRIORITY_AUDIENCES_UNDER_MINIMUM,
        lambda: apply(
            call, ProgrammeFactory(sponsor=programme.sponsor), audiences={"job_seekers": 2500, "youth": 2499}
        ),
    )
    assert "49,99 %" in error.message and "50 %" in error.message
    assert "demandeurs d'emploi" in error.message


@pytest.mark.parametrize(
    "audiences", [{"job_seekers": 6000, "seniors": 4001}, {"unknown": 100, "job_seekers": 5000}, {"youth": -1}]
)
def test_audiences_over_100_or_unknown_are_refused(call, programme, audiences):
    refused(Refusal.AUDIENCES_INVALID, lambda: apply(call, programme, audiences=audiences))


# --- the programme ------------------------------------------------------------------------------


def test_a_programme_of_another_sponsor_is_not_found(call, programme):
    error = refused(
        "call_refused",
        lambda: services.save_application(
            sponsor=OrganisationFactory(sponsor=True),
            call=call,
            programme=programme,
            booklet_count=1000,
            share_bp=5000,
            audiences={"job_seekers": 5000},
        ),
    )
    assert error.status == 404
    assert not Application.objects.exists()


def test_one_application_per_programme_and_call(call, programme):
    apply(call, programme)
    refused(Refusal.APPLICATION_NOT_PENDING, lambda: apply(call, programme))


# --- decisions ----------------------------------------------------------------------------------


def test_refusal_needs_a_reason_and_is_kept(call):
    application = ApplicationFactory(call=call)
    refused(Refusal.DECISION_REASON_REQUIRED, lambda: services.refuse_application(application=application, reason="  "))
    services.refuse_application(application=application, reason="Part trop élevée pour l'enveloppe restante.")
    application.refresh_from_db()
    assert application.status == Application.Status.REFUSED
    assert application.decision_reason == "Part trop élevée pour l'enveloppe restante."
    refused(Refusal.APPLICATION_NOT_PENDING, lambda: services.select_application(application=application))


def test_score_is_0_to_100(call):
    application = ApplicationFactory(call=call)
    refused(Refusal.CALL_INVALID, lambda: services.score_application(application=application, score=101))
    assert services.score_application(application=application, score=100).score == 100


def test_selection_makes_an_agreement_on_a_cofunder_row_of_the_programme(call):
    application = ApplicationFactory(call=call, booklet_count=1001, requested_share_bp=3333)
    agreement = services.select_application(application=application, reason="Très bon projet")
    row = CoFunder.objects.get(programme=application.programme)
    assert agreement.cofunder == row
    assert (row.organisation, row.name, row.share_bp) == (call.funder, call.funder.name, 3333)
    assert agreement.purchase_cents == 1001 * 10_000
    # 10 010 000 × 33,33 % = 3 336 333,3 cents → 3 336 333 (nearest cent).
    assert agreement.max_contribution_cents == 3_336_333
    application.refresh_from_db()
    assert application.status == Application.Status.SELECTED and application.decided_at is not None
    assert AuditLog.objects.filter(action="calls.agreement.signed").exists()


def test_selection_takes_over_the_row_already_naming_the_funder(call):
    programme = ProgrammeFactory()
    existing = CoFunder.objects.create(programme=programme, name=f"  {call.funder.name.upper()} ", share_bp=5000)
    other = CoFunder.objects.create(programme=programme, name="Région", share_bp=2000)
    agreement = services.select_application(
        application=ApplicationFactory(call=call, programme=programme, requested_share_bp=4000)
    )
    assert agreement.cofunder_id == existing.pk
    assert sorted(CoFunder.objects.filter(programme=programme).values_list("pk", "share_bp")) == sorted(
        [(existing.pk, 4000), (other.pk, 2000)]
    )


def test_selection_beyond_100_percent_of_cofunding_is_refused_and_writes_nothing(call):
    programme = ProgrammeFactory()
    CoFunder.objects.create(programme=programme, name="Région", share_bp=6000)
    application = ApplicationFactory(call=call, programme=programme, requested_share_bp=4001)
    error = refused(Refusal.COFUNDING_OVER_100, lambda: services.select_application(application=application))
    assert "60 %" in error.message
    assert not Agreement.objects.exists()
    assert CoFunder.objects.filter(programme=programme).count() == 1
    assert Application.objects.get(pk=application.pk).status == Application.Status.SUBMITTED


# --- co-funder rows: stable, and the agreement's share locked --------------------------------------


def programme_data(programme, cofunders):
    return {
        "name": programme.name,
        "prefix": programme.prefix,
        "valid_until": programme.valid_until,
        "departments": ["33"],
        "communes": [],
        "cofunders": cofunders,
    }


def test_cofunder_rows_keep_their_id_across_programme_saves():
    programme = ProgrammeFactory()
    sponsor_services.update_programme(programme, programme_data(programme, [("État (ANCT)", 5000), ("Région", 1000)]))
    ids = dict(CoFunder.objects.filter(programme=programme).values_list("name", "pk"))
    sponsor_services.update_programme(programme, programme_data(programme, [("État (ANCT)", 4000), ("Région", 1000)]))
    assert dict(CoFunder.objects.filter(programme=programme).values_list("name", "pk")) == ids
    # Same co-funder written differently (case, spaces): same row; Région removed; Département added.
    sponsor_services.update_programme(
        programme, programme_data(programme, [("état  (anct)", 4000), ("Département", 500)])
    )
    rows = {row.name: row for row in CoFunder.objects.filter(programme=programme)}
    assert rows["état  (anct)"].pk == ids["État (ANCT)"] and rows["état  (anct)"].share_bp == 4000
    assert "Région" not in rows and not CoFunder.objects.filter(pk=ids["Région"]).exists()
    assert rows["Département"].pk not in ids.values()


def test_sponsor_cannot_change_nor_remove_the_agreement_share(call):
    application = ApplicationFactory(call=call)
    programme = application.programme
    agreement = services.select_application(application=application)
    free = CoFunder.objects.create(programme=programme, name="Région", share_bp=1000)

    error = refused(
        Refusal.AGREEMENT_SHARE_LOCKED,
        lambda: sponsor_services.update_programme(
            programme, programme_data(programme, [(call.funder.name, 6000), ("Région", 1000)])
        ),
    )
    assert "convention" in error.message and error.field == "cofunders"
    assert CoFunder.objects.get(pk=agreement.cofunder_id).share_bp == 5000
    # The form leaves the agreement's row out: the list without it keeps it, and changes the others.
    sponsor_services.update_programme(programme, programme_data(programme, [("Région", 2000)]))
    assert dict(CoFunder.objects.filter(programme=programme).values_list("pk", "share_bp")) == {
        agreement.cofunder_id: 5000,
        free.pk: 2000,
    }
    # Naming it with its own share changes nothing either.
    sponsor_services.update_programme(programme, programme_data(programme, [(call.funder.name, 5000)]))
    assert list(CoFunder.objects.filter(programme=programme).values_list("pk", flat=True)) == [agreement.cofunder_id]
    refused(
        Refusal.COFUNDING_OVER_100,
        lambda: sponsor_services.update_programme(programme, programme_data(programme, [("Région", 5001)])),
    )


# --- the call's life ----------------------------------------------------------------------------


def test_publish_then_close_and_an_open_call_keeps_its_rules():
    call = CallFactory(draft=True, priority_audiences=["job_seekers", "youth"], priority_min_bp=5000)
    services.publish_call(call=call)
    call.refresh_from_db()
    assert call.status == Call.Status.OPEN and call.published_at
    error = refused(Refusal.CALL_INVALID, lambda: services.update_call(call=call, data={"max_share_bp": 6000}))
    assert error.field == "max_share_bp"
    services.update_call(
        call=call, data={"title": "Nouveau titre", "priority_audiences": list(reversed(call.priority_audiences))}
    )
    services.close_call(call=call)
    refused(Refusal.CALL_NOT_OPEN, lambda: services.update_call(call=call, data={"title": "x"}))


def test_a_call_cannot_be_published_with_a_past_deadline():
    call = CallFactory(draft=True, deadline=timezone.localdate() - datetime.timedelta(days=1))
    refused(Refusal.CALL_INVALID, lambda: services.publish_call(call=call))
