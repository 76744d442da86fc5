"""What the payment batches tell the apps whose payout orders they pay (a grant's instalment, …).

Sent inside the transaction that changes the orders, so a receiver's writes commit or roll back
with them. Arguments: ``source_kind`` (the app's kind of thing, for example
``"grant_instalment"``) and ``source_ids`` (the ids of its things, in that app).
"""

from django.dispatch import Signal

# The transfers were executed (the batch is marked paid): the things are paid.
payouts_paid = Signal()
# A paid transfer came back from the bank: the thing is no longer paid (a later batch pays it again).
payouts_returned = Signal()


def send_by_source(signal: Signal, payouts) -> None:
    """Sends ``signal`` once per kind of source among ``payouts`` (PayoutOrder rows)."""
    by_kind: dict[str, list[int]] = {}
    for payout in payouts:
        by_kind.setdefault(payout.source_kind, []).append(payout.source_id)
    for source_kind, source_ids in sorted(by_kind.items()):
        signal.send(sender=None, source_kind=source_kind, source_ids=sorted(source_ids))
