"""Importing into the library (services): the fixtures, idempotency, links between
standards in either order, "代替", derived status, all-or-nothing per file, data scope and
audit."""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.core.context import acting_as
from guanjia.core.models import CollaborationGroup, ObjectChange
from guanjia.core.scope import DataScope
from guanjia.standards import services
from guanjia.standards.models import Clause, Reference, Standard, Term, derived_status
from guanjia.standards.parsing import parse_text

from ..conftest import make_role, make_user
from .library_fixtures import FIXTURES, doc, import_all, import_fixture, text

pytestmark = pytest.mark.django_db


def standard_changes():
    ct = ContentType.objects.get_for_model(Standard)
    return ObjectChange.objects.filter(content_type=ct)


def edition_2025() -> str:
    """DB50/T 9001—2025, replacing the 2022 edition (光盘率 raised to 90%)."""
    return (
        text("9001")
        .replace("DB50/T 9001—2022\n", "DB50/T 9001—2025\n代替DB50/T 9001—2022\n")
        .replace("2022-06-01发布", "2025-06-01发布")
        .replace("2022-09-01实施", "2025-09-01实施")
        .replace("本文件由重庆市", "本文件代替DB50/T 9001—2022。\n本文件由重庆市")
        .replace("光盘率不应低于85%", "光盘率不应低于90%")
    )


def minimal(code: str, title: str = "示例标准", extra: str = "") -> str:
    return f"{code}\n{title}\n2016-01-01发布 2016-06-01实施\n1 范围\n本文件规定了示例。\n{extra}"


# -- the fixtures ---------------------------------------------------------------------------


def test_the_three_fixtures_import(world):
    lib = import_all(world["A"])
    s = lib["9001"]
    assert (s.code, s.code_key, s.code_prefix, s.code_number, s.year) == (
        "DB50/T 9001—2022",
        "DB50/T9001-2022",
        "DB50/T",
        "9001",
        2022,
    )
    assert s.title == "机关食堂反食品浪费工作规范"
    assert (s.level, s.mandatory, s.region.code) == ("local", False, "500000")
    assert (s.issue_date, s.effective_date) == (date(2022, 6, 1), date(2022, 9, 1))
    assert (s.ics, s.ccs, s.issuer) == ("03.080", "A 12", "重庆市市场监督管理局")
    assert s.clauses.count() == s.clause_count == 29
    assert list(s.clauses.values_list("position", flat=True)) == list(range(29))
    first = s.terms.first()
    assert (first.number, first.term, first.english) == ("3.1", "光盘率", "clean plate rate")
    assert first.definition.startswith("统计期内就餐后餐盘中无剩余食物")
    refs = {r.code: r for r in s.references.all()}
    assert (refs["GB 31654"].dated, refs["GB 31654"].code_key) == (False, "GB31654")
    assert refs["GB 31654"].target is None
    assert refs["DB50/T 9003—2023"].dated is True
    assert refs["DB50/T 9003—2023"].target == lib["9003"]
    assert lib["9003"].clause_count == 29 and lib["9002"].clause_count == 28
    assert lib["9002"].region.code == "510000" and lib["9002"].terms.count() == 3
    assert {st.status for st in Standard.objects.with_status()} == {"in_force"}
    assert lib["9001"].source_format == "txt" and lib["9001"].is_public


@pytest.mark.parametrize("order", [("9001", "9003"), ("9003", "9001")])
def test_dated_reference_is_linked_whichever_is_imported_first(world, order):
    lib = import_all(world["A"], order=order)
    ref = Reference.objects.get(standard=lib["9001"], code="DB50/T 9003—2023")
    assert ref.target == lib["9003"]
    assert list(lib["9003"].cited_by.all()) == [ref]


def test_undated_reference_follows_the_latest_edition(world):
    lib = import_all(world["A"], order=("9001",))
    old, _ = services.import_document(None, parse_text(minimal("GB 31654—2016")), world["A"])
    ref = Reference.objects.get(standard=lib["9001"], code="GB 31654")
    assert ref.target_id == old.pk
    new, _ = services.import_document(None, parse_text(minimal("GB 31654—2021")), world["A"])
    ref.refresh_from_db()
    assert ref.target_id == new.pk
    services.delete_standard(None, new)
    ref.refresh_from_db()
    assert ref.target_id == old.pk


# -- idempotency ----------------------------------------------------------------------------


def test_same_code_updates_never_duplicates(world):
    first, created = import_fixture("9001", world["A"])
    assert created
    clause_ids = list(first.clauses.values_list("pk", flat=True))
    records = standard_changes().count()
    import_fixture("9001", world["A"])
    assert standard_changes().count() == records  # the same text again: nothing changed
    # The same standard, its code written with full-width characters and a hyphen.
    variant = text("9001").replace("DB50/T 9001—2022", "ＤＢ５０／Ｔ　９００１－２０２２")
    again, created = services.import_document(None, parse_text(variant), world["A"])
    assert (again.pk, created) == (first.pk, False)
    assert Standard.objects.count() == 1
    assert list(again.clauses.values_list("pk", flat=True)) == clause_ids
    assert Term.objects.count() == 3 and Reference.objects.count() == 3
    assert standard_changes().count() == records
    # A changed clause: updated in place, and the change is recorded with the clause count.
    changed = text("9001").replace("光盘率不应低于85%", "光盘率不应低于90%")
    services.import_document(None, parse_text(changed), world["A"])
    assert list(again.clauses.values_list("pk", flat=True)) == clause_ids
    assert Clause.objects.get(standard=again, number="8.2").text == "光盘率不应低于90%。"
    record = standard_changes().latest("pk")
    assert record.action == "update" and record.after["clause_count"] == 29
    assert record.before["content_digest"] != record.after["content_digest"]
    # A clause removed: the count in the record says so.
    shorter = changed.replace("9.3 评价结果应纳入食堂服务考核。\n", "")
    services.import_document(None, parse_text(shorter), world["A"])
    record = standard_changes().latest("pk")
    assert (record.before["clause_count"], record.after["clause_count"]) == (29, 28)
    assert Clause.objects.filter(standard=again).count() == 28


def test_import_is_audited_with_the_actor(world, users):
    user = users["agency"]
    with acting_as(user=user, source="api"):
        import_fixture("9001", world["A"], actor=user)
    record = standard_changes().get(action="create")
    assert (record.user, record.agency, record.source) == (user, world["A"], "api")
    assert record.after["clause_count"] == 29 and record.after["code"] == "DB50/T 9001—2022"


def test_a_document_without_code_or_title_is_refused(world):
    with pytest.raises(ValidationError, match="未找到标准编号"):
        services.import_document(None, parse_text("某某规范\n1 范围\n本文件规定了。"), world["A"])
    with pytest.raises(ValidationError, match="年代号"):
        services.import_document(None, parse_text("GB/T 2589\n综合能耗\n"), world["A"])
    assert Standard.objects.count() == 0


# -- 代替 and status ------------------------------------------------------------------------


@pytest.mark.parametrize("old_first", [True, False])
def test_replaces_sets_both_sides_and_supersedes_when_the_new_edition_takes_effect(
    world, old_first
):
    def old():
        return import_fixture("9001", world["A"])[0]

    def new():
        return services.import_document(None, parse_text(edition_2025()), world["A"])[0]

    if old_first:
        o, n = old(), new()
    else:
        n, o = new(), old()
    assert list(n.replaces.all()) == [o] and list(o.replaced_by.all()) == [n]
    assert n.replaces_keys.split() == ["DB50/T9001-2022"]
    before, on, after = date(2025, 8, 31), date(2025, 9, 1), date(2026, 1, 1)
    assert (derived_status(o, before), derived_status(n, before)) == ("in_force", "published")
    assert (derived_status(o, on), derived_status(n, on)) == ("superseded", "in_force")
    for today in (before, on, after):
        annotated = dict(Standard.objects.with_status(today).values_list("code", "status"))
        assert annotated == {o.code: derived_status(o, today), n.code: derived_status(n, today)}
    ranked = Standard.objects.with_status(after).order_by("status_rank")
    assert [s.code for s in ranked] == ["DB50/T 9001—2025", "DB50/T 9001—2022"]


STATUS_CASES = [
    # (stage, issue, effective, withdrawn) → status on 2024-06-01
    ("drafting", None, None, None, "drafting"),
    ("soliciting", date(2024, 1, 1), None, None, "soliciting"),
    ("published", date(2024, 5, 1), date(2024, 9, 1), None, "published"),
    ("published", date(2024, 5, 1), None, None, "in_force"),
    ("published", date(2024, 7, 1), None, None, "published"),
    ("published", date(2020, 1, 1), date(2020, 6, 1), None, "in_force"),
    ("published", date(2020, 1, 1), date(2020, 6, 1), date(2024, 6, 1), "withdrawn"),
    ("published", date(2020, 1, 1), date(2020, 6, 1), date(2025, 1, 1), "in_force"),
    ("withdrawn", date(2020, 1, 1), date(2020, 6, 1), None, "withdrawn"),
    ("published", None, None, None, "in_force"),
]


def test_derived_status_in_python_and_in_the_database_agree(world):
    today = date(2024, 6, 1)
    made = []
    for i, (stage, issued, effective, gone, expected) in enumerate(STATUS_CASES):
        s, _ = services.import_document(
            None, parse_text(minimal(f"DB50/T {9800 + i}—2020")), world["A"]
        )
        Standard.objects.filter(pk=s.pk).update(
            stage=stage, issue_date=issued, effective_date=effective, withdrawn_date=gone
        )
        made.append((Standard.objects.get(pk=s.pk), expected))
    annotated = dict(Standard.objects.with_status(today).values_list("pk", "status"))
    for s, expected in made:
        assert derived_status(s, today) == expected, (s.stage, expected)
        assert annotated[s.pk] == expected
    # A draft that names an edition in "代替" does not supersede it.
    draft, _ = services.import_document(
        None,
        parse_text(
            minimal("DB50/T 9800—2024", extra="").replace(
                "示例标准", "示例标准\n（征求意见稿）\n代替DB50/T 9800—2020"
            )
        ),
        world["A"],
    )
    assert draft.stage == "soliciting" and not draft.is_public
    old = made[0][0]
    Standard.objects.filter(pk=old.pk).update(stage="published")
    assert derived_status(Standard.objects.get(pk=old.pk), today) == "in_force"


# -- files: all or nothing ------------------------------------------------------------------


def test_import_files_reports_each_file_and_writes_nothing_of_a_bad_one(world, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(text("9003"), encoding="utf-8")
    binary = tmp_path / "broken.txt"
    binary.write_bytes(b"\x00\x01binary" * 50)
    docx = tmp_path / "broken.docx"
    docx.write_bytes(b"PK\x03\x04 truncated")
    nocode = tmp_path / "nocode.md"
    nocode.write_text("# 某规范\n## 1 范围\n本文件规定了。", encoding="utf-8")
    report = services.import_files(
        None, [good, binary, docx, nocode, tmp_path / "missing.txt"], world["A"]
    )
    assert (report["imported"], report["failed"]) == (1, 4)
    by = {f["file"]: f for f in report["files"]}
    assert by[str(good)] == {
        "file": str(good),
        "code": "DB50/T 9003—2023",
        "title": "机关事务标准体系编制指南",
        "created": True,
        "updated": False,
        "clauses": 29,
        "terms": 2,
        "references": 2,
        "linked": 0,
        "error": None,
    }
    assert "二进制" in by[str(binary)]["error"]
    assert "Word" in by[str(docx)]["error"]
    assert "未找到标准编号" in by[str(nocode)]["error"]
    assert "不存在" in by[str(tmp_path / "missing.txt")]["error"]
    assert Standard.objects.count() == 1 and standard_changes().count() == 1


def test_a_failure_half_way_rolls_the_whole_file_back(world, monkeypatch, tmp_path):
    import_fixture("9001", world["A"])
    clauses = list(Clause.objects.values_list("pk", "text"))
    records = ObjectChange.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(services, "_link", boom)
    path = tmp_path / "new.txt"
    path.write_text(
        text("9001").replace("光盘率不应低于85%", "光盘率不应低于95%"), encoding="utf-8"
    )
    other = tmp_path / "other.txt"
    other.write_text(text("9002"), encoding="utf-8")
    report = services.import_files(None, [path, other], world["A"])
    assert report["failed"] == 2 and "磁盘已满" in report["files"][0]["error"]
    assert list(Clause.objects.values_list("pk", "text")) == clauses
    assert Standard.objects.count() == 1 and ObjectChange.objects.count() == records


def test_a_directory_stands_for_its_standard_files(world, tmp_path):
    for key, path in FIXTURES.items():
        (tmp_path / f"{key}.txt").write_bytes(path.read_bytes())
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    report = services.import_files(None, [tmp_path], world["A"])
    assert (report["imported"], report["failed"]) == (3, 0)
    # 9001 was read before 9003: the link was made when 9003 arrived.
    assert [f["linked"] for f in report["files"]] == [0, 0, 0]
    ref = Reference.objects.get(code="DB50/T 9003—2023")
    assert ref.target.code == "DB50/T 9003—2023"


def test_the_original_file_is_kept(world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    entry, standard = services.import_bytes(
        None, "DB50-T-9001-2022.txt", FIXTURES["9001"].read_bytes(), world["A"]
    )
    assert entry["error"] is None
    with standard.source_file.open("rb") as f:
        assert f.read() == FIXTURES["9001"].read_bytes()


# -- data scope -----------------------------------------------------------------------------


def test_nobody_imports_into_an_agency_outside_their_scope(world, users):
    user = users["agency"]  # every permission, own agency (A)
    before = (Standard.objects.count(), ObjectChange.objects.count())
    with pytest.raises(PermissionDenied):
        import_fixture("9001", world["B"], actor=user)
    assert (Standard.objects.count(), ObjectChange.objects.count()) == before
    reader = make_user(
        "reader", world["A"], make_role("std_reader", permissions=["standards.view"])
    )
    with pytest.raises(PermissionDenied, match=r"standards\.add"):
        import_fixture("9001", world["A"], actor=reader)


def test_another_agencys_standard_is_not_updated_by_reimport(world, users):
    b_std, _ = import_fixture("9001", world["B"], is_public=False)
    user = users["agency"]
    with pytest.raises(PermissionDenied, match="没有权限更新"):
        services.import_document(
            user, parse_text(edition_2025().replace("2025", "2022")), world["A"]
        )
    b_std.refresh_from_db()
    assert b_std.agency == world["B"] and Standard.objects.count() == 1


def test_public_standards_are_read_by_all_drafts_only_in_scope_and_shared_groups(world, users):
    public, _ = import_fixture("9001", world["B"])
    private, _ = import_fixture("9003", world["B"], is_public=False)
    a_user = users["agency"]
    seen = set(Standard.objects.restrict(a_user).values_list("pk", flat=True))
    assert public.pk in seen and private.pk not in seen
    assert not Standard.objects.restrict(a_user, "change").filter(pk=public.pk).exists()
    group = CollaborationGroup.objects.create(name="成渝标准协作组", agency=world["B"])
    group.members.set([world["A"], world["B"]])
    services.update_standard(None, private, shared_with=[group])
    assert Standard.objects.restrict(a_user).filter(pk=private.pk).exists()
    b_user = users["b_admin"]
    assert Standard.objects.restrict(b_user, "change").filter(pk=private.pk).exists()
    no_role = users["norole"]
    assert not Standard.objects.restrict(no_role).exists()


def test_update_and_delete_go_through_scope(world, users):
    mine, _ = import_fixture("9001", world["A"])
    theirs, _ = import_fixture("9002", world["B"])
    user = users["agency"]
    services.update_standard(user, mine, withdrawn_date=date(2024, 1, 1))
    assert derived_status(mine, date(2024, 6, 1)) == "withdrawn"
    with pytest.raises(PermissionDenied):
        services.update_standard(user, theirs, title="越权")
    with pytest.raises(PermissionDenied):
        services.update_standard(user, mine, agency=world["B"])  # moving it out of scope
    mine.refresh_from_db()
    assert mine.agency == world["A"]
    with pytest.raises(PermissionDenied):
        services.delete_standard(user, theirs)
    with pytest.raises(ValidationError):
        services.update_standard(user, mine, code_key="X")
    services.delete_standard(user, mine)
    assert list(Standard.objects.values_list("code", flat=True)) == ["DB51/T 9002—2021"]


def test_users_with_region_scope_manage_their_provinces_standards(world, regions):
    cq_user = make_user(
        "cq_std", world["A"], make_role("cq_std", DataScope.REGION, ["standards.*"])
    )
    standard, _ = import_fixture("9001", world["A"], actor=cq_user)
    assert standard.agency == world["A"]
    doc_ = doc("9002")
    with pytest.raises(PermissionDenied):
        services.import_document(cq_user, doc_, world["B"])


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_the_stored_standard_reads_back_as_the_document(world, key):
    from guanjia.standards.document import document_from_standard

    original = doc(key)
    standard, _ = services.import_document(None, original, world["A"])
    assert document_from_standard(standard) == original


def test_the_stored_replacement_reads_back_with_its_replaces(world):
    from guanjia.standards.document import document_from_standard

    original = parse_text(edition_2025())
    standard, _ = services.import_document(None, original, world["A"])
    assert document_from_standard(standard) == original
    assert original.replaces == ["DB50/T 9001—2022"]
