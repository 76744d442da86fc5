"""Pass codes: random, readable aloud, with a check character.

A code is 12 symbols of Crockford's base32 (60 bits drawn from ``secrets``, never from a
sequence) followed by a check symbol, printed in groups: ``XXXX-XXXX-XXXX-C``.

Check symbol of new codes: Damm's method over a quasigroup of order 32, so the check is one of
the 32 symbols of the code itself (no ``* ~ $ = U``, which are hard to type on a phone and
``~`` is a dead key on French keyboards).

- The 32 symbols are the elements of GF(32) = GF(2)[x]/(x⁵ + x² + 1) (a symbol's value, 0 to
  31, read as a polynomial of degree < 5; x⁵ + x² + 1 is irreducible, so this is a field).
- The quasigroup is ``u ∘ v = x·u + v`` (``QUASIGROUP[u][v]``; ``+`` is XOR). It is a
  quasigroup: ``v ↦ x·u + v`` and ``u ↦ x·u + v`` are bijections (x ≠ 0 is invertible).
- It is totally anti-symmetric: ``(c ∘ u) ∘ v = (c ∘ v) ∘ u`` means
  ``x²c + x·u + v = x²c + x·v + u``, i.e. ``(x + 1)(u + v) = 0``; x + 1 ≠ 0, so ``u = v``.
- Damm: start from 0, fold each of the 13 symbols through ``∘``; the check is the symbol that
  brings the fold of the 12 data symbols back to 0, and a code is right when the fold of all
  13 is 0. Changing one symbol changes the fold (each step is a bijection of the running
  value); swapping neighbours ``u, v`` (the check included) changes it by total
  anti-symmetry. So every single substitution and every adjacent transposition is caught.

Codes issued before used Crockford's check, ``N mod 37`` with ``N = Σ a_i · 32^(11-i)``, written
with the alphabet plus ``* ~ $ = U`` (``legacy_check_symbol``; same guarantees: 37 is prime and
``0 < |b - a| < 37``, ``31`` and ``32^k`` are invertible mod 37). They stay valid, but only the
codes actually issued that way (``Pass.legacy_check``), never a string that merely satisfies the
old check:

- Reading (``parse``) needs no database: it accepts a string with a right Damm check or a right
  mod-37 check, and the passes table says the rest. A string found there is a pass. A string
  not found is a typo (``code_mistyped``) rather than an unknown pass when it has only the old
  check (no pass was issued with it), or when it lies one typo away from a code issued with the
  old check (``typo_of_issued_code``): a single typo of an old code satisfies Damm's check about
  13 times out of 415 (once per position). That question costs one query, asked only for a code
  not found, never on the path of a real pass.
- New codes are never drawn one typo away from an old one (``passes.services.new_codes``): the
  typo of an old code never finds a new pass, a new code never looks like the typo of an old one.

``tests/passes/test_codes.py`` proves the quasigroup exhaustively (every pair and triple) and
checks the detection exhaustively and with hypothesis, for both checks.

Reading a code (``parse``) is tolerant, as people and scanners type them: any case, spaces,
dashes, O for 0, I or L for 1, a pasted URL ``https://<host>/p/<code>``, a trailing Enter. It
tells a *malformed* entry (not shaped like a code) from a *mistyped* one (shaped like a code but
the check symbol does not match: a typo, never another valid code).
"""

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from passnum.refusals import Refusal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Every symbol a check may be: the alphabet (all checks of new codes) and the mod-37 extras of old ones.
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

# x⁵ + x² + 1: the modulus of GF(32).
FIELD_MODULUS = 0b100101


def times_x(value):
    """``value · x`` in GF(32)."""
    value <<= 1
    return value ^ FIELD_MODULUS if value & 0b100000 else value


QUASIGROUP = tuple(tuple(times_x(u) ^ v for v in range(32)) for u in range(32))


def _fold(symbols):
    interim = 0
    for symbol in symbols:
        interim = QUASIGROUP[interim][_VALUES[symbol]]
    return interim


def check_symbol(data):
    """Damm's check symbol of 12 data symbols (already normalised): the ``c`` with
    ``fold(data) ∘ c = 0``, i.e. ``c = x · fold(data)`` (in characteristic 2, ``-y = y``)."""
    return ALPHABET[times_x(_fold(data))]


def damm_valid(code):
    """The 13 symbols (all of the alphabet) fold to 0."""
    return all(symbol in ALPHABET for symbol in code) and _fold(code) == 0


def legacy_check_symbol(data):
    """Crockford's mod-37 check symbol of 12 data symbols: the check of codes issued before."""
    number = 0
    for symbol in data:
        number = number * 32 + _VALUES[symbol]
    return CHECK_ALPHABET[number % 37]


def generate():
    """A new code in its compact form (13 symbols), from 60 random bits of ``secrets``."""
    number = secrets.randbits(BITS)
    data = "".join(ALPHABET[(number >> (5 * (DATA_LENGTH - 1 - i))) & 31] for i in range(DATA_LENGTH))
    return data + check_symbol(data)


# Weights of the data symbols in N mod 37, and their inverses (37 is prime).
_WEIGHTS = tuple(pow(32, DATA_LENGTH - 1 - position, 37) for position in range(DATA_LENGTH))
_INVERSES = tuple(pow(weight, -1, 37) for weight in _WEIGHTS)


def legacy_neighbours(code):
    """Every string one single substitution or one adjacent swap away from ``code`` (compact,
    13 symbols) that satisfies the old mod-37 check: about 11 of the ~415 neighbours. Found by
    arithmetic on ``N mod 37`` rather than by trying each neighbour."""
    data, check = code[:DATA_LENGTH], code[DATA_LENGTH]
    values = [_VALUES[symbol] for symbol in data]
    number = sum(value * weight for value, weight in zip(values, _WEIGHTS, strict=True)) % 37
    target = _VALUES[check]
    found = set()
    for position, a in enumerate(values):
        # a → b changes N by (b - a)·w: the old check matches for at most one b.
        b = (a + (target - number) * _INVERSES[position]) % 37
        if b != a and b < 32:
            found.add(data[:position] + ALPHABET[b] + data[position + 1 :] + check)
        # a, b → b, a changes N by (b - a)·(w_k - w_k+1).
        if position + 1 < DATA_LENGTH:
            b = values[position + 1]
            if b != a and (number + (b - a) * (_WEIGHTS[position] - _WEIGHTS[position + 1]) - target) % 37 == 0:
                found.add(data[:position] + data[position + 1] + data[position] + data[position + 2 :] + check)
    # The check symbol substituted.
    right = CHECK_ALPHABET[number]
    if right != check:
        found.add(data + right)
    # The last data symbol swapped with the check: new data ends in the check symbol, new check is
    # the old last data symbol.
    last = values[-1]
    if target < 32 and target != last and (number - last + target - last) % 37 == 0:
        found.add(data[:-1] + check + data[-1])
    return found


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
    """Reads a typed, scanned or pasted code. Never raises, never asks the database: a string with
    a right check, Damm's or the old one, is read; whether a pass has it is the passes table's
    to say (see ``typo_of_issued_code`` for one it has not)."""
    if not isinstance(text, str) or len(text) > 300:
        return Parsed(error=MALFORMED)
    candidate = normalise(text)
    if len(candidate) != CODE_LENGTH or any(symbol not in _VALUES for symbol in candidate):
        return Parsed(error=MALFORMED)
    data, check = candidate[:DATA_LENGTH], candidate[DATA_LENGTH]
    if any(symbol not in ALPHABET for symbol in data):
        return Parsed(error=MISTYPED)
    if check in (check_symbol(data), legacy_check_symbol(data)):
        return Parsed(code=candidate)
    return Parsed(error=MISTYPED)


def typo_of_issued_code(code: str, *, issued_with_legacy_check: Callable[[Iterable[str]], set[str]]) -> bool:
    """For a code (compact) that no pass has: whether to tell a typo (``code_mistyped``) rather
    than an unknown pass. ``issued_with_legacy_check`` says which of a few codes passes were issued
    with under the old check (``passes.selectors.legacy_codes_among``)."""
    if not damm_valid(code):
        return True  # read through the old check alone, and no pass has it
    neighbours = legacy_neighbours(code)
    return bool(neighbours) and bool(issued_with_legacy_check(neighbours))


def is_valid(text):
    return parse(text).ok


# Codes printed on a proof (BAT): shaped like real codes, but their check symbol is always wrong,
# so reading one gives ``code_mistyped`` and no pass can ever be found or redeemed with it.
SPECIMEN_PREFIX = "SPEC"


def specimen(number):
    """The ``number``-th specimen code: ``SPEC`` + 8 digits + a check symbol that matches neither
    the Damm check nor the old mod-37 one."""
    data = f"{SPECIMEN_PREFIX}{number:08d}"
    right = {check_symbol(data), legacy_check_symbol(data)}
    return data + next(symbol for symbol in ALPHABET if symbol not in right)


ERROR_MESSAGES = {
    MALFORMED: "Ce texte n'est pas un code de pass : un code compte 13 caractères, par exemple ABCD-EFGH-JKMN-P.",
    MISTYPED: "Ce code comporte une faute de frappe : vérifiez chaque caractère, le dernier sert de contrôle.",
}
