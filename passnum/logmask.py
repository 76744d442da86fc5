"""Pass codes are money: they never reach a log in clear.

Codes travel in URLs (``/p/<code>``, ``/api/v1/passes/<code>``, ``?code=``), so access logs and
Django's « Not Found » warnings would record them. ``mask_codes`` keeps only the check
character (``••••-••••-••••-C``): enough to tell two log lines apart, useless to redeem a pass.

Used by ``MaskPassCodes`` (a ``logging.Filter`` on every handler of ``settings.LOGGING``) and by
gunicorn's access log (``passnum.gunicorn_logging.MaskedLogger``, set in ``passnum/gunicorn.conf.py``).
"""

import logging
import re

from passnum.passes.codes import ALPHABET, CHECK_ALPHABET

MASK = "••••-••••-••••-"

# One symbol of the printed alphabet, any case; the check symbol may arrive percent-encoded.
_SYMBOL = "[" + ALPHABET + ALPHABET.lower() + "]"
_CHECK = "(?P<check>[" + re.escape(CHECK_ALPHABET + CHECK_ALPHABET[:32].lower() + "u") + "]|%2[aA4]|%3[dD]|%7[eE])"
# A separator people or scanners put between groups: dash, space, dot, underscore, « + » or %20.
_SEP = r"(?:[-\s+._]|%20|%2[dD])?"
_GROUP = _SYMBOL + "{4}"
CODE_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])" + _GROUP + _SEP + _GROUP + _SEP + _GROUP + _SEP + _CHECK + r"(?![0-9A-Za-z])"
)
_ENCODED_CHECK = {"%2A": "*", "%24": "$", "%3D": "=", "%7E": "~"}


def _masked(match):
    check = match.group("check")
    return MASK + _ENCODED_CHECK.get(check.upper(), check.upper())


def mask_codes(text):
    """``text`` with every pass code replaced by ``••••-••••-••••-C``."""
    if not isinstance(text, str):
        return text
    return CODE_PATTERN.sub(_masked, text)


class MaskPassCodes(logging.Filter):
    """Rewrites a record's message with its pass codes masked (never drops a record)."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the formatter to report
            return True
        masked = mask_codes(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_codes(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_codes(record.exc_text)
        return True
