"""Pass codes: randomness, check symbol, tolerant reading."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passnum.passes import codes

VALID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def code_from_number(number):
    data = "".join(VALID[(number >> (5 * (11 - i))) & 31] for i in range(12))
    return data + codes.check_symbol(data)


def test_generated_codes_are_valid_unique_and_well_shaped():
    generated = {codes.generate() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert len(code) == 13
        assert codes.parse(code).code == code
        assert all(symbol in VALID for symbol in code[:12])


def test_grouped_form_reads_aloud():
    code = code_from_number(0)
    assert codes.grouped(code) == "0000-0000-0000-0"
    code = codes.generate()
    text = codes.grouped(code)
    assert len(text) == 16 and text[4] == text[9] == text[14] == "-"
    assert codes.parse(text).code == code


def test_normalisation_accepts_case_spaces_dashes_and_confusions():
    code = "1ABC0DEF1GH0" + codes.check_symbol("1ABC0DEF1GH0")
    assert codes.parse(code).code == code
    for typed in [
        "iabc-odef-lgho-" + code[-1].lower(),
        " 1abc odef 1gh0 " + code[-1] + "\r\n",
        "1ABC-0DEF-LGHO-" + code[-1],
        "lAbC0dEfIgHo" + code[-1],
    ]:
        assert codes.parse(typed).code == code, typed


def test_a_pasted_url_is_read():
    code = codes.generate()
    assert codes.parse(f"https://passnum.example/p/{code}").code == code
    assert codes.parse(f"https://passnum.example/p/{codes.grouped(code)}/").code == code
    assert codes.parse(f"http://127.0.0.1:8000/p/{code.lower()}?utm=1").code == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ABCD",
        "ABCD-EFGH-JKMN",
        "ABCD-EFGH-JKMN-PP",
        "ABCD!EFGH-JKMN-P",
        None,
        12,
        "x" * 1000,
        "https://e.fr/x/",
    ],
)
def test_malformed_entries(text):
    assert codes.parse(text).error == codes.MALFORMED


def test_wrong_check_is_mistyped():
    code = codes.generate()
    wrong = code[:12] + next(s for s in codes.CHECK_ALPHABET if s != code[12])
    assert codes.parse(wrong).error == codes.MISTYPED
    # A check-only symbol inside the data is a typo too.
    assert codes.parse("U" + code[1:]).error == codes.MISTYPED


def test_the_check_detects_all_errors_exhaustively():
    """The proof of the module docstring, run through ``codes``: the check is linear, so a change
    of ``a`` into ``b`` at one position (or a swap of ``a, b``) is caught on any code if it is on
    a code of zeros — every position, every pair of symbols, through ``check_symbol`` and ``parse``."""
    zeros = ["0"] * codes.DATA_LENGTH
    for position in range(codes.DATA_LENGTH):
        for a in codes.ALPHABET:
            for b in codes.ALPHABET:
                if a == b:
                    continue
                original = zeros.copy()
                original[position] = a
                substituted = zeros.copy()
                substituted[position] = b
                # Single substitution: another check symbol.
                assert codes.check_symbol("".join(original)) != codes.check_symbol("".join(substituted))
                if position + 1 < codes.DATA_LENGTH:
                    # Adjacent transposition: "ab" read as "ba" is refused as a typo.
                    typed = zeros.copy()
                    typed[position], typed[position + 1] = a, b
                    data = "".join(typed)
                    swapped = data[:position] + b + a + data[position + 2 :]
                    assert codes.parse(swapped + codes.check_symbol(data)).error == codes.MISTYPED
    # The last data symbol swapped with the check symbol.
    for prefix in ("0" * 11, "ZZZZZZZZZZZ", "7K3M9QX2PA1R"[:11]):
        for last in codes.ALPHABET:
            data = prefix + last
            check = codes.check_symbol(data)
            if check != last:
                assert codes.parse(data[:-1] + check + last).error == codes.MISTYPED, (data, check)


def typos(code):
    """Every single-character substitution and every adjacent swap of ``code``."""
    for position in range(13):
        for symbol in codes.CHECK_ALPHABET + "OIL":
            typed = code[:position] + symbol + code[position + 1 :]
            if codes.normalise(typed) != code:
                yield typed
    for position in range(12):
        if code[position] != code[position + 1]:
            yield code[:position] + code[position + 1] + code[position] + code[position + 2 :]


@given(st.integers(min_value=0, max_value=2**60 - 1))
def test_every_single_typo_and_adjacent_swap_is_mistyped(number):
    code = code_from_number(number)
    assert codes.parse(code).code == code
    for typed in typos(code):
        result = codes.parse(typed)
        assert result.error == codes.MISTYPED, (code, typed)
        # And in the grouped form people read.
        assert codes.parse(codes.grouped(typed)).error == codes.MISTYPED


@given(st.integers(min_value=0, max_value=2**60 - 1), st.integers(min_value=0, max_value=11))
def test_swaps_across_group_dashes_are_mistyped(number, position):
    code = code_from_number(number)
    text = codes.grouped(code)
    letters = [i for i, c in enumerate(text) if c != "-"]
    a, b = letters[position], letters[position + 1]
    if text[a] == text[b]:
        return
    swapped = list(text)
    swapped[a], swapped[b] = swapped[b], swapped[a]
    assert codes.parse("".join(swapped)).error == codes.MISTYPED
