"""The one idempotency mechanism (passnum.idempotency): the first answer is stored as sent and
replayed byte for byte, a key reused with another request is refused, a refusal leaves nothing
of the work behind, keys are per organisation and per scope."""

import pytest
from django.db import IntegrityError

from passnum.errors import DomainError
from passnum.idempotency import services
from passnum.idempotency.models import StoredAnswer
from passnum.organisations.models import Organisation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def once(organisation, apply, *, key="k", request_hash="h", scope="essai", **extra):
    return services.answer_once(
        organisation_id=organisation.pk, scope=scope, key=key, request_hash=request_hash, apply=apply, **extra
    )


def test_render_keeps_the_order_of_the_keys_and_writes_utf8():
    assert services.render({"b": 1, "a": "é", "c": None}) == '{"b":1,"a":"é","c":null}'


def test_the_first_answer_is_replayed_byte_for_byte_without_doing_the_work_again():
    organisation = OrganisationFactory()
    calls = []

    def apply():
        calls.append(1)
        Organisation.objects.filter(pk=organisation.pk).update(name=f"Renommée {len(calls)}")
        return services.Answer(201, services.render({"z": len(calls), "a": "premier"}), subject="42")

    first = once(organisation, apply)
    again = once(organisation, apply)

    assert (again.status, again.body) == (first.status, first.body) == (201, '{"z":1,"a":"premier"}')
    organisation.refresh_from_db()
    assert organisation.name == "Renommée 1"  # the retry's work was rolled back with its key insert
    assert StoredAnswer.objects.get().subject == "42"


def test_the_same_key_with_another_request_is_refused():
    organisation = OrganisationFactory()
    once(organisation, lambda: services.Answer(201, "{}"))
    with pytest.raises(DomainError) as refused:
        once(organisation, lambda: services.Answer(201, "{}"), request_hash="autre")
    assert refused.value.code == "idempotency_key_reused" and refused.value.status == 409


def test_a_refusal_is_stored_and_leaves_nothing_of_the_work():
    organisation = OrganisationFactory(name="Avant")
    logged = []

    def apply():
        Organisation.objects.filter(pk=organisation.pk).update(name="Pendant")
        raise DomainError("Refusé pour l'essai.", code="essai_refuse", status=409)

    answer = once(organisation, apply, on_refusal=logged.append)

    assert answer.status == 409
    assert answer.body == '{"error":{"code":"essai_refuse","message":"Refusé pour l\'essai."}}'
    assert [error.code for error in logged] == ["essai_refuse"]
    organisation.refresh_from_db()
    assert organisation.name == "Avant"
    assert once(organisation, lambda: services.Answer(201, "{}")).body == answer.body


def test_keys_are_per_organisation_and_per_scope():
    first, second = OrganisationFactory(), OrganisationFactory()
    answers = {
        (first, "a"): once(first, lambda: services.Answer(201, '"1a"'), scope="a"),
        (first, "b"): once(first, lambda: services.Answer(201, '"1b"'), scope="b"),
        (second, "a"): once(second, lambda: services.Answer(201, '"2a"'), scope="a"),
    }
    assert [answer.body for answer in answers.values()] == ['"1a"', '"1b"', '"2a"']
    assert StoredAnswer.objects.count() == 3
    with pytest.raises(IntegrityError):
        services.remember(organisation_id=first.pk, scope="a", key="k", request_hash="h", answer=answers[first, "a"])
