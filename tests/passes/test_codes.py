"""Pass codes: randomness, check symbol (Damm's, and the old mod-37 one of codes issued before),
tolerant reading."""

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passnum.passes import codes

VALID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def read(text, issued_old=()):
    """What a site is told for ``text`` when every code with Damm's check is a pass and the old
    codes ``issued_old`` were issued: ``codes.parse``, then the passes table's answer — an old
    code not issued, or a string one typo away from an issued old code, is a typo."""
    parsed = codes.parse(text)
    if not parsed.ok or parsed.code in issued_old:
        return parsed
    if codes.typo_of_issued_code(parsed.code, issued_with_legacy_check=lambda near: set(near) & set(issued_old)):
        return codes.Parsed(error=codes.MISTYPED)
    return parsed


# Reading with no code issued with the old check (a new installation).
parse = read


def data_from_number(number):
    return "".join(VALID[(number >> (5 * (11 - i))) & 31] for i in range(12))


def code_from_number(number):
    data = data_from_number(number)
    return data + codes.check_symbol(data)


def old_code_from_number(number):
    data = data_from_number(number)
    return data + codes.legacy_check_symbol(data)


SAMPLE_NUMBERS = [0, 2**60 - 1, 0x0123456789ABCDE, 0xFEDCBA987654321] + [
    random.Random(seed).getrandbits(60) for seed in range(12)
]


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


# --- The quasigroup ----------------------------------------------------------------------------


def test_the_field_modulus_is_irreducible_so_x_times_is_a_bijection():
    # x has multiplicative order 31 in GF(2)[x]/(x⁵ + x² + 1): the modulus is primitive, hence
    # irreducible, and multiplying by x permutes the 31 non-zero elements.
    powers, value = [], 1
    for _ in range(31):
        powers.append(value)
        value = codes.times_x(value)
    assert value == 1 and sorted(powers) == list(range(1, 32))


def test_the_quasigroup_is_a_latin_square():
    table = codes.QUASIGROUP
    assert len(table) == 32
    for u in range(32):
        assert sorted(table[u]) == list(range(32)), u  # each row a permutation
        assert sorted(table[v][u] for v in range(32)) == list(range(32)), u  # each column too


def test_the_quasigroup_is_totally_anti_symmetric_over_every_triple():
    """(c ∘ u) ∘ v = (c ∘ v) ∘ u only when u = v: all 32³ triples."""
    table = codes.QUASIGROUP
    for c, u, v in itertools.product(range(32), repeat=3):
        if u != v:
            assert table[table[c][u]][v] != table[table[c][v]][u], (c, u, v)


# --- New codes ---------------------------------------------------------------------------------


def test_generated_codes_are_valid_unique_and_in_the_alphabet_check_included():
    generated = {codes.generate() for _ in range(2000)}
    assert len(generated) == 2000
    for code in generated:
        assert len(code) == 13
        assert parse(code).code == code
        assert all(symbol in VALID for symbol in code)  # no * ~ $ = U any more
        assert codes.damm_valid(code)
    # Every one of the 32 check symbols occurs and no other: the check is uniform over the alphabet.
    assert {code[-1] for code in generated} == set(VALID)


def test_grouped_form_reads_aloud():
    code = code_from_number(0)
    assert codes.grouped(code) == "0000-0000-0000-0"
    code = codes.generate()
    text = codes.grouped(code)
    assert len(text) == 16 and text[4] == text[9] == text[14] == "-"
    assert parse(text).code == code


def test_normalisation_accepts_case_spaces_dashes_and_confusions():
    code = "1ABC0DEF1GH0" + codes.check_symbol("1ABC0DEF1GH0")
    assert parse(code).code == code
    for typed in [
        "iabc-odef-lgho-" + code[-1].lower(),
        " 1abc odef 1gh0 " + code[-1] + "\r\n",
        "1ABC-0DEF-LGHO-" + code[-1],
        "lAbC0dEfIgHo" + code[-1],
    ]:
        assert parse(typed).code == code, typed


def test_a_pasted_url_is_read():
    code = codes.generate()
    assert parse(f"https://passnum.example/p/{code}").code == code
    assert parse(f"https://passnum.example/p/{codes.grouped(code)}/").code == code
    assert parse(f"http://127.0.0.1:8000/p/{code.lower()}?utm=1").code == code


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
    assert parse(text).error == codes.MALFORMED


def test_wrong_check_is_mistyped():
    code = codes.generate()
    for symbol in codes.CHECK_ALPHABET:
        if symbol != code[12]:
            assert parse(code[:12] + symbol).error == codes.MISTYPED
    # A check-only symbol inside the data is a typo too.
    assert parse("U" + code[1:]).error == codes.MISTYPED


def test_the_check_detects_all_errors_exhaustively():
    """Every position, every pair of symbols ``a ≠ b``, on several prefixes: ``a`` typed ``b``
    changes the check, and ``ab`` typed ``ba`` (the check symbol included) is refused."""
    for number in SAMPLE_NUMBERS[:6]:
        base = list(data_from_number(number))
        for position in range(codes.DATA_LENGTH):
            for a, b in itertools.permutations(codes.ALPHABET, 2):
                original = base.copy()
                original[position] = a
                substituted = base.copy()
                substituted[position] = b
                assert codes.check_symbol("".join(original)) != codes.check_symbol("".join(substituted))
                if position + 1 < codes.DATA_LENGTH:
                    typed = base.copy()
                    typed[position], typed[position + 1] = a, b
                    data = "".join(typed)
                    swapped = data[:position] + b + a + data[position + 2 :]
                    assert not codes.damm_valid(swapped + codes.check_symbol(data))
        # The last data symbol swapped with the check symbol.
        for last in codes.ALPHABET:
            data = "".join(base[:-1]) + last
            check = codes.check_symbol(data)
            if check != last:
                assert parse(data[:-1] + check + last).error == codes.MISTYPED, (data, check)


def test_every_typo_of_sample_codes_is_mistyped_exhaustively():
    """All ~500 single substitutions (alphabet, old check symbols, O I L) and all 12 adjacent swaps
    of each sample code, compact and grouped."""
    for number in SAMPLE_NUMBERS:
        code = code_from_number(number)
        assert parse(code).code == code
        count = 0
        for typed in typos(code):
            assert parse(typed).error == codes.MISTYPED, (code, typed)
            assert parse(codes.grouped(typed)).error == codes.MISTYPED
            count += 1
        assert count > 13 * 31


@given(st.integers(min_value=0, max_value=2**60 - 1))
def test_every_single_typo_and_adjacent_swap_is_mistyped(number):
    code = code_from_number(number)
    assert parse(code).code == code
    for typed in typos(code):
        result = parse(typed)
        assert result.error == codes.MISTYPED, (code, typed)
        # And in the grouped form people read.
        assert parse(codes.grouped(typed)).error == codes.MISTYPED


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
    assert parse("".join(swapped)).error == codes.MISTYPED


# --- Codes issued with the old mod-37 check -------------------------------------------------------


def test_an_old_code_is_valid_only_if_it_was_issued():
    # An old code whose check is one of the old extra symbols, and one whose check is not Damm's.
    star = next(old_code_from_number(n) for n in range(1000) if old_code_from_number(n)[-1] in "*~$=U")
    plain = next(
        old_code_from_number(n)
        for n in range(1000)
        if old_code_from_number(n)[-1] in VALID and not codes.damm_valid(old_code_from_number(n))
    )
    for old in (star, plain):
        assert read(old, (star, plain)).code == old
        assert read(codes.grouped(old).lower(), (star, plain)).code == old
        # The same string, never issued: the old check alone is not enough.
        assert parse(old).error == codes.MISTYPED


def test_old_check_still_detects_all_errors_exhaustively():
    """The proof of the mod-37 check (module docstring), kept for the codes issued with it."""
    zeros = ["0"] * codes.DATA_LENGTH
    for position in range(codes.DATA_LENGTH):
        for a, b in itertools.permutations(codes.ALPHABET, 2):
            original = zeros.copy()
            original[position] = a
            substituted = zeros.copy()
            substituted[position] = b
            assert codes.legacy_check_symbol("".join(original)) != codes.legacy_check_symbol("".join(substituted))
            if position + 1 < codes.DATA_LENGTH:
                original[position + 1] = b
                substituted[position + 1] = a
                assert codes.legacy_check_symbol("".join(original)) != codes.legacy_check_symbol("".join(substituted))


def test_legacy_neighbours_are_exactly_the_typos_with_a_right_old_check():
    sizes = []
    for code in [code_from_number(n) for n in SAMPLE_NUMBERS] + [old_code_from_number(n) for n in SAMPLE_NUMBERS]:
        by_trying = {
            typed
            for typed in typos(code)
            if typed == codes.normalise(typed)
            and all(s in VALID for s in typed[:12])
            and typed[12] in codes.CHECK_ALPHABET
            and codes.legacy_check_symbol(typed[:12]) == typed[12]
        }
        assert codes.legacy_neighbours(code) == by_trying, code
        sizes.append(len(by_trying))
    assert max(sizes) <= 25 and sum(sizes) >= 5 * len(sizes)  # a few per code: one small query


def test_every_typo_of_issued_old_codes_is_mistyped_exhaustively():
    """A typo of an old code often satisfies Damm's check (once per position): it is still read as
    a typo, because it lies one typo away from an issued old code."""
    issued = [old_code_from_number(n) for n in SAMPLE_NUMBERS]
    damm_valid_typos = 0
    for code in issued:
        assert read(code, issued).code == code
        for typed in typos(code):
            assert read(typed, issued).error == codes.MISTYPED, (code, typed)
            damm_valid_typos += codes.damm_valid(codes.normalise(typed))
    assert damm_valid_typos >= 10 * len(issued)  # about 12 a code: the danger is real, and handled


@given(st.integers(min_value=0, max_value=2**60 - 1))
def test_every_typo_of_an_issued_old_code_is_mistyped(number):
    code = old_code_from_number(number)
    issued = (code,)
    assert read(code, issued).code == code
    for typed in typos(code):
        assert read(typed, issued).error == codes.MISTYPED, (code, typed)


def test_specimen_codes_match_neither_check():
    for number in range(1, 500):
        code = codes.specimen(number)
        assert code[-1] in VALID
        assert codes.parse(code).error == codes.MISTYPED


@given(st.integers(min_value=0, max_value=2**60 - 1), st.sampled_from(codes.CHECK_ALPHABET))
def test_legacy_neighbours_by_arithmetic_match_trying_every_typo(number, check):
    code = data_from_number(number) + check
    by_trying = {
        typed
        for typed in typos(code)
        if typed == codes.normalise(typed)
        and all(s in VALID for s in typed[:12])
        and codes.legacy_check_symbol(typed[:12]) == typed[12]
    }
    assert codes.legacy_neighbours(code) == by_trying
