"""The grant listens to the payment batches: its instalments are paid by their payout orders."""

from django.dispatch import receiver

from clearing.payments.signals import payouts_paid, payouts_returned
from sponsors.grants import services


@receiver(payouts_paid, dispatch_uid="grants_instalments_paid")
def instalments_paid(sender, *, source_kind: str, source_ids: list[int], **kwargs) -> None:
    if source_kind == services.PAYOUT_SOURCE:
        services.mark_instalments_paid(instalment_ids=source_ids)


@receiver(payouts_returned, dispatch_uid="grants_instalments_returned")
def instalments_returned(sender, *, source_kind: str, source_ids: list[int], **kwargs) -> None:
    if source_kind == services.PAYOUT_SOURCE:
        services.mark_instalments_unpaid(instalment_ids=source_ids)
