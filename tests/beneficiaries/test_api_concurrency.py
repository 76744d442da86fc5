"""Concurrent duplicates of one distribution (the same Idempotency-Key sent by several
connections at once): one hand-over, one stored answer, every request gets its bytes."""

import threading

import pytest
from django.db import connection

from beneficiaries.models import HandOver
from passnum.idempotency.models import StoredAnswer
from tests.beneficiaries.factories import BENEFICIARY, booklets_in_stock
from tests.beneficiaries.test_api import api_for
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_duplicates_of_a_distribution_hand_over_once_and_answer_the_same_bytes():
    prescriber = OrganisationFactory(prescriber=True)
    booklet = booklets_in_stock(prescriber, count=1)[0]
    client = api_for(prescriber)
    body = {"booklet_serial": booklet.serial, "beneficiary": BENEFICIARY}
    count = 8
    answers, barrier = [None] * count, threading.Barrier(count)

    def run(index):
        try:
            barrier.wait()
            response = client.post("/api/v1/distributions", body, format="json", HTTP_IDEMPOTENCY_KEY="remise-1")
            answers[index] = (response.status_code, response.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers[0][0] == 201
    assert all(answer == answers[0] for answer in answers)
    assert HandOver.objects.count() == 1
    stored = StoredAnswer.objects.get(scope="distributions", key="remise-1")
    assert stored.body.encode() == answers[0][1]
    assert stored.subject == str(HandOver.objects.get().pk)
