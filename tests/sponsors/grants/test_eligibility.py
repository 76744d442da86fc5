"""Each eligibility rule of the business grant at its boundary, exactly as the scheme states it,
then the same rules refusing a submission with their code."""

import datetime

import pytest

from passnum.refusals import Refusal
from sponsors.grants import eligibility
from sponsors.grants.eligibility import Facts, add_months
from sponsors.grants.enums import ApplicationStatus, ExpenditureCategory
from sponsors.grants.models import GrantScheme
from sponsors.grants.services import GrantError, submit_application
from tests.sponsors.grants.factories import GrantApplicationFactory

pytestmark = pytest.mark.django_db

SCHEME = GrantScheme(name="Pass numérique entreprises")  # the defaults: 8 000–10 000 €, < 30, 25 %, 24 months
START = datetime.date(2027, 3, 15)


@pytest.mark.parametrize(("headcount", "passed"), [(29, True), (30, False)])
def test_headcount_fewer_than_30(headcount, passed):
    result = eligibility.rule_headcount(scheme=SCHEME, facts=Facts(headcount=headcount))
    assert result.passed is passed
    assert str(headcount) in result.message
    assert result.refusal == (None if passed else Refusal.GRANT_HEADCOUNT_TOO_HIGH)


@pytest.mark.parametrize(
    ("equipment", "other", "passed", "share"),
    [(2500, 7500, True, "25,00 %"), (2501, 7499, False, "25,01 %"), (250_000, 750_000, True, "25,00 %")],
)
def test_equipment_at_most_a_quarter_of_the_total(equipment, other, passed, share):
    facts = Facts(lines=[(ExpenditureCategory.EQUIPMENT, equipment), (ExpenditureCategory.SOFTWARE, other)])
    result = eligibility.rule_equipment_share(scheme=SCHEME, facts=facts)
    assert result.passed is passed
    assert share in result.message


def test_equipment_at_forty_percent_is_refused_with_its_figures():
    facts = Facts(lines=[(ExpenditureCategory.EQUIPMENT, 400_000), (ExpenditureCategory.TRAINING, 600_000)])
    result = eligibility.rule_equipment_share(scheme=SCHEME, facts=facts)
    assert not result.passed and result.refusal == Refusal.GRANT_EQUIPMENT_SHARE_TOO_HIGH
    assert "40,00 %" in result.message and "4\u202f000,00 €" in result.message


@pytest.mark.parametrize(
    ("end", "passed"),
    [(datetime.date(2029, 3, 15), True), (datetime.date(2029, 3, 16), False)],
    ids=["exactly-24-months", "24-months-and-a-day"],
)
def test_duration_at_most_24_months(end, passed):
    result = eligibility.rule_duration(scheme=SCHEME, facts=Facts(start_date=START, end_date=end))
    assert result.passed is passed
    if not passed:
        assert result.refusal == Refusal.GRANT_DURATION_TOO_LONG
        assert "24 mois et 1 jour" in result.message and "15/03/2029" in result.message


def test_month_arithmetic_keeps_the_day_or_takes_the_month_end():
    assert add_months(datetime.date(2027, 1, 31), 1) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2026, 2, 28), 24) == datetime.date(2028, 2, 28)


@pytest.mark.parametrize(
    ("filed_on", "passed"),
    [(START - datetime.timedelta(days=1), True), (START, False), (START + datetime.timedelta(days=1), False)],
    ids=["the-day-before", "the-day-of", "the-day-after"],
)
def test_filed_before_the_project_starts(filed_on, passed):
    result = eligibility.rule_filed_before_start(scheme=SCHEME, facts=Facts(start_date=START, filed_on=filed_on))
    assert result.passed is passed
    if not passed:
        assert result.refusal == Refusal.GRANT_PROJECT_ALREADY_STARTED
        assert "15/03/2027" in result.message


@pytest.mark.parametrize(
    ("cents", "passed"), [(799_999, False), (800_000, True), (1_000_000, True), (1_000_001, False)]
)
def test_requested_amount_within_8000_and_10000_euros(cents, passed):
    result = eligibility.rule_amount_range(scheme=SCHEME, facts=Facts(requested_amount_cents=cents))
    assert result.passed is passed
    if not passed:
        assert result.refusal == Refusal.GRANT_AMOUNT_OUT_OF_RANGE


def test_territory_is_martinique_by_default():
    inside = eligibility.rule_territory(scheme=SCHEME, facts=Facts(commune_code="97209"))
    assert inside.passed and "Fort-de-France" in inside.message
    outside = eligibility.rule_territory(scheme=SCHEME, facts=Facts(commune_code="33063"))
    assert not outside.passed and outside.refusal == Refusal.GRANT_OUT_OF_TERRITORY
    assert "Bordeaux (33)" in outside.message and "Martinique (972)" in outside.message


def test_missing_documents_are_named():
    result = eligibility.rule_documents(scheme=SCHEME, facts=Facts(documents={"project_file", "quotes"}))
    assert not result.passed and result.refusal == Refusal.GRANT_DOCUMENTS_MISSING
    assert result.message.startswith("3 pièces manquantes") and "RIB de l'entreprise" in result.message


def test_a_second_grant_waits_two_years():
    granted_on = datetime.date(2025, 6, 10)
    early = eligibility.rule_renewal(
        scheme=SCHEME, facts=Facts(last_grant_on=granted_on, filed_on=datetime.date(2027, 6, 9))
    )
    assert not early.passed and early.refusal == Refusal.GRANT_RENEWAL_TOO_EARLY and "10/06/2027" in early.message
    on_time = eligibility.rule_renewal(
        scheme=SCHEME, facts=Facts(last_grant_on=granted_on, filed_on=datetime.date(2027, 6, 10))
    )
    assert on_time.passed


# --- at submission ---------------------------------------------------------------------------


def test_an_eligible_draft_is_submitted(member_of):
    application = GrantApplicationFactory()
    user = member_of(application.company)
    submit_application(application=application, by=user)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert list(application.status_changes.values_list("to_status", flat=True)) == ["submitted"]


@pytest.mark.parametrize(
    ("days_before_start", "submitted"), [(1, True), (0, False), (-1, False)], ids=["day-before", "day-of", "day-after"]
)
def test_submission_on_or_after_the_start_is_refused(days_before_start, submitted, member_of):
    application = GrantApplicationFactory(start_date=START, end_date=START + datetime.timedelta(days=200))
    user = member_of(application.company)
    today = START - datetime.timedelta(days=days_before_start)
    if submitted:
        submit_application(application=application, by=user, today=today)
    else:
        with pytest.raises(GrantError) as refused:
            submit_application(application=application, by=user, today=today)
        assert refused.value.code == Refusal.GRANT_PROJECT_ALREADY_STARTED
    application.refresh_from_db()
    assert application.status == (ApplicationStatus.SUBMITTED if submitted else ApplicationStatus.DRAFT)


def test_every_failing_rule_is_reported_at_submission_and_nothing_changes(member_of):
    application = GrantApplicationFactory(
        headcount=30,
        requested_amount_cents=1_000_001,
        plan=[(ExpenditureCategory.EQUIPMENT, 400_000), (ExpenditureCategory.TRAINING, 600_000)],
        documents=[],
    )
    with pytest.raises(GrantError) as refused:
        submit_application(application=application, by=member_of(application.company))
    assert refused.value.details["refusals"] == [
        Refusal.GRANT_HEADCOUNT_TOO_HIGH,
        Refusal.GRANT_EQUIPMENT_SHARE_TOO_HIGH,
        Refusal.GRANT_AMOUNT_OUT_OF_RANGE,
        Refusal.GRANT_DOCUMENTS_MISSING,
    ]
    assert "30 salariés" in refused.value.message and "40,00 %" in refused.value.message
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT and application.submitted_at is None
    assert not application.status_changes.exists()
