"""Reads of clearing: credit notes of a sponsor, what is left to credit, and the ledger check."""

from dataclasses import dataclass

from clearing.models import CreditNote
from mediators.ledger import redeemed_value_by_programme
from passnum.organisations.enums import Role
from passnum.organisations.selectors import members_of
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors


def sponsor_managers_emails(organisation) -> list[str]:
    """The sponsor's admins and finance members: who receives alerts and credit notes."""
    members = members_of(organisation).filter(role__in=[Role.ADMIN, Role.FINANCE], user__is_active=True)
    return sorted({m.user.email for m in members})


def credit_notes_of(organisation):
    return CreditNote.objects.for_organisation(organisation).order_by("-issued_at", "-pk")


def programmes_to_credit() -> set[int]:
    """Programmes with expired passes and no credit note yet."""
    credited = set(CreditNote.objects.values_list("programme_id", flat=True))
    return pass_selectors.programmes_with_expired_passes() - credited


def expired_not_credited() -> dict[int, tuple[int, int]]:
    """Expired passes beyond their programme's credit note (passes of an order paid after the
    programme's expiry): ``{programme_id: (passes, cents)}``, for the operator to settle by hand."""
    notes = {n.programme_id: n for n in CreditNote.objects.all()}
    if not notes:
        return {}
    result = {}
    for programme_id, states in pass_selectors.value_by_programme_and_state().items():
        count, cents = states.get(PassState.EXPIRED, (0, 0))
        note = notes.get(programme_id)
        if note is not None and count > note.expired_pass_count:
            result[programme_id] = (count - note.expired_pass_count, cents - note.amount_cents)
    return result


# --- The ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """A programme's conservation, in cents: ``ordered`` (face value of the passes of its
    invoiced or paid orders, read from the orders) must equal the passes' value by where it is:
    ``created`` (not handed out, or order unpaid), ``active``, ``redeemed_unsettled`` and
    ``settled`` (read from the live redemptions, not from the passes), ``expired``, ``cancelled``.
    ``redeemed_passes`` is the value of the passes in state ``redeemed``, which must equal the
    redemptions' two columns. ``paid_to_sites`` is left for the monthly statements (``None``)."""

    programme_id: int
    programme: str
    sponsor: str
    ordered: int
    created: int
    active: int
    redeemed_unsettled: int
    settled: int
    expired: int
    cancelled: int
    redeemed_passes: int
    paid_to_sites: int | None = None

    COLUMNS = ("created", "active", "redeemed_unsettled", "settled", "expired", "cancelled")

    @property
    def accounted(self) -> int:
        return sum(getattr(self, column) for column in self.COLUMNS)

    @property
    def difference(self) -> int:
        return self.ordered - self.accounted

    @property
    def redeemed_difference(self) -> int:
        return self.redeemed_passes - self.redeemed_unsettled - self.settled

    @property
    def is_balanced(self) -> bool:
        return self.difference == 0 and self.redeemed_difference == 0


def paid_to_sites_by_programme(*, programme=None) -> dict[int, int] | None:
    """Hook for « paid to sites = sum of the paid statement lines », once the monthly statements
    exist: ``None`` until then (the ledger shows it as unknown)."""
    return None


def ledger(*, programme=None) -> list[LedgerLine]:
    """Each programme's figures (or one programme's), in cents, in programme order."""
    ordered = sponsor_selectors.ordered_value_by_programme(programme=programme)
    passes = pass_selectors.value_by_programme_and_state(programme=programme)
    redeemed = redeemed_value_by_programme(programme=programme)
    paid = paid_to_sites_by_programme(programme=programme)
    ids = sorted(set(ordered) | set(passes) | set(redeemed))
    programmes = {p.pk: p for p in sponsor_selectors.programmes_with_ids(ids)}
    lines = []
    for pk in ids:
        states = passes.get(pk, {})
        redemptions = redeemed.get(pk, {})

        def cents(state, states=states):
            return states.get(state, (0, 0))[1]

        lines.append(
            LedgerLine(
                programme_id=pk,
                programme=str(programmes[pk]) if pk in programmes else f"programme {pk}",
                sponsor=programmes[pk].sponsor.name if pk in programmes else "",
                ordered=ordered.get(pk, 0),
                created=cents(PassState.CREATED),
                active=cents(PassState.ACTIVE),
                redeemed_unsettled=redemptions.get("redeemed_unsettled", (0, 0))[1],
                settled=redemptions.get("settled", (0, 0))[1],
                expired=cents(PassState.EXPIRED),
                cancelled=cents(PassState.CANCELLED),
                redeemed_passes=cents(PassState.REDEEMED),
                paid_to_sites=None if paid is None else paid.get(pk, 0),
            )
        )
    return lines
