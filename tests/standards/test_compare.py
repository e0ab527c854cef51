"""比对: properties (a standard against itself, renumbering), the fixture against an edited
copy, numbers side by side, diffs, ordering, speed."""

import copy
import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from guanjia.standards.compare import char_diff, compare, number_changes
from guanjia.standards.document import ClauseDoc, StandardDoc

from .textdoc import fixture_text, load_fixture, parse_text

# -- generated standards --------------------------------------------------------------------

WORDS = "食堂应建立反浪费制度明确责任人记录保存不少于年预估偏差率宜超过采购询价供应商家光盘率低于"
texts = st.text(alphabet=WORDS + "0123456789%，。", min_size=1, max_size=40)
# Chapters (title, clause texts); texts may repeat, as real standards' short clauses do.
chapters = st.lists(
    st.tuples(st.text(alphabet=WORDS, min_size=2, max_size=8), st.lists(texts, max_size=6)),
    min_size=1,
    max_size=8,
)


@st.composite
def distinct_chapters(draw):
    """Chapters whose titles and texts are all different from each other."""
    words = draw(st.lists(texts, min_size=1, max_size=40, unique=True))
    sizes = draw(st.lists(st.integers(0, 6), min_size=1, max_size=8))
    result, at = [], 0
    for size in sizes:
        if at >= len(words):
            break
        result.append((words[at], words[at + 1 : at + 1 + size]))
        at += 1 + size
    return result


def build(chapter_list, first=4, gap_after=None, gap=0, code="DB50/T 1—2024") -> StandardDoc:
    """Chapters numbered from `first`; after chapter index `gap_after`, `gap` numbers are
    skipped (a chapter inserted, or several)."""
    clauses = []
    number = first
    for n, (title, items) in enumerate(chapter_list):
        clauses.append(ClauseDoc(str(number), title, "", "heading"))
        clauses += [
            ClauseDoc(f"{number}.{k}", "", t, "requirement") for k, t in enumerate(items, 1)
        ]
        number += 1 + (gap if n == gap_after else 0)
    return StandardDoc(code=code, title="生成的标准", clauses=clauses)


@settings(max_examples=150, deadline=None)
@given(chapters)
def test_compare_with_itself_is_all_same(chapter_list):
    doc = build(chapter_list)
    result = compare(doc, copy.deepcopy(doc))
    assert [p.status for p in result.pairs] == ["same"] * len(doc.clauses)
    assert all(p.a_number == p.b_number and p.similarity == 1.0 for p in result.pairs)
    assert all(not p.numbers and not p.diff for p in result.pairs)


@settings(max_examples=150, deadline=None)
@given(distinct_chapters(), st.integers(min_value=1, max_value=5))
def test_compare_shifted_numbers_only_moved(chapter_list, offset):
    a, b = build(chapter_list), build(chapter_list, first=4 + offset)
    result = compare(a, b)
    assert {p.status for p in result.pairs} == {"moved"}
    _assert_renumbering_only(a, b, result)
    # Each clause found at exactly its new number.
    assert all(
        p.b_number.split(".", 1)[0] == str(int(p.a_number.split(".", 1)[0]) + offset)
        and p.b_number.partition(".")[2] == p.a_number.partition(".")[2]
        for p in result.pairs
    )


@settings(max_examples=150, deadline=None)
@given(chapters, st.integers(min_value=1, max_value=5))
def test_compare_shifted_numbers_with_repeated_texts_only_moved_or_same(chapter_list, offset):
    """With repeated texts, a clause may pair with an identical one that now has its old
    number: that is "same", and nothing is ever added, removed or changed."""
    a, b = build(chapter_list), build(chapter_list, first=4 + offset)
    result = compare(a, b)
    _assert_renumbering_only(a, b, result)
    for pair in result.pairs:
        assert pair.status == ("same" if pair.a_number == pair.b_number else "moved")


@settings(max_examples=150, deadline=None)
@given(distinct_chapters(), st.data())
def test_compare_inserted_chapter_number_only_moved_and_same(chapter_list, data):
    gap_after = data.draw(st.integers(min_value=0, max_value=len(chapter_list) - 1))
    a, b = build(chapter_list), build(chapter_list, gap_after=gap_after, gap=1)
    result = compare(a, b)
    _assert_renumbering_only(a, b, result)
    for pair in result.pairs:
        assert pair.status == ("same" if pair.a_number == pair.b_number else "moved")
    # Everything up to the inserted number keeps its number and is the same.
    kept = sum(1 + len(items) for _t, items in chapter_list[: gap_after + 1])
    assert [p.status for p in result.pairs[:kept]] == ["same"] * kept


def _assert_renumbering_only(a, b, result):
    assert len(result.pairs) == len(a.clauses) == len(b.clauses)
    assert {p.status for p in result.pairs} <= {"same", "moved"}
    assert all(p.similarity == 1.0 and p.a_text == p.b_text for p in result.pairs)
    assert sorted(p.a_number for p in result.pairs) == sorted(c.number for c in a.clauses)
    assert [p.b_number for p in result.pairs] == [c.number for c in b.clauses]


@settings(max_examples=100, deadline=None)
@given(chapters, st.randoms(use_true_random=False))
def test_compare_shuffled_chapters_only_moved_or_same(chapter_list, rnd):
    """Chapters moved about (renumbered in their new order): content is all found again."""
    shuffled = list(chapter_list)
    rnd.shuffle(shuffled)
    a, b = build(chapter_list), build(shuffled)
    result = compare(a, b)
    assert {p.status for p in result.pairs} <= {"same", "moved"}
    assert all(p.a_text == p.b_text for p in result.pairs)


# -- the fixture against an edited copy -----------------------------------------------------

FIXTURE = "DB50-T-9001-2022.txt"


def edited_fixture() -> StandardDoc:
    """7.2 150 → 120 克每人次; 8.1 removed; a new 5.2 added, so 5.2 → 5.3 and 5.3 → 5.4."""
    text = fixture_text(FIXTURE)
    edits = [
        ("不应超过150克每人次", "不应超过120克每人次"),
        ("8.1 就餐区应设置反食品浪费宣传标识。\n", ""),
        ("5.3 过期食材", "5.4 过期食材"),
        ("5.2 食材库存", "5.3 食材库存"),
        (
            "询价供应商不少于3家。\n",
            "询价供应商不少于3家。\n5.2 食材采购宜优先选用本地应季食材。\n",
        ),
    ]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_text(text)


def test_compare_fixture_with_edited_copy():
    a, b = load_fixture(FIXTURE), edited_fixture()
    result = compare(a, b)
    differences = [
        (p.status, p.a_number, p.b_number, p.similarity, [n.to_dict() for n in p.numbers])
        for p in result.pairs
        if p.status != "same"
    ]
    assert differences == [
        ("added", None, "5.2", None, []),
        ("moved", "5.2", "5.3", 1.0, []),
        ("moved", "5.3", "5.4", 1.0, []),
        ("changed", "7.2", "7.2", 0.9474, [{"a": 150, "b": 120, "unit": "克每人次"}]),
        ("removed", "8.1", None, None, []),
    ]
    counts = result.counts
    assert counts == {
        "same": len(a.clauses) - 4,
        "changed": 1,
        "moved": 2,
        "added": 1,
        "removed": 1,
    }
    # b's order; 8.1 right after chapter 8, its predecessor in a.
    order = [(p.a_number, p.b_number) for p in result.pairs]
    assert order[order.index(("8", "8")) + 1] == ("8.1", None)
    assert order[order.index(("8", "8")) + 2] == ("8.2", "8.2")
    changed = next(p for p in result.pairs if p.status == "changed")
    assert changed.a_text == "人均餐厨垃圾量不应超过150克每人次。"
    assert changed.b_text == "人均餐厨垃圾量不应超过120克每人次。"
    assert changed.diff == [
        {"op": "equal", "a": "人均餐厨垃圾量不应超过1", "b": "人均餐厨垃圾量不应超过1"},
        {"op": "replace", "a": "5", "b": "2"},
        {"op": "equal", "a": "0克每人次。", "b": "0克每人次。"},
    ]


def test_compare_json_contract():
    body = compare(load_fixture(FIXTURE), edited_fixture()).to_dict()
    assert body["a"] == body["b"] == "DB50/T 9001—2022"
    for pair in body["pairs"]:
        assert {
            "status",
            "a_number",
            "b_number",
            "a_text",
            "b_text",
            "similarity",
            "numbers",
        } <= set(pair)
        for n in pair["numbers"]:
            assert set(n) == {"a", "b", "unit"}


def test_compare_moved_and_changed_is_moved_with_diff():
    a = StandardDoc("A", "a", clauses=[
        ClauseDoc("4", "基本要求"),
        ClauseDoc("4.1", "", "食堂应建立反食品浪费工作制度，明确责任人。"),
        ClauseDoc("4.2", "", "人均用水量不应超过20升。"),
    ])  # fmt: skip
    b = StandardDoc("B", "b", clauses=[
        ClauseDoc("4", "基本要求"),
        ClauseDoc("4.1", "", "食堂应建立反食品浪费工作制度，明确责任人。"),
        ClauseDoc("4.2", "", "节约用水宣传标识应张贴在醒目位置。"),
        ClauseDoc("4.3", "", "人均用水量不应超过18升。"),
    ])  # fmt: skip
    pairs = compare(a, b).pairs
    assert [(p.status, p.a_number, p.b_number) for p in pairs] == [
        ("same", "4", "4"),
        ("same", "4.1", "4.1"),
        ("added", None, "4.2"),
        ("moved", "4.2", "4.3"),
    ]
    moved = pairs[-1]
    assert 0.7 <= moved.similarity < 1
    assert [n.to_dict() for n in moved.numbers] == [{"a": 20, "b": 18, "unit": "升"}]
    assert any(op["op"] != "equal" for op in moved.diff)


def test_compare_two_regions_pairs_chapters_by_title():
    """Two regions' standards on different subjects: the mandatory chapters pair up as
    changed (same number, same title), the rest is added and removed."""
    a, b = load_fixture(FIXTURE), load_fixture("DB51-T-9002-2021.txt")
    result = compare(a, b)
    head = [(p.status, p.a_number, p.b_number) for p in result.pairs[:3]]
    assert head == [("changed", "1", "1"), ("changed", "2", "2"), ("changed", "3", "3")]
    assert result.counts["same"] == 0
    assert result.counts["added"] + result.counts["changed"] + result.counts["moved"] == len(
        b.clauses
    )


def test_compare_removed_first_clause_goes_first():
    a = StandardDoc("A", "a", clauses=[ClauseDoc("1", "范围", "旧范围"), ClauseDoc("2", "要求")])
    b = StandardDoc("B", "b", clauses=[ClauseDoc("2", "要求")])
    assert [(p.status, p.a_number) for p in compare(a, b).pairs] == [
        ("removed", "1"),
        ("same", "2"),
    ]


def test_compare_normalises_full_width_and_spaces():
    a = StandardDoc("A", "a", clauses=[ClauseDoc("4.1", "", "光盘率不应低于８５％。")])
    b = StandardDoc("B", "b", clauses=[ClauseDoc("4.1", "", "光盘率 不应低于 85%。")])
    assert compare(a, b).pairs[0].status == "same"


# -- numbers and diffs ----------------------------------------------------------------------


def _numbers(a, b):
    return [n.to_dict() for n in number_changes(a, b)]


def test_number_changes_with_units():
    assert _numbers("人均用水量 20 升", "人均用水量 18 升") == [{"a": 20, "b": 18, "unit": "升"}]
    assert _numbers("询价供应商不少于3家", "询价供应商不少于5家") == [
        {"a": 3, "b": 5, "unit": "家"}
    ]
    assert _numbers("光盘率不应低于85%", "光盘率不应低于90%") == [{"a": 85, "b": 90, "unit": "%"}]
    assert _numbers("不应超过150克每人次", "不应超过120克每人次") == [
        {"a": 150, "b": 120, "unit": "克每人次"}
    ]
    assert _numbers(
        "排气量不应超过1.6升，价格不应超过12万元", "排气量不应超过1.8升，价格不应超过12万元"
    ) == [{"a": 1.6, "b": 1.8, "unit": "升"}]
    # A number that appears on one side only.
    assert _numbers("保存2年", "保存2年，抽查不少于3次") == [{"a": None, "b": 3, "unit": "次"}]
    # Full-width digits are digits.
    assert _numbers("不低于８５％", "不低于90%") == [{"a": 85, "b": 90, "unit": "%"}]


def test_number_changes_ignore_codes_dates_and_clause_references():
    a = "终端应符合JT/T 808—2019的要求，按5.3.1执行，自2022-06-01起，间隔不应大于30秒"
    b = "终端应符合JT/T 808—2023的要求，按5.3.2执行，自2023-01-01起，间隔不应大于10秒"
    assert _numbers(a, b) == [{"a": 30, "b": 10, "unit": "秒"}]


def test_char_diff_reassembles_both_texts():
    a, b = "食材库存周转天数不应超过7天。", "食材库存周转天数不宜超过10天。"
    ops = char_diff(a, b)
    assert "".join(o["a"] for o in ops) == a and "".join(o["b"] for o in ops) == b
    assert {o["op"] for o in ops} <= {"equal", "insert", "delete", "replace"}


# -- speed ----------------------------------------------------------------------------------


def generated(n: int, seed: int) -> StandardDoc:
    rnd = random.Random(seed)
    clauses = []
    for chapter in range(1, 26):
        clauses.append(ClauseDoc(str(chapter), "".join(rnd.choices(WORDS, k=6)), "", "heading"))
        for k in range(1, n // 25):
            text = (
                "".join(rnd.choices(WORDS, k=rnd.randint(20, 60)))
                + f"不少于{rnd.randint(1, 99)}家。"
            )
            clauses.append(ClauseDoc(f"{chapter}.{k}", "", text, "requirement"))
    return StandardDoc(f"DB50/T {seed}—2024", "生成", clauses=clauses)


def test_compare_two_500_clause_standards_fast():
    a = generated(500, 1)
    b = copy.deepcopy(a)
    rnd = random.Random(2)
    for clause in rnd.sample(b.clauses, 60):  # edited
        clause.text = clause.text.replace("不少于", "不低于")
    for clause in b.clauses[200:]:  # a chapter inserted before chapter 9
        if clause.number:
            head, _sep, rest = clause.number.partition(".")
            clause.number = str(int(head) + 1) + (f".{rest}" if rest else "")
    del b.clauses[100:110]
    b.clauses[300:300] = generated(50, 3).clauses[1:20]  # new text
    unrelated = generated(500, 4)
    for other in (b, unrelated):
        started = time.perf_counter()
        result = compare(a, other)
        elapsed = time.perf_counter() - started
        assert elapsed <= 0.5, f"{elapsed:.3f} s"
        assert len([p for p in result.pairs if p.a_number is not None]) == len(a.clauses)
        assert len([p for p in result.pairs if p.b_number is not None]) == len(other.clauses)
