"""A small library for the search tests, built with the ORM (not the importer) and indexed:
the fixtures' texts (tests/fixtures/standards), the previous edition of DB50/T 9001
(superseded by the 2022 one, same wording where the 2022 edition kept it), and an internal
standard of agency B that is not public."""

from datetime import date

import pytest

from guanjia.standards.codes import parse_code
from guanjia.standards.models import Clause, Standard, Term
from guanjia.standards.search import index_standard


def make_standard(agency, code, title, clauses=(), terms=(), *, english="", **fields):
    """clauses: (number, title, text); terms: (number, term, english, definition)."""
    parsed = parse_code(code)
    standard = Standard.objects.create(
        code=code,
        code_key=parsed.key,
        code_prefix=parsed.prefix,
        code_number=parsed.number,
        year=parsed.year,
        title=title,
        english_title=english,
        level=fields.pop("level", parsed.level),
        mandatory=parsed.mandatory,
        agency=agency,
        **fields,
    )
    Clause.objects.bulk_create(
        Clause(
            standard=standard,
            number=number,
            title=ctitle,
            text=text,
            kind="requirement" if "应" in text else "informative",
            depth=number.count(".") + 1,
            position=i,
        )
        for i, (number, ctitle, text) in enumerate(clauses)
    )
    Term.objects.bulk_create(
        Term(standard=standard, number=n, term=t, english=e, definition=d) for n, t, e, d in terms
    )
    index_standard(standard)
    return standard


CANTEEN_TERMS = [
    (
        "3.1",
        "光盘率",
        "clean plate rate",
        "统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
    ),
    (
        "3.2",
        "人均餐厨垃圾量",
        "per capita kitchen waste",
        "统计期内食堂产生的餐厨垃圾总质量与就餐总人次之比，单位为克每人次。",
    ),
    ("3.3", "倾销量", "discarded food quantity", "供餐结束后未被食用而倒掉的成品菜肴质量。"),
]

CANTEEN_2022 = [
    ("1", "范围", "本文件规定了机关食堂反食品浪费工作的基本要求、采购与储存、加工与供餐。"),
    (
        "2",
        "规范性引用文件",
        "下列文件中的内容通过文中的规范性引用而构成本文件必不可少的条款。\n"
        "GB 31654 食品安全国家标准 餐饮服务通用卫生规范\n"
        "GB/T 2589 综合能耗计算通则\n"
        "DB50/T 9003—2023 机关事务标准体系编制指南",
    ),
    ("3", "术语和定义", "下列术语和定义适用于本文件。"),
    (
        "3.1",
        "",
        "光盘率 clean plate rate\n统计期内就餐后餐盘中无剩余食物的就餐人次占就餐总人次的百分比。",
    ),
    ("4", "基本要求", ""),
    ("4.1", "", "食堂应建立反食品浪费工作制度，明确责任人。"),
    ("4.2", "", "食堂应按日记录就餐人数、供餐量、剩余量和餐厨垃圾量，记录保存不少于2年。"),
    ("5", "采购与储存", ""),
    (
        "5.1",
        "",
        "食材采购应实行询价比价，单次采购金额超过5000元的，询价供应商不少于3家。",
    ),
    ("5.2", "", "食材库存周转天数不应超过7天。"),
    ("7", "餐厨废弃物管理", ""),
    ("7.1", "", "餐厨垃圾应分类收集、称重计量、日产日清。"),
    ("7.2", "", "人均餐厨垃圾量不应超过150克每人次。"),
    ("7.3", "", "餐厨垃圾应交由具备资质的单位收运处置，台账保存不少于2年。"),
    ("8", "宣传引导", ""),
    ("8.1", "", "就餐区应设置反食品浪费宣传标识。"),
    ("8.2", "", "光盘率不应低于85%。"),
    ("9", "评价与改进", ""),
    ("9.2", "", "就餐人员满意度不应低于90%。"),
]

# The 2019 edition: the clauses it shares with 2022 have the same words.
CANTEEN_2019 = [c for c in CANTEEN_2022 if c[0] not in ("2", "5.1", "7.3")] + [
    ("7.3", "", "餐厨垃圾应交由有资质的单位处置。"),
]

VEHICLES = [
    ("1", "范围", "本文件规定了党政机关公务用车的配备、使用、维修、处置和监督管理要求。"),
    ("4.1", "", "公务用车应按编制配备，实有车辆数不应超过核定编制数。"),
    (
        "5.2",
        "",
        "公务用车应安装卫星定位终端，终端应符合JT/T 808—2019的要求，定位数据上报间隔不应大于30秒。",
    ),
    ("6.1", "", "公务用车维修应实行定点维修，单次维修费用超过5000元的应事前审批。"),
    ("6.3", "", "百公里油耗超过该车型核定油耗20%的，应核查原因。"),
]
VEHICLE_TERMS = [
    ("3.1", "公务用车", "official vehicle", "党政机关配备的用于履行公务的机动车辆。"),
    ("3.2", "公车私用", "private use of official vehicle", "将公务用车用于非公务活动的行为。"),
]

SYSTEM = [
    ("4.1", "", "标准体系应覆盖机关事务管理部门的全部法定职能，职能覆盖率应达到100%。"),
    ("6.1", "", "标准明细表应列明标准编号、名称、级别、状态和所属子体系。"),
]

INTERNAL = [
    ("1", "范围", "本规程规定了成都市机关食堂食材询价采购的程序。"),
    ("3.1", "", "单次采购金额超过2000元的食材应询价，询价记录应留存备查。"),
]


@pytest.fixture(name="library")
def library_fixture(world, regions):
    a, b = world["A"], world["B"]
    old = make_standard(
        a,
        "DB50/T 9001—2019",
        "机关食堂反食品浪费工作规范",
        CANTEEN_2019,
        CANTEEN_TERMS,
        english="Specification for anti-food-waste work of government canteens",
        region=regions["500000"],
        issue_date=date(2019, 5, 1),
        effective_date=date(2019, 8, 1),
    )
    canteen = make_standard(
        a,
        "DB50/T 9001—2022",
        "机关食堂反食品浪费工作规范",
        CANTEEN_2022,
        CANTEEN_TERMS,
        english="Specification for anti-food-waste work of government canteens",
        region=regions["500000"],
        issue_date=date(2022, 6, 1),
        effective_date=date(2022, 9, 1),
    )
    canteen.replaces.add(old)
    system = make_standard(
        a,
        "DB50/T 9003—2023",
        "机关事务标准体系编制指南",
        SYSTEM,
        [("3.1", "标准体系", "standard system", "一定范围内的标准按其内在联系形成的有机整体。")],
        region=regions["500000"],
        issue_date=date(2023, 1, 10),
        effective_date=date(2023, 4, 10),
    )
    vehicles = make_standard(
        b,
        "DB51/T 9002—2021",
        "党政机关公务用车使用管理规范",
        VEHICLES,
        VEHICLE_TERMS,
        english="Specification for use and management of official vehicles",
        region=regions["510000"],
        issue_date=date(2021, 3, 15),
        effective_date=date(2021, 5, 1),
    )
    internal = make_standard(
        b,
        "Q/CDJG 001—2024",
        "成都市机关食堂食材询价采购规程",
        INTERNAL,
        level="internal",
        is_public=False,
        region=regions["510100"],
        issue_date=date(2024, 1, 1),
    )
    return {
        "old": old,
        "canteen": canteen,
        "system": system,
        "vehicles": vehicles,
        "internal": internal,
    }


class SearchScopeCase:
    """The data-scope matrix's case for GET /standards/search (tests/core/test_scope_matrix):
    agency B's non-public standard is found by whoever sees B and by no one else, whether
    asked for by its words or by its code."""

    code = "Q/CDJG 901—2024"
    urls = ("/api/v1/standards/search?q=询价采购&limit=100", "/api/v1/standards/search?q=q/cdjg901")

    def _seed(self, ctx):
        from guanjia.core.models import Agency

        if not Standard.objects.filter(code_key="Q/CDJG901-2024").exists():
            make_standard(
                Agency.objects.get(pk=ctx["B"]),
                self.code,
                "成都市机关食堂询价采购规程",
                [("3.1", "", "单次采购金额超过2000元的食材应询价采购。")],
                level="internal",
                is_public=False,
            )

    def _found(self, ctx, client):
        self._seed(ctx)
        found = []
        for url in self.urls:
            r = client.get(url)
            assert r.status_code == 200, r.content
            found.append([i["code"] for i in r.json()["items"]])
        return found

    def scoped(self, ctx, client, user):
        for codes in self._found(ctx, client):
            assert self.code not in codes, f"search shows B's internal standard to {user}"

    def wide(self, ctx, client, user):
        for codes in self._found(ctx, client):
            assert codes[0] == self.code, f"search hides B's internal standard from {user}"

    def norole(self, ctx, client, user):
        assert self._found(ctx, client) == [[], []]
