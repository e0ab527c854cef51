"""The small demo world: the 68 bureaus, the 5 groups, codes, roles and logins."""

import re
from pathlib import Path

import pytest
from django.db.models import Count

import guanjia.demo as demo_pkg
from guanjia.core.demo import DEMO_LOGINS, ROLES, department_names
from guanjia.core.models import Agency, CollaborationGroup, ObjectChange, Region, Role, User
from guanjia.core.scope import DataScope
from guanjia.core.validators import validate_uscc
from guanjia.demo.registry import DEMO_PASSWORD
from guanjia.demo.services import DemoWorldExists, load_demo_world

pytestmark = pytest.mark.django_db

NAMED = (
    "重庆市机关事务管理局",
    "四川省机关事务管理局",
    "重庆市市级机关后勤服务中心",
    "大足区机关事务管理中心",
    "沙坪坝区机关事务管理局",
    "璧山区机关事务管理局",
    "大渡口区机关事务管理局",
    "九龙坡区机关事务管理局",
    "荣昌区机关事务管理局",
    "成都市机关事务管理局",
)


def participants():
    return Agency.objects.filter(collaboration_groups__isnull=False).distinct()


def test_counts_reported(demo_world):
    counts = demo_world["counts"]
    assert counts["bureaus"] == 68
    assert counts["groups"] == 5
    assert counts["agencies"] == Agency.objects.count()
    assert counts["users"] == User.objects.count()
    assert counts["regions"] == Region.objects.count() == 244
    assert demo_world["scale"] == "small" and demo_world["seed"] == 7


def test_68_bureaus_in_5_groups_each_in_exactly_one(demo_world):
    assert CollaborationGroup.objects.count() == 5
    assert participants().count() == 68
    per_agency = (
        Agency.objects.annotate(n=Count("collaboration_groups")).filter(n__gt=0).values_list("n")
    )
    assert {n for (n,) in per_agency} == {1}
    names = set(participants().values_list("name", flat=True))
    assert set(NAMED) <= names
    kinds = set(participants().values_list("kind", flat=True))
    assert Agency.Kind.AGENCY not in kinds  # participants are bureaus, centres, 局属单位


def test_composition_of_the_68(demo_world):
    cq = participants().filter(region__code__startswith="50")
    sc = participants().filter(region__code__startswith="51")
    assert cq.count() == 40 and sc.count() == 28
    # every Chongqing district/county and every Sichuan city/prefecture has its bureau
    assert cq.filter(region__level="county").count() == 38
    assert sc.filter(region__level="city").count() == 21
    logistics = Agency.objects.get(name="重庆市市级机关后勤服务中心")
    assert logistics.kind == Agency.Kind.SERVICE_UNIT
    assert Agency.objects.get_parent(logistics).name == "重庆市机关事务管理局"
    assert Agency.objects.get(name="大足区机关事务管理中心").kind == Agency.Kind.CENTRE


def test_every_group_mixes_both_provinces_and_is_convened_by_a_member(demo_world):
    for group in CollaborationGroup.objects.all():
        codes = [m.region.code for m in group.members.select_related("region")]
        assert any(c.startswith("50") for c in codes), group.name
        assert any(c.startswith("51") for c in codes), group.name
        assert group.members.filter(pk=group.agency_id).exists(), group.name
        assert 10 <= len(codes) <= 16


def test_tree_is_the_service_hierarchy(demo_world):
    cq = Agency.objects.get(name="重庆市机关事务管理局")
    sc = Agency.objects.get(name="四川省机关事务管理局")
    assert cq.is_root() and sc.is_root() and Agency.objects.filter(depth=1).count() == 2
    for bureau in participants().exclude(pk__in=[cq.pk, sc.pk]):
        top = Agency.objects.get_root(bureau)
        assert top == (cq if bureau.region.code.startswith("50") else sc), bureau.name
    chengdu = Agency.objects.get(name="成都市机关事务管理局")
    assert Agency.objects.get_children(chengdu).filter(kind=Agency.Kind.BUREAU).count() == 6
    dazu = Agency.objects.get(name="大足区机关事务管理中心")
    served = Agency.objects.get_children(dazu)
    assert 3 <= served.count() <= 5
    assert served.filter(name="大足区财政局").exists()
    assert all(a.name.startswith("大足区") for a in served)


def test_every_credit_code_validates_and_carries_its_region(demo_world):
    agencies = list(Agency.objects.select_related("region"))
    codes = [a.credit_code for a in agencies]
    assert all(codes) and len(set(codes)) == len(codes)
    for agency in agencies:
        validate_uscc(agency.credit_code)
        assert agency.credit_code[2:8] == agency.region.code, agency.name
        expected = "12" if agency.kind in ("service_unit", "motorpool") else "11"
        assert agency.credit_code[:2] == expected, agency.name
        assert agency.contact_person and agency.contact_phone and agency.address


def test_roles_each_have_users_and_logins_work(demo_world):
    assert Role.objects.count() == len(ROLES)
    assert not Role.objects.filter(agency__isnull=False).exists()
    assert not Role.objects.annotate(n=Count("users")).filter(n=0).exists()
    for username, role_key, agency_name, _real in DEMO_LOGINS:
        user = User.objects.get(username=username)
        assert list(user.roles.values_list("key", flat=True)) == [role_key]
        assert user.agency.name == agency_name
    # one shared hash (hashing is slow on purpose), so checking one account checks them all
    assert len(set(User.objects.values_list("password", flat=True))) == 1
    assert User.objects.get(username="dazu_staff").check_password(DEMO_PASSWORD)


def test_data_scopes_of_the_demo_logins(demo_world):
    def visible(username):
        return Agency.objects.restrict(User.objects.get(username=username))

    total = Agency.objects.count()
    assert visible("admin_demo").count() == total
    cq = visible("cq_coordinator")
    sc = visible("sc_coordinator")
    assert cq.count() + sc.count() == total
    assert not cq.filter(region__code__startswith="51").exists()
    dazu = Agency.objects.get(name="大足区机关事务管理中心")
    assert set(visible("dazu_leader")) == set(Agency.objects.filter(path__startswith=dazu.path))
    assert list(visible("dazu_canteen")) == [dazu]
    assert not visible("dazu_staff").exists()
    liaison = Role.objects.get(key="group_liaison")
    assert liaison.data_scope == DataScope.CUSTOM
    group = CollaborationGroup.objects.get(members__name="荣昌区机关事务管理局")
    assert set(visible("group_liaison")) == set(group.members.all())


def test_everything_is_in_the_audit_trail_as_the_system(demo_world):
    changes = ObjectChange.objects.filter(action="create")
    assert changes.filter(content_type__model="agency").count() == Agency.objects.count()
    assert changes.filter(content_type__model="user").count() == User.objects.count()
    assert set(ObjectChange.objects.values_list("source", flat=True)) == {"system"}
    assert set(ObjectChange.objects.values_list("request_id", flat=True)) == {"demo-small-7"}


def test_second_load_refuses_and_changes_nothing(demo_world):
    before = (Agency.objects.count(), User.objects.count(), ObjectChange.objects.count())
    with pytest.raises(DemoWorldExists, match=r"已有 \d+ 个单位"):
        load_demo_world("small", seed=8)
    after = (Agency.objects.count(), User.objects.count(), ObjectChange.objects.count())
    assert before == after


def test_logins_md_lists_every_demo_login():
    text = (Path(demo_pkg.__file__).parent / "LOGINS.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z_]+)` \| (\S+) \|", text, flags=re.M)
    roles = {key: name for key, name, *_rest in ROLES}
    assert listed == [(username, roles[key]) for username, key, _a, _r in DEMO_LOGINS]
    assert DEMO_PASSWORD in text


def test_department_names_by_level():
    core, everything = department_names("sc_district", "成都市锦江区")
    assert "成都市锦江区财政局" in core and "成都市锦江区人民法院" in everything
    assert len(core) == 12 and len(everything) >= 40 and len(set(everything)) == len(everything)
    for level, place in (("cq_city", "重庆市"), ("sc_prov", "四川省"), ("sc_city", "自贡市")):
        core, everything = department_names(level, place)
        assert len(everything) >= 40 and len(set(everything)) == len(everything)
        assert sum("财政" in name for name in core) == 1
    assert "重庆市高级人民法院" in department_names("cq_city", "重庆市")[1]
    assert "自贡市中级人民法院" in department_names("sc_city", "自贡市")[1]
    assert "大足区人民法院" in department_names("cq_district", "大足区")[1]
