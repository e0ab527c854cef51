"""Code normalisation (codes.py), as a property: however a code is written — any dash,
spaces or none, full-width characters, lower case — it has one key, and the printed form
parses back to it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanjia.standards.codes import CODE_IN_TEXT, code_key, parse_code
from guanjia.standards.parsing import normalize_line

PREFIXES = ["GB", "GB/T", "GB/Z", "DB50", "DB50/T", "DB5101/T", "JT/T", "JGJ", "T/CQJG", "Q/DZJG"]
DASHES = ["—", "–", "-", "－", "‐", "−"]
FULL = str.maketrans(
    {
        **{chr(0x30 + i): chr(0xFF10 + i) for i in range(10)},
        **{chr(0x41 + i): chr(0xFF21 + i) for i in range(26)},
        "/": "／",
        " ": "\u3000",
    }
)


@st.composite
def written(draw):
    prefix = draw(st.sampled_from(PREFIXES))
    number = str(draw(st.integers(1, 99999)))
    year = draw(st.one_of(st.none(), st.integers(1980, 2035)))
    space = draw(st.sampled_from(["", " ", "  ", "\u3000"]))
    text = prefix.replace("/", draw(st.sampled_from(["/", " / ", "／"]))) + space + number
    if year:
        dash = draw(st.sampled_from(DASHES))
        text += draw(st.sampled_from(["", " "])) + dash + draw(st.sampled_from(["", " "]))
        text += str(year)
    if draw(st.booleans()):
        text = text.translate(FULL)
    if draw(st.booleans()):
        text = text.lower()
    canonical = f"{prefix}{number}" + (f"-{year}" if year else "")
    return text, canonical


@given(written())
def test_every_written_form_has_the_one_key(case):
    text, canonical = case
    assert code_key(text) == canonical
    code = parse_code(text)
    assert code_key(code.display) == canonical
    assert parse_code(code.undated_key).key == code.undated_key


@given(written())
def test_codes_are_found_in_running_text_as_the_reader_normalises_it(case):
    text, canonical = case
    sentence = normalize_line(f"本文件代替{text}《某规范》。").upper()
    m = CODE_IN_TEXT.search(sentence)
    assert m is not None and code_key(m.group(0)) == canonical


@pytest.mark.parametrize(
    ("text", "level", "mandatory", "region"),
    [
        ("GB 31654—2021", "national", True, None),
        ("GB/T 2589—2020", "national", False, None),
        ("DB50/T 9001—2022", "local", False, "500000"),
        ("DB5101/T 21—2020", "local", False, "510100"),
        ("JT/T 808—2019", "industry", False, None),
        ("T/CQJG 9001—2024", "group", False, None),
    ],
)
def test_what_a_code_says(text, level, mandatory, region):
    code = parse_code(text)
    assert (code.level, code.mandatory, code.region_code) == (level, mandatory, region)
