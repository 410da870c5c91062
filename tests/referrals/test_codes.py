import math

from hypothesis import given
from hypothesis import strategies as st

from referrals import codes


def test_it_makes_codes_with_at_least_60_random_bits():
    assert math.log2(len(codes.ALPHABET)) * codes.LENGTH >= 60
    made = {codes.new_code() for _ in range(2000)}
    assert len(made) == 2000
    assert all(codes.is_well_formed(code) for code in made)


def test_it_avoids_look_alike_characters():
    assert not set("ILOU") & set(codes.ALPHABET)


def test_it_shows_codes_in_groups_of_five():
    assert codes.display("ABCDEFGHJKMNPQR") == "ABCDE-FGHJK-MNPQR"


@given(st.text(alphabet=codes.ALPHABET, min_size=codes.LENGTH, max_size=codes.LENGTH))
def test_typed_back_variants_normalize_to_the_code(code):
    shown = codes.display(code)
    for typed in (shown, shown.lower(), shown.replace("-", " "), f"  {code.lower()} "):
        assert codes.normalize(typed) == code


def test_it_reads_letter_o_as_zero_and_i_l_as_one():
    assert codes.normalize("OIL") == "011"
    assert codes.normalize("o1l-Io") == "01110"


def test_dashes_of_every_kind_are_forgiven_like_hyphens():
    from referrals import codes

    canonical = "ABCDE0123456789"
    for dash in ("-", "\u2013", "\u2014", "\u2011", "\u2212"):
        assert codes.normalize(f"abcde{dash}01234{dash}56789") == canonical
