"""Reads of the prescriber's counter (built on the pass instrument's selectors)."""

from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes.models import Booklet

SHOWN_RANGES = 20


def booklets_in_stock(organisation):
    """The booklets a prescriber could return: held by it, never handed out, not cancelled."""
    return pass_selectors.booklets_held_by(organisation).filter(state=Booklet.State.ALLOCATED)


def stock_to_return(organisation):
    """Per programme, the booklets in stock: ``[{"programme_id", "name", "prefix", "valid_until",
    "count", "serials" (every serial, in order), "ranges" (runs of consecutive numbers)}]``."""
    rows = (
        booklets_in_stock(organisation)
        .order_by("programme__name", "programme_id", "number")
        .values("programme_id", "programme__name", "programme__prefix", "programme__valid_until", "number", "serial")
    )
    programmes = {}
    for row in rows:
        entry = programmes.setdefault(
            row["programme_id"],
            {
                "programme_id": row["programme_id"],
                "name": row["programme__name"],
                "prefix": row["programme__prefix"],
                "valid_until": row["programme__valid_until"],
                "booklets": [],
            },
        )
        entry["booklets"].append(row)
    result = []
    for entry in programmes.values():
        booklets = entry.pop("booklets")
        ranges = pass_services.serial_ranges(booklets)
        entry.update(
            count=len(booklets),
            serials=[b["serial"] for b in booklets],
            ranges=ranges[:SHOWN_RANGES],
            more_ranges=max(0, len(ranges) - SHOWN_RANGES),
        )
        result.append(entry)
    return result
