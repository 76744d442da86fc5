"""Pass codes: random, readable aloud, with a check character.

A code is 12 symbols of Crockford's base32 (60 bits drawn from ``secrets``, never from a
sequence) followed by Crockford's check symbol, printed in groups: ``XXXX-XXXX-XXXX-C``.

Check symbol (Crockford, https://www.crockford.com/base32.html): the 12 symbols are the digits,
most significant first, of a number ``N = Σ a_i · 32^(11-i)``; the check is ``N mod 37``, written
with the 32 symbols of the alphabet plus ``* ~ $ = U`` for 32 to 36.

Why it catches every single-character substitution and every adjacent transposition:

- 37 is prime and no weight ``32^k`` is a multiple of 37, so each weight is invertible mod 37.
- Substituting ``a`` by ``b`` at weight ``32^k`` changes N by ``(b - a)·32^k``. Since
  ``0 < |b - a| < 32 < 37``, this is not 0 mod 37: the check no longer matches. A substituted
  check symbol trivially no longer matches N mod 37.
- Swapping neighbours ``a, b`` (weights ``32^(k+1)``, ``32^k``) changes N by
  ``(b - a)·(32^(k+1) - 32^k) = (b - a)·31·32^k``; 31 and ``32^k`` are invertible mod 37 and
  ``b - a`` is not 0 mod 37, so the change is not 0 mod 37.
- Swapping the last symbol ``a`` (weight 1) with the check ``c`` (``c ≡ N``): the new number is
  ``N - a + c`` and its check must be ``a``; that would need ``2c ≡ 2a``, i.e. ``c = a`` (2 is
  invertible mod 37): no change at all.

``tests/passes/test_codes.py`` checks all of this exhaustively and with hypothesis.

Reading a code (``parse``) is tolerant, as people and scanners type them: any case, spaces,
dashes, O for 0, I or L for 1, a pasted URL ``https://<host>/p/<code>``, a trailing Enter. It
tells a *malformed* entry (not shaped like a code) from a *mistyped* one (shaped like a code but
the check symbol does not match: a typo, never another valid code).
"""

import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from passnum.refusals import Refusal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
DATA_LENGTH = 12
CODE_LENGTH = DATA_LENGTH + 1
GROUP = 4
BITS = 5 * DATA_LENGTH  # 60

_VALUES = {symbol: value for value, symbol in enumerate(CHECK_ALPHABET)}
_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_URL_PATH = re.compile(r"^/p/([^/]+)/?$")

MALFORMED = Refusal.CODE_MALFORMED
MISTYPED = Refusal.CODE_MISTYPED


def check_symbol(data):
    """Crockford's check symbol of 12 data symbols (already normalised)."""
    number = 0
    for symbol in data:
        number = number * 32 + _VALUES[symbol]
    return CHECK_ALPHABET[number % 37]


def generate():
    """A new code in its compact form (13 symbols), from 60 random bits of ``secrets``."""
    number = secrets.randbits(BITS)
    data = "".join(ALPHABET[(number >> (5 * (DATA_LENGTH - 1 - i))) & 31] for i in range(DATA_LENGTH))
    return data + CHECK_ALPHABET[number % 37]


def grouped(code):
    """``XXXXXXXXXXXXC`` → ``XXXX-XXXX-XXXX-C`` (for print and display)."""
    code = compact(code)
    return "-".join(code[i : i + GROUP] for i in range(0, DATA_LENGTH, GROUP)) + "-" + code[DATA_LENGTH:]


def compact(code):
    return _SEPARATORS.sub("", code).upper()


def normalise(text):
    """What a person or a scanner typed → the compact candidate (not yet checked)."""
    text = (text or "").strip()
    if "/" in text:
        path = urlsplit(text).path if "://" in text else text
        match = _URL_PATH.match(path if path.startswith("/") else "/" + path)
        if match:
            text = unquote(match.group(1))
    return compact(text).translate(_CONFUSIONS)


@dataclass(frozen=True)
class Parsed:
    """Result of ``parse``: ``code`` (compact) when valid, else ``error`` (``code_malformed`` or
    ``code_mistyped``)."""

    code: str | None = None
    error: str | None = None

    @property
    def ok(self):
        return self.error is None


def parse(text):
    """Reads a typed, scanned or pasted code. Never raises."""
    if not isinstance(text, str) or len(text) > 300:
        return Parsed(error=MALFORMED)
    candidate = normalise(text)
    if len(candidate) != CODE_LENGTH or any(symbol not in _VALUES for symbol in candidate):
        return Parsed(error=MALFORMED)
    data, check = candidate[:DATA_LENGTH], candidate[DATA_LENGTH]
    if any(symbol not in ALPHABET for symbol in data) or check_symbol(data) != check:
        return Parsed(error=MISTYPED)
    return Parsed(code=candidate)


def is_valid(text):
    return parse(text).ok


# Codes printed on a proof (BAT): shaped like real codes, but their check symbol is always wrong,
# so reading one gives ``code_mistyped`` and no pass can ever be found or redeemed with it.
SPECIMEN_PREFIX = "SPEC"


def specimen(number):
    """The ``number``-th specimen code: ``SPEC`` + 8 digits + a check symbol that never matches."""
    data = f"{SPECIMEN_PREFIX}{number:08d}"
    right = _VALUES[check_symbol(data)]
    return data + CHECK_ALPHABET[(right + 1) % len(CHECK_ALPHABET)]


ERROR_MESSAGES = {
    MALFORMED: "Ce texte n'est pas un code de pass : un code compte 13 caractères, par exemple ABCD-EFGH-JKMN-P.",
    MISTYPED: "Ce code comporte une faute de frappe : vérifiez chaque caractère, le dernier sert de contrôle.",
}
