"""The yearly invoice number is gapless and unique under concurrency: the counter row is locked
in the transaction that issues the invoice (real PostgreSQL connections, real threads)."""

import threading
import time

import pytest
from django.db import connection, transaction

from sponsors.models import InvoiceCounter
from sponsors.services import next_invoice_number


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoices_get_distinct_gapless_numbers():
    """Proves the lock on the year's ``InvoiceCounter`` row (``select_for_update`` in
    ``next_invoice_number``), held 50 ms by each transaction: eight invoices at once get 1 to 8,
    and the rolled-back one gives its number back."""
    taken, lock, barrier = [], threading.Lock(), threading.Barrier(8)

    def issue(fail):
        try:
            barrier.wait()
            with transaction.atomic():
                number = next_invoice_number(2031)
                time.sleep(0.05)  # hold the lock while the others queue behind it
                if fail:
                    raise Boom  # a rolled-back invoice gives its number back
                with lock:
                    taken.append(number)
        except Boom:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(index == 3,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == list(range(1, 8))
    assert InvoiceCounter.objects.get(year=2031).last_number == 7
