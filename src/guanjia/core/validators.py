"""Validators for Chinese administrative identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O, S, V, Z);
# position 18 is a check character computed with these weights, modulo 31.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(_("统一社会信用代码应为18位"), code="uscc_length")
    if any(c not in USCC_ALPHABET for c in code):
        raise ValidationError(
            _("统一社会信用代码含有非法字符（不使用 I、O、S、V、Z）"), code="uscc_alphabet"
        )
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位错误"), code="uscc_check")


def validate_region_code(value: str) -> None:
    # isascii(): str.isdigit() also accepts full-width digits ("５００１１１"), which an IME
    # types easily and which are not a GB/T 2260 code.
    if len(value) != 6 or not (value.isascii() and value.isdigit()):
        raise ValidationError(_("行政区划代码应为6位数字（GB/T 2260）"), code="region_code")
