"""When a pass stops being usable: the one definition read by the redemption (mediators), the
nightly expiry (clearing) and the pages that show a pass.

A pass may be redeemed until ``Pass.expires_on`` included (the programme's validity end plus its
grace period, see ``services.expiry_date``). A site's device may have scanned it offline on that
last day and send the scan later: the server accepts such scans for ``OFFLINE_UPLOAD_DAYS`` more
days. Once that window is closed, the pass is worth nothing any more: the nightly expiry moves it
to ``expired`` and the sponsor gets a credit note for it.
"""

from datetime import date, timedelta

from passnum.passes.models import PassState

OFFLINE_UPLOAD_DAYS = 7


def upload_window_closed(*, expires_on: date, today: date) -> bool:
    """Whether no scan of a pass ending on ``expires_on`` can reach the server any more."""
    return today > expires_on + timedelta(days=OFFLINE_UPLOAD_DAYS)


def last_expires_on_to_expire(*, today: date) -> date:
    """The latest ``expires_on`` whose upload window is closed on ``today``."""
    return today - timedelta(days=OFFLINE_UPLOAD_DAYS + 1)


def is_expired(*, state: str, expires_on: date, scanned_on: date, today: date) -> bool:
    """Whether a pass scanned on ``scanned_on`` and received on ``today`` is refused as expired:
    already ``expired``, scanned after its last day, or received after the upload window."""
    return (
        state == PassState.EXPIRED
        or scanned_on > expires_on
        or upload_window_closed(expires_on=expires_on, today=today)
    )
