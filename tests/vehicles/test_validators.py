"""Plates (GA 36-2018), VINs (GB 16735 check digit) and terminal keys (JT/T 808)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from guanjia.vehicles.validators import (
    PROVINCES,
    VIN_ALPHABET,
    normalize_plate,
    plate_kind,
    terminal_key,
    validate_plate,
    validate_vin,
    vin_check_digit,
)

SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
vin_bodies = st.text(alphabet=VIN_ALPHABET, min_size=17, max_size=17)


def with_check_digit(raw: str) -> str:
    return raw[:8] + vin_check_digit(raw) + raw[9:]


# -- VIN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vin",
    ["1M8GDM9AXKP042788", "11111111111111111"],
)
def test_known_vins_validate(vin):
    assert validate_vin(vin) == vin


def test_known_vin_with_wrong_check_digit_names_the_expected_one():
    with pytest.raises(ValidationError, match=r"校验位.*应为X"):
        validate_vin("1M8GDM9A1KP042788")


@given(vin_bodies)
def test_vin_with_computed_check_digit_validates(raw):
    vin = with_check_digit(raw)
    assert validate_vin(vin.lower()) == vin


@given(vin_bodies, st.integers(0, 16), st.sampled_from(VIN_ALPHABET))
def test_changing_one_character_breaks_the_check(raw, pos, char):
    vin = with_check_digit(raw)
    changed = vin[:pos] + char + vin[pos + 1 :]
    if changed == vin:
        return
    # Weight-0 position 9 holds the check itself; every other position has a weight
    # coprime to 11, so a different value changes the sum mod 11 — unless two letters
    # share a transliteration value (A and J are both 1).
    from guanjia.vehicles.validators import VIN_VALUES

    if pos != 8 and VIN_VALUES[changed[pos]] == VIN_VALUES[vin[pos]]:
        assert validate_vin(changed) == changed
        return
    with pytest.raises(ValidationError):
        validate_vin(changed)


@given(vin_bodies, st.integers(0, 16), st.sampled_from("IOQ"))
def test_i_o_q_are_never_allowed(raw, pos, char):
    vin = with_check_digit(raw)
    with pytest.raises(ValidationError, match="I、O、Q"):
        validate_vin(vin[:pos] + char + vin[pos + 1 :])


@given(st.text(alphabet=VIN_ALPHABET).filter(lambda s: len(s) != 17))
def test_vins_not_17_long_are_refused(text):
    with pytest.raises(ValidationError):
        validate_vin(text)


# -- plates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,plate,kind",
    [
        ("川A12345", "川A12345", "ordinary"),
        ("渝a·b7c29", "渝AB7C29", "ordinary"),
        ("川Ａ１２３４５", "川A12345", "ordinary"),
        (" 渝A 1234警 ", "渝A1234警", "ordinary"),
        ("川AD12345", "川AD12345", "new_energy"),
        ("渝bfa1234", "渝BFA1234", "new_energy"),
        ("川A12345D", "川A12345D", "new_energy"),
    ],
)
def test_plates_normalise_and_validate(text, plate, kind):
    assert validate_plate(text) == plate
    assert plate_kind(plate) == kind


@pytest.mark.parametrize(
    "text,reason",
    [
        ("AA12345", "省份简称"),
        ("川A1234", "长度"),
        ("川A123456", "新能源"),  # 8 characters without D/F is no NEV plate
        ("川112345", "发牌机关"),
        ("川A1234O", "I和O"),
        ("川AI2345", "I和O"),
        ("川AX12345", "新能源"),  # small NEV serial must start with D or F
        ("川AD1234A", "新能源"),  # last four digits
        ("川A1234DF", "新能源"),
        ("使012345", "省份简称"),
    ],
)
def test_bad_plates_are_refused_with_the_reason(text, reason):
    with pytest.raises(ValidationError, match=reason):
        validate_plate(text)


@given(
    st.sampled_from(PROVINCES),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.text(alphabet=SERIAL, min_size=5, max_size=5),
)
def test_every_ordinary_plate_validates(province, authority, serial):
    plate = province + authority + serial
    assert validate_plate(plate.lower()) == plate
    assert plate_kind(plate) == "ordinary"


@given(
    st.sampled_from(PROVINCES),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.sampled_from("DF"),
    st.sampled_from(SERIAL),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
def test_small_nev_plates_validate(province, authority, df, second, digits):
    plate = province + authority + df + second + digits
    assert validate_plate(plate) == plate
    assert plate_kind(plate) == "new_energy"


@given(
    st.text(alphabet=SERIAL + "IO", min_size=5, max_size=5).filter(lambda s: "I" in s or "O" in s)
)
def test_serials_with_i_or_o_never_validate(serial):
    with pytest.raises(ValidationError):
        validate_plate("川A" + serial)


def test_normalize_plate_is_idempotent():
    assert normalize_plate(normalize_plate("川ａ－１２３４５")) == "川A12345"


# -- terminals ------------------------------------------------------------------------------


def test_2013_and_2019_terminal_numbers_share_a_key():
    assert terminal_key("013800231001") == terminal_key("00000000013800231001") == "13800231001"


@given(st.text(alphabet="0123456789", min_size=1, max_size=12).filter(lambda s: s.strip("0")))
def test_padding_with_zeros_to_20_digits_keeps_the_key(digits):
    assert terminal_key(digits) == terminal_key(digits.rjust(20, "0")) == digits.lstrip("0")


@pytest.mark.parametrize("bad", ["1380023100a", "1" * 21, "0000", "+8613800231001"])
def test_bad_terminal_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        terminal_key(bad)


def test_no_terminal_is_an_empty_key():
    assert terminal_key("") == terminal_key("  ") == ""
