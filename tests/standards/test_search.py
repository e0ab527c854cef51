"""Search of the standards library: Chinese words find the right clauses, codes in any
written form find their standard first, editions in force outrank superseded ones, and the
caller's data scope comes first. Runs on SQLite and on PostgreSQL (GUANJIA_DATABASE_URL)."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from guanjia.core.scope import DataScope
from guanjia.standards import search as s
from guanjia.standards.models import Clause, Standard

from ..conftest import make_role, make_user
from .search_fixtures import library_fixture, make_standard  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def codes(results):
    return [r.code for r in results]


def first(results):
    assert results, "nothing found"
    return results[0]


def rows_of(standard):
    lo, hi = s._id_range(standard.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {s.TABLE} WHERE id BETWEEN %s AND %s", [lo, hi])
        return cursor.fetchone()[0]


# -- segmentation and queries ------------------------------------------------------------------


def test_words_fold_widths_and_index_sub_words_and_codes():
    got = s.words("ＤＢ５０／Ｔ　９００１—２０２２ 人均餐厨垃圾量")
    assert {"db50", "9001", "2022", "人均餐厨垃圾量", "餐厨垃圾", "餐厨", "垃圾"} <= set(got)
    assert {"db50t9001", "db50t9001y2022"} <= set(got)  # the code's compact keys


def test_query_compiles_to_words_alternatives_and_phrases():
    nodes, surface = s.compile_query("光盘率")
    assert nodes == [s.Either(s.Word("光盘率"), s.AllOf((s.Word("光盘"), s.Word("率"))))]
    assert surface == ["光盘率"]
    nodes, _ = s.compile_query("的 询价")
    assert nodes == [s.Word("询价")]  # a lone stop word goes
    nodes, _ = s.compile_query("鲟鳇")  # unknown to jieba: single characters, as a phrase
    assert nodes == [s.Phrase(("鲟", "鳇"))]


def test_split_codes_finds_codes_in_any_form():
    for written in ["DB50/T 9001—2022", "db50/t9001-2022", "ＤＢ５０／Ｔ９００１－２０２２"]:
        rest, found, _ = s.split_codes(written)
        assert rest == "" and [c.key for c in found] == ["DB50/T9001-2022"]
    rest, found, _ = s.split_codes("DB50/T 9001 光盘率")
    assert rest == "光盘率" and [c.key for c in found] == ["DB50/T9001"]


# -- Chinese words -----------------------------------------------------------------------------


def test_clean_plate_rate_finds_the_term_and_the_requirement(library):
    top = first(s.search(None, "光盘率"))
    assert top.code == "DB50/T 9001—2022"
    assert {"3.1", "8.2"} <= set(top.clauses)
    assert top.status == "in_force" and top.match == "text" and top.score == 1.0
    snippet = next(p for p in top.snippets if p.clause == "8.2")
    assert snippet.text == "光盘率不应低于85%。"
    assert [snippet.text[a:b] for a, b in snippet.highlights] == ["光盘率"]
    # 3.1 is a clause and a term (as the importer stores it): one snippet for it.
    assert [p.clause for p in top.snippets].count("3.1") == 1


def test_kitchen_waste_finds_its_clauses_and_term(library):
    top = first(s.search(None, "餐厨垃圾"))
    assert top.code == "DB50/T 9001—2022"
    assert {"4.2", "7.1", "7.2", "7.3", "3.2"} <= set(top.clauses)
    assert "5.1" not in top.clauses
    assert top.clauses == sorted(top.clauses, key=lambda n: [int(p) for p in n.split(".")])


def test_enquiry_finds_the_procurement_clause(library):
    results = s.search(None, "询价")
    canteen = next(r for r in results if r.code == "DB50/T 9001—2022")
    assert canteen.clauses == ["5.1"]
    assert "Q/CDJG 001—2024" in codes(results)  # the system sees every agency's standards
    assert "DB51/T 9002—2021" not in codes(results)


def test_several_words_must_all_match_and_fall_back_to_any(library):
    assert codes(s.search(None, "公务用车 定点维修")) == ["DB51/T 9002—2021"]
    assert first(s.search(None, "公务用车 定点维修")).clauses == ["6.1"]
    # No standard has both: those with either word still come back.
    fallback = codes(s.search(None, "光盘率 卫星定位"))
    assert "DB51/T 9002—2021" in fallback and "DB50/T 9001—2022" in fallback


def test_titles_english_titles_and_terms_are_searched(library):
    assert first(s.search(None, "标准体系编制")).code == "DB50/T 9003—2023"
    assert first(s.search(None, "official vehicles")).code == "DB51/T 9002—2021"
    top = first(s.search(None, "公车私用"))
    assert top.code == "DB51/T 9002—2021" and top.clauses == ["3.2"]


def test_nothing_found_is_an_empty_list(library):
    assert s.search(None, "鳝鱼养殖") == []
    assert s.search(None, "   ") == []
    assert s.search(None, "的") == []


# -- codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "DB50/T 9001—2022",
        "db50/t9001-2022",
        "DB50/T9001-2022",
        "ＤＢ５０／Ｔ　９００１－２０２２",
        " DB50 / T 9001 – 2022 ",
    ],
)
def test_a_dated_code_in_any_form_puts_that_edition_first(library, query):
    results = s.search(None, query)
    assert results[0].code == "DB50/T 9001—2022"
    assert results[0].match == "code" and results[0].score == 1.0
    assert results[1].code == "DB50/T 9001—2019" and results[1].match == "code"


@pytest.mark.parametrize("query", ["DB50/T 9001", "db50/t9001", "ＤＢ５０／Ｔ９００１"])
def test_an_undated_code_matches_every_edition_in_force_first(library, query):
    results = s.search(None, query)
    assert codes(results)[:2] == ["DB50/T 9001—2022", "DB50/T 9001—2019"]
    assert [r.status for r in results[:2]] == ["in_force", "superseded"]
    assert {r.match for r in results[:2]} == {"code"}


def test_a_dated_query_for_the_old_edition_puts_it_first(library):
    assert codes(s.search(None, "DB50/T 9001-2019"))[:2] == [
        "DB50/T 9001—2019",
        "DB50/T 9001—2022",
    ]


def test_a_code_also_finds_the_standards_citing_it(library):
    results = s.search(None, "DB50/T 9003—2023")
    assert results[0].code == "DB50/T 9003—2023" and results[0].match == "code"
    citing = results[1]
    assert citing.code == "DB50/T 9001—2022" and citing.match == "text"
    assert citing.clauses == ["2"]
    # A code not in the library: the standards that cite it, whatever its written form.
    for query in ["GB 31654", "gb31654", "GB31654"]:
        assert codes(s.search(None, query)) == ["DB50/T 9001—2022"], query


def test_code_and_words_search_inside_that_standard(library):
    results = s.search(None, "DB50/T 9001 光盘率")
    assert codes(results) == ["DB50/T 9001—2022", "DB50/T 9001—2019"]
    assert all({"3.1", "8.2"} <= set(r.clauses) for r in results)


# -- editions and status -----------------------------------------------------------------------


def test_in_force_edition_ranks_above_the_superseded_one_at_equal_relevance(library):
    for query in ["光盘率", "食堂 反食品浪费", "就餐人员满意度"]:
        found = codes(s.search(None, query))
        assert found.index("DB50/T 9001—2022") < found.index("DB50/T 9001—2019"), query


def test_withdrawn_edition_ranks_below_the_one_in_force(library, world):
    withdrawn = make_standard(
        world["A"],
        "DB50/T 9101—2020",
        "机关食堂光盘率统计方法",
        [("4.1", "", "光盘率不应低于85%。")],
        stage="withdrawn",
    )
    in_force = make_standard(
        world["A"],
        "DB50/T 9102—2021",
        "机关食堂光盘率统计方法",
        [("4.1", "", "光盘率不应低于85%。")],
    )
    found = codes(s.search(None, "光盘率统计方法"))
    assert found.index(in_force.code) < found.index(withdrawn.code)


def test_filters(library):
    assert codes(s.search(None, "光盘率", status="superseded")) == ["DB50/T 9001—2019"]
    assert codes(s.search(None, "询价", level="internal")) == ["Q/CDJG 001—2024"]
    assert set(codes(s.search(None, "应", region="510000"))) == {
        "DB51/T 9002—2021",
        "Q/CDJG 001—2024",
    }
    assert codes(s.search(None, "光盘率", date_from="2020-01-01", date_to="2022-12-31")) == [
        "DB50/T 9001—2022"
    ]
    assert codes(s.search(None, "DB50/T 9001", status="in_force")) == ["DB50/T 9001—2022"]
    with pytest.raises(ValueError):
        s.search(None, "光盘率", level="cosmic")
    with pytest.raises(ValueError):
        s.search(None, "光盘率", region="999999")


def test_framework_node_filter_takes_the_node_and_below(library, world):
    from guanjia.standards.models import FrameworkNode

    nodes, a = FrameworkNode.objects, world["A"]
    root = nodes.add_root({"name": "3+7N", "agency": a})
    canteens = nodes.add_child(root, {"name": "机关食堂与后勤服务", "code": "5.3.4", "agency": a})
    vehicles = nodes.add_child(root, {"name": "公务用车管理", "code": "5.3.2", "agency": a})
    canteens.standards.add(library["canteen"])
    vehicles.standards.add(library["vehicles"])
    assert codes(s.search(None, "光盘率", framework_node=canteens.pk)) == ["DB50/T 9001—2022"]
    assert codes(s.search(None, "光盘率", framework_node=vehicles.pk)) == []
    assert set(codes(s.search(None, "应", framework_node=root.pk))) == {
        "DB50/T 9001—2022",
        "DB51/T 9002—2021",
    }
    with pytest.raises(ValueError):
        s.search(None, "光盘率", framework_node=10**9)


def test_limit(library):
    assert len(s.search(None, "应", limit=2)) == 2
    assert len(s.search(None, "应", limit=50)) == 5


# -- data scope --------------------------------------------------------------------------------


def test_agency_a_does_not_get_agency_b_non_public_standard(library, users):
    for query in ["询价", "Q/CDJG 001—2024", "成都市机关食堂食材询价采购规程", "询价记录"]:
        for scope in ("agency", "agency_and_below"):
            assert "Q/CDJG 001—2024" not in codes(s.search(users[scope], query)), (scope, query)
    # Public standards of B are public documents: A reads them.
    assert "DB51/T 9002—2021" in codes(s.search(users["agency"], "公务用车"))
    # B's own user, and whoever sees everything, get it.
    assert "Q/CDJG 001—2024" in codes(s.search(users["b_admin"], "询价"))
    assert "Q/CDJG 001—2024" in codes(s.search(users["all"], "询价"))
    assert s.search(users["norole"], "询价") == []


def test_scope_and_filters_cut_before_the_limit(library, world, users):
    """A reader whose few visible standards rank low still gets them: the scope is applied in
    the match, not to the first page of everyone's results."""
    for i in range(40):
        make_standard(world["B"], f"Q/CDJG {100 + i}—2024", "询价内部规程", [], is_public=False)
    a_user = make_user("a_reader", world["A"], make_role("a_reader", DataScope.AGENCY))
    got = codes(s.search(a_user, "询价", limit=5))
    assert got == ["DB50/T 9001—2022"]
    assert "DB50/T 9001—2022" in codes(s.search(None, "询价", level="local", limit=1))


# -- keeping the index current -----------------------------------------------------------------


def test_reindexing_a_standard_replaces_its_rows(library):
    canteen = library["canteen"]
    before = rows_of(canteen)
    assert before == 1 + Clause.objects.filter(standard=canteen).count() + canteen.terms.count()
    assert s.index_standard(canteen) == before
    assert rows_of(canteen) == before  # no duplicates
    Clause.objects.filter(standard=canteen, number="8.2").update(text="光盘率不应低于90%。")
    s.index_standard(canteen)
    snippet = next(p for p in first(s.search(None, "光盘率")).snippets if p.clause == "8.2")
    assert "90%" in snippet.text


def test_deleting_a_standard_removes_it_from_the_index(library):
    word = s.Word("公务用车")
    before = s.Statistics([word])
    assert (before.n, before.df[word]) == (5, 1)
    vehicles = library["vehicles"]
    pk = vehicles.pk
    vehicles.delete()
    vehicles.pk = pk
    assert rows_of(vehicles) == 0
    assert s.search(None, "公务用车") == []
    after = s.Statistics([word])
    assert (after.n, after.df[word]) == (4, 0)


def test_document_frequencies_follow_reindexing(library):
    words = [s.Word("光盘率"), s.Word("公务用车"), s.Word("应")]
    before = s.Statistics(words)
    assert before.df == {words[0]: 2, words[1]: 1, words[2]: 5} and before.n == 5
    s.index_standard(library["canteen"])  # again: no double counting
    s.reindex_all()
    after = s.Statistics(words)
    assert (after.df, after.n) == (before.df, before.n)


def test_reindex_all_rebuilds_the_same_results(library):
    before = [(r.code, r.clauses) for r in s.search(None, "餐厨垃圾")]
    stats = s.reindex_all()
    assert stats["standards"] == Standard.objects.count() == 5
    assert [(r.code, r.clauses) for r in s.search(None, "餐厨垃圾")] == before


# -- the CLI -----------------------------------------------------------------------------------


def run_cli(*args):
    out = StringIO()
    call_command("standards", "search", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_cli_json_contract(library):
    body = run_cli("光盘率", "--limit", "3")
    top = body["results"][0]
    assert {"code", "title", "status", "score", "clauses"} <= set(top)
    assert top["code"] == "DB50/T 9001—2022" and {"3.1", "8.2"} <= set(top["clauses"])
    body = run_cli("db50/t9001", "--status", "superseded")
    assert [r["code"] for r in body["results"]] == ["DB50/T 9001—2019"]


def test_cli_reindex_and_scope_of_a_user(library, users):
    body = run_cli("--reindex")
    assert body["reindexed"]["standards"] == 5 and body["reindexed"]["rows"] > 30
    assert [r["code"] for r in run_cli("Q/CDJG 001", "--as", "user_agency")["results"]] == []
    assert [r["code"] for r in run_cli("Q/CDJG 001")["results"]] == ["Q/CDJG 001—2024"]


def test_cli_human_output_and_errors(library):
    out = StringIO()
    call_command("standards", "search", "光盘率", stdout=out)
    assert "DB50/T 9001—2022" in out.getvalue() and "8.2" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("standards", "search", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("standards", "search", "x", "--as", "nobody", stdout=StringIO())
