"""What the redemptions say a programme's redeemed passes are worth, for the ledger check
(``clearing.selectors.ledger``): the live lines of redemptions (not undone), split by whether
their redemption was settled on a statement (``Redemption.settled_at``)."""

from django.db.models import Count, Q, Sum

from mediators.models import RedeemedPass


def redeemed_value_by_programme(*, programme=None) -> dict[int, dict[str, tuple[int, int]]]:
    """``{programme_id: {"redeemed_unsettled": (passes, cents), "settled": (passes, cents)}}``,
    from the live redeemed-pass lines (one query)."""
    lines = RedeemedPass.objects.filter(is_live=True)
    if programme is not None:
        lines = lines.filter(redemption__programme=programme)
    unsettled, settled = Q(redemption__settled_at__isnull=True), Q(redemption__settled_at__isnull=False)
    rows = (
        lines.values("redemption__programme_id")
        .annotate(
            unsettled_n=Count("pk", filter=unsettled),
            unsettled_cents=Sum("face_value_cents", filter=unsettled),
            settled_n=Count("pk", filter=settled),
            settled_cents=Sum("face_value_cents", filter=settled),
        )
        .order_by()
    )
    return {
        row["redemption__programme_id"]: {
            "redeemed_unsettled": (row["unsettled_n"], row["unsettled_cents"] or 0),
            "settled": (row["settled_n"], row["settled_cents"] or 0),
        }
        for row in rows
    }
