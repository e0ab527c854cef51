"""Plates, VINs and terminal numbers: normalisation and validation.

* **Plates** (GA 36-2018《中华人民共和国机动车号牌》): province abbreviation (one of the 31
  provinces, autonomous regions and municipalities of the mainland) + the issuing authority's
  letter + a serial. Ordinary plates (7 characters) carry a 5-character serial of digits and
  letters without I and O, or a 4-character serial and a suffix (警 police, 学 coach, 挂
  trailer, 领 consulate, 试 test, 超 oversize, 港/澳 cross-border). New-energy plates (8
  characters) carry a 6-character serial: small cars D (pure electric) or F (not pure
  electric) first, then a letter or digit, then four digits; large vehicles five digits,
  then D or F. Embassy plates (使 + digits) are not official cars of an agency and are not
  accepted.
* **VIN** (GB 16735-2019 / ISO 3779): 17 characters, digits and letters without I, O, Q;
  position 9 is the check digit (weights 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2, letters
  transliterated, sum mod 11, 10 written X) — mandatory for vehicles registered in China.
* **Terminal numbers** (JT/T 808): 2013 terminals send 12 BCD digits, 2019 terminals 20;
  both name the same SIM, so the key is the number without leading zeros.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SUFFIXES = "警学挂领试超港澳"
_LETTER = "A-HJ-NP-Z"  # no I, no O
_SERIAL = f"[{_LETTER}0-9]"
ORDINARY_PLATE = re.compile(
    rf"^[{PROVINCES}][A-HJ-Z](?:{_SERIAL}{{5}}|{_SERIAL}{{4}}[{PLATE_SUFFIXES}])$"
)
# Small NEV: D/F + letter-or-digit + 4 digits; large NEV: 5 digits + D/F.
NEV_PLATE = re.compile(rf"^[{PROVINCES}][A-HJ-Z](?:[DF]{_SERIAL}\d{{4}}|\d{{5}}[DF])$")

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_RE = re.compile(r"^[0-9A-HJ-NPR-Z]{17}$")
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_VALUES = {str(d): d for d in range(10)} | {
    letter: value
    for letters, value in (
        ("AJ", 1),
        ("BKS", 2),
        ("CLT", 3),
        ("DMU", 4),
        ("ENV", 5),
        ("FW", 6),
        ("GPX", 7),
        ("HY", 8),
        ("RZ", 9),
    )
    for letter in letters
}

TERMINAL_MAX_DIGITS = 20


def _halfwidth(text: str) -> str:
    """Full-width letters and digits (Ａ１) to ASCII; spaces and separators removed."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s·•・.\-_]", "", text)


# -- plates ---------------------------------------------------------------------------------


def normalize_plate(text: str) -> str:
    """`川a·12345`, `川Ａ１２３４５`, ` 川A 12345 ` → `川A12345`."""
    return _halfwidth(text).upper()


def plate_kind(plate: str) -> str | None:
    """ "ordinary", "new_energy" or None for a normalised plate."""
    if ORDINARY_PLATE.match(plate):
        return "ordinary"
    if NEV_PLATE.match(plate):
        return "new_energy"
    return None


def validate_plate(text: str) -> str:
    """The normalised plate, or ValidationError with the reason in Chinese."""
    plate = normalize_plate(text)
    if not plate:
        raise ValidationError(_("车牌号不能为空"), code="required")
    if plate[0] not in PROVINCES:
        raise ValidationError(
            _("车牌号“%(p)s”应以省份简称开头（如 川、渝）") % {"p": plate}, code="province"
        )
    if len(plate) not in (7, 8):
        raise ValidationError(
            _("车牌号“%(p)s”长度应为7位（普通号牌）或8位（新能源号牌）") % {"p": plate},
            code="length",
        )
    if not re.match(r"^.[A-Z]", plate):
        raise ValidationError(
            _("车牌号“%(p)s”第二位应为发牌机关代号字母") % {"p": plate}, code="authority"
        )
    if plate_kind(plate) is None:
        if len(plate) == 8:
            message = _(
                "新能源号牌“%(p)s”不符合编码规则：小型车序号首位为D或F、末四位为数字，"
                "大型车前五位为数字、末位为D或F"
            )
        elif re.search("[IO]", plate[2:]):
            message = _("车牌号“%(p)s”的序号中不使用字母I和O")
        else:
            message = _("车牌号“%(p)s”不符合号牌编码规则（序号为5位字母或数字）")
        raise ValidationError(message % {"p": plate}, code="format")
    return plate


# -- VIN ------------------------------------------------------------------------------------


def normalize_vin(text: str) -> str:
    return _halfwidth(text).upper()


def vin_check_digit(vin: str) -> str:
    """The check character for position 9 of a 17-character VIN (position 9 itself is
    ignored: its weight is 0)."""
    total = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(text: str) -> str:
    vin = normalize_vin(text)
    if not vin:
        raise ValidationError(_("车架号不能为空"), code="required")
    if len(vin) != 17:
        raise ValidationError(
            _("车架号“%(v)s”应为17位（现为%(n)d位）") % {"v": vin, "n": len(vin)}, code="length"
        )
    if not VIN_RE.match(vin):
        raise ValidationError(
            _("车架号“%(v)s”只能由数字和字母组成，且不使用字母I、O、Q") % {"v": vin},
            code="characters",
        )
    expected = vin_check_digit(vin)
    if vin[8] != expected:
        raise ValidationError(
            _("车架号“%(v)s”校验位（第9位）应为%(e)s，实为%(a)s（GB 16735）")
            % {"v": vin, "e": expected, "a": vin[8]},
            code="check_digit",
        )
    return vin


# -- terminal numbers -----------------------------------------------------------------------


def terminal_key(text: str) -> str:
    """The lookup key of a JT/T 808 terminal number: digits without leading zeros
    (`013800231001` and `00000000013800231001` → `13800231001`); "" for no number."""
    digits = _halfwidth(text)
    if not digits:
        return ""
    if not digits.isdigit() or not digits.isascii():
        raise ValidationError(
            _("终端手机号“%(t)s”只能包含数字") % {"t": text}, code="terminal_digits"
        )
    if len(digits) > TERMINAL_MAX_DIGITS:
        raise ValidationError(_("终端手机号“%(t)s”超过20位") % {"t": text}, code="terminal_length")
    key = digits.lstrip("0")
    if not key:
        raise ValidationError(_("终端手机号不能全为0"), code="terminal_zero")
    return key


def normalize_terminal(text: str) -> tuple[str, str]:
    """(the number as given, digits only; its key)."""
    key = terminal_key(text)
    return (_halfwidth(text) if key else ""), key
