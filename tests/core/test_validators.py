"""GB 32100-2015 unified social credit codes and GB/T 2260 region codes."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from guanjia.core import services
from guanjia.core.validators import (
    USCC_ALPHABET,
    uscc_check_character,
    validate_region_code,
    validate_uscc,
)

from .conftest import call

# Published codes, found in public sources (government portals and company registrations).
REAL_CODES = {
    "111000000000131433": "中华人民共和国民政部",
    "11100000MB0143028R": "国家市场监督管理总局",
    "914403001922038216": "华为技术有限公司",
    "9144030071526726XG": "腾讯科技（深圳）有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_codes_are_valid(code):
    validate_uscc(code)
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_any_single_character_change_is_caught(code):
    for i, original in enumerate(code):
        for other in USCC_ALPHABET:
            if other == original:
                continue
            changed = code[:i] + other + code[i + 1 :]
            with pytest.raises(ValidationError):
                validate_uscc(changed)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "uscc_length"),
        ("91440300192203821", "uscc_length"),
        ("9144030019220382166", "uscc_length"),
        ("91440300I92203821X", "uscc_alphabet"),  # I is not used
        ("91440300O92203821X", "uscc_alphabet"),
        ("9144030019220382S6", "uscc_alphabet"),
        ("91440300192203821-", "uscc_alphabet"),
        ("914403001922038217", "uscc_check"),
    ],
)
def test_malformed_codes_name_what_is_wrong(value, error):
    with pytest.raises(ValidationError) as e:
        validate_uscc(value)
    assert e.value.code == error


def test_a_transposition_is_caught():
    code = "914403001922038216"
    swapped = code[:9] + code[10] + code[9] + code[11:]
    assert swapped != code
    with pytest.raises(ValidationError):
        validate_uscc(swapped)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_check_character_property(first17):
    check = uscc_check_character(first17)
    assert check in USCC_ALPHABET
    validate_uscc(first17 + check)
    for other in USCC_ALPHABET:
        if other != check:
            with pytest.raises(ValidationError):
                validate_uscc(first17 + other)


@pytest.mark.parametrize("code", ["500111", "510104", "110000"])
def test_region_codes(code):
    validate_region_code(code)


@pytest.mark.parametrize("code", ["", "50011", "5001111", "50011a", "５００１１１"])
def test_bad_region_codes(code):
    with pytest.raises(ValidationError):
        validate_region_code(code)


def test_agency_rejects_a_bad_credit_code(world, regions):
    with pytest.raises(ValidationError):
        services.create_agency(
            None, name="错误代码单位", region=regions["500111"], credit_code="914403001922038217"
        )
    agency = services.create_agency(
        None, name="华为（测试）", region=regions["500111"], credit_code="914403001922038216"
    )
    assert agency.credit_code == "914403001922038216"


def test_api_answers_422_for_a_bad_credit_code(users, world):
    from ..conftest import api_client

    client = api_client(users["agency_and_below"])
    body = {
        "name": "大足区新单位",
        "region": "500111",
        "parent_id": world["A"].pk,
        "credit_code": "111000000000131434",
    }
    r = call(client, "POST", "/api/v1/agencies", body)
    assert r.status_code == 422, r.content
    assert "credit_code" in r.json()["detail"]
    body["credit_code"] = "111000000000131433"
    assert call(client, "POST", "/api/v1/agencies", body).status_code == 201
