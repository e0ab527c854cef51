"""Core's part of the demo world: the Sichuan–Chongqing organisation.

Regions: every GB/T 2260 unit of both provinces (regions.json).

The 68 participating bureaus (seed 000: "川渝两地68家机关事务部门 … 分区划片成立5个协作小组"):
  Chongqing: 重庆市机关事务管理局, its 局属单位 重庆市市级机关后勤服务中心, and the bureau or
             centre of each of the 38 districts and counties                         = 40
  Sichuan:   四川省机关事务管理局, the bureaus of the 21 cities and prefectures, and the
             bureaus of 6 central districts of Chengdu                              = 28
The agency tree is the service hierarchy: a provincial bureau is the parent of its
province's city and district bureaus (成都市 is the parent of the Chengdu district bureaus),
and every bureau is the parent of the agencies it serves. "Participating" is membership
of a collaboration group: the 68 are exactly the members of the 5 groups.

Which districts are "中心" rather than "局", the agencies' credit codes, contacts, phones
and addresses are made up (well-formed, never real).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password

from guanjia.demo import fake
from guanjia.demo.registry import DEMO_PASSWORD, DemoContext, demo_part

from . import services
from .models import Agency, Region, User
from .scope import DataScope

REGIONS_JSON = Path(__file__).resolve().parent / "data" / "regions.json"

CQ, SC = "500000", "510000"
CQ_BUREAU = "重庆市机关事务管理局"
SC_BUREAU = "四川省机关事务管理局"
CQ_LOGISTICS = "重庆市市级机关后勤服务中心"
CD_BUREAU = "成都市机关事务管理局"

# Chongqing districts and counties whose body is a 机关事务管理中心 (大足 is named in the
# seeds; the others are illustrative).
CQ_CENTRES = {"500111", "500151", "500152", "500156", "500229", "500238", "500243"}
# Chengdu's central districts that take part with their own bureau.
CHENGDU_DISTRICTS = ("510104", "510105", "510106", "510107", "510108", "510112")

# 分区划片: (name, convener, Chongqing members, Sichuan members). Members by region code;
# "CQ"/"SC" = the provincial bureaus, "CQL" = the logistics centre, "cd:<code>" = a
# Chengdu district bureau.
GROUPS = (
    (
        "第1协作小组（双城中心城区）",
        CQ_BUREAU,
        ("CQ", "CQL", "500103", "500104", "500105", "500106", "500107", "500108"),
        ("510100", *(f"cd:{c}" for c in CHENGDU_DISTRICTS)),
    ),
    (
        "第2协作小组（成德眉资—渝西北）",
        SC_BUREAU,
        ("500109", "500112", "500113", "500111", "500120", "500151", "500152", "500153"),
        ("SC", "510600", "510700", "511400", "512000"),
    ),
    (
        "第3协作小组（川南—渝西南）",
        "泸州市机关事务管理局",
        ("500116", "500118", "500110", "500117", "500119", "500102", "500115"),
        ("510300", "510500", "511000", "511100", "511500", "510900"),
    ),
    (
        "第4协作小组（川东北—渝东北）",
        "万州区机关事务管理局",
        ("500101", "500154", "500155", "500229", "500231", "500235", "500236", "500237", "500238"),
        ("510800", "511300", "511600", "511700", "511900"),
    ),
    (
        "第5协作小组（川西—渝东南）",
        "黔江区机关事务管理局",
        ("500114", "500156", "500240", "500241", "500242", "500243", "500230", "500233"),
        ("511800", "510400", "513400", "513200", "513300"),
    ),
)
GROUP_DESCRIPTION = (
    "川渝机关事务标准化协同联动分区划片协作小组：政策共研、标准共建、信息共享、干部共训。"
    "成员单位 {n} 家（重庆 {cq} 家、四川 {sc} 家），由{convener}牵头召集。"
)

# Units of the Chongqing bureau named in the seeds that are not among the 68.
CQ_OTHER_UNITS = (
    ("重庆市人民大礼堂管理处", Agency.Kind.SERVICE_UNIT),
    ("重庆市机关事务管理局汽车队", Agency.Kind.MOTORPOOL),
    ("重庆市渝州宾馆", Agency.Kind.SERVICE_UNIT),
)

# -- the agencies a bureau serves -----------------------------------------------------------
# The first twelve of each list are the core a small world draws from; finance is always
# there (the demo staff login works at 大足区财政局).

_CORE_SUFFIXES = {
    "cq_city": """人民政府办公厅 发展和改革委员会 财政局 教育委员会 卫生健康委员会
        人力资源和社会保障局 住房和城乡建设委员会 农业农村委员会 市场监督管理局
        生态环境局 审计局 统计局""",
    "sc_prov": """人民政府办公厅 发展和改革委员会 财政厅 教育厅 卫生健康委员会
        人力资源和社会保障厅 住房和城乡建设厅 农业农村厅 市场监督管理局 生态环境厅
        审计厅 统计局""",
    "cq_district": """人民政府办公室 发展和改革委员会 财政局 教育委员会 卫生健康委员会
        人力资源和社会保障局 住房和城乡建设委员会 农业农村委员会 市场监督管理局
        生态环境局 审计局 统计局""",
    "sc_city": """人民政府办公室 发展和改革委员会 财政局 教育局 卫生健康委员会
        人力资源和社会保障局 住房和城乡建设局 农业农村局 市场监督管理局 生态环境局
        审计局 统计局""",
}
_MORE_SUFFIXES = {
    "cq_city": """科学技术局 经济和信息化委员会 民族宗教事务委员会 公安局 民政局 司法局
        规划和自然资源局 城市管理局 交通运输委员会 水利局 商务委员会 文化和旅游发展委员会
        退役军人事务局 应急管理局 国有资产监督管理委员会 体育局 医疗保障局 林业局
        信访办公室 大数据应用发展管理局 人民防空办公室 人民政府外事办公室 人民政府研究室
        粮食和物资储备局 药品监督管理局 乡村振兴局 档案馆""",
    "sc_prov": """科学技术厅 经济和信息化厅 民族宗教事务委员会 公安厅 民政厅 司法厅
        自然资源厅 交通运输厅 水利厅 商务厅 文化和旅游厅 退役军人事务厅 应急管理厅
        国有资产监督管理委员会 广播电视局 体育局 医疗保障局 林业和草原局 信访局 大数据中心
        人民防空办公室 人民政府外事办公室 人民政府研究室 粮食和物资储备局 药品监督管理局
        乡村振兴局 档案馆""",
    "cq_district": """科学技术局 经济和信息化委员会 民政局 司法局 规划和自然资源局
        城市管理局 交通运输委员会 水利局 商务委员会 文化和旅游发展委员会 退役军人事务局
        应急管理局 国有资产监督管理委员会 体育局 医疗保障局 林业局 信访办公室
        大数据应用发展管理局 人民防空办公室 民族宗教事务委员会 政务服务管理办公室 档案馆
        融媒体中心""",
    "sc_city": """科学技术局 经济和信息化局 公安局 民政局 司法局 自然资源和规划局 城市管理局
        交通运输局 水务局 商务局 文化广播电视和旅游局 退役军人事务局 应急管理局
        国有资产监督管理委员会 体育局 医疗保障局 林业局 信访局 政务服务管理局 民族宗教事务局
        人民防空办公室 档案馆 融媒体中心""",
}
PARTY_AND_OTHER = (
    "中共{p}委员会办公{o}",
    "中共{p}委员会组织部",
    "中共{p}委员会宣传部",
    "中共{p}委员会统一战线工作部",
    "中共{p}委员会政法委员会",
    "中共{p}纪律检查委员会",
    "中共{p}委员会机构编制委员会办公室",
    "{p}人民代表大会常务委员会办公{o}",
    "政协{p}委员会办公{o}",
    "{p}{court}人民法院",
    "{p}人民检察院",
    "{p}总工会",
    "共青团{p}委员会",
    "{p}妇女联合会",
)
COURT = {
    "cq_city": "高级",
    "sc_prov": "高级",
    "sc_city": "中级",
    "cq_district": "",
    "sc_district": "",
}
# Chengdu district bureaus serve the same departments as a city, at district level.
SUFFIX_LEVEL = {"sc_district": "sc_city"}


def department_names(level: str, place: str) -> tuple[list[str], list[str]]:
    """(core, all) names of the agencies a bureau of `level` in `place` serves."""
    office = "厅" if level in ("cq_city", "sc_prov") else "室"
    court = COURT[level]
    lists = SUFFIX_LEVEL.get(level, level)
    core = [place + s for s in _CORE_SUFFIXES[lists].split()]
    more = [place + s for s in _MORE_SUFFIXES[lists].split()]
    party = [t.format(p=place, o=office, court=court) for t in PARTY_AND_OTHER]
    return core, core + more + party


# -- roles and demo logins ------------------------------------------------------------------

DOMAINS = (
    "org", "system", "audit", "standards", "evaluation", "vehicles", "dispatch", "telemetry",
    "canteens",
    "energy", "offices", "costs", "services",
)  # fmt: skip
VIEW_ALL = [f"{d}.view" for d in DOMAINS]

# key, name, permissions, data scope, description
ROLES = (
    ("platform_admin", "平台管理员", ["*"], DataScope.ALL, "全平台所有功能与数据"),
    (
        "provincial_coordinator",
        "省级统筹",
        ["org.view", "system.view", "audit.view", "standards.*", "evaluation.*"]
        + [
            p
            for p in VIEW_ALL
            if p.split(".")[0] not in ("org", "system", "audit", "standards", "evaluation")
        ],
        DataScope.REGION,
        "本省（市）范围统筹：组织、系统与审计查看，标准与评价管理，各业务数据查看",
    ),
    (
        "bureau_leader",
        "局领导",
        VIEW_ALL,
        DataScope.AGENCY_AND_BELOW,
        "查看本单位及下级全部业务数据",
    ),
    (
        "standards_officer",
        "标准化专员",
        ["standards.*", "org.view"],
        DataScope.AGENCY_AND_BELOW,
        "维护标准库、标准体系与标准起草",
    ),
    (
        "fleet_manager",
        "车辆管理员",
        ["vehicles.*", "dispatch.*", "telemetry.view", "org.view"],
        DataScope.AGENCY_AND_BELOW,
        "公务用车登记、派车、监控与违规处置",
    ),
    (
        "canteen_manager",
        "食堂管理员",
        ["canteens.*", "org.view"],
        DataScope.AGENCY,
        "机关食堂就餐预测、菜谱、采购、浪费与食品安全",
    ),
    (
        "agency_staff",
        "单位职工",
        ["org.view", "dispatch.view", "dispatch.add", "dispatch.change"],
        DataScope.SELF,
        "提出用车、会议室、维修等服务申请（仅本人的申请）",
    ),
    (
        "auditor",
        "审计员",
        ["audit.view", "org.view"],
        DataScope.AGENCY_AND_BELOW,
        "查看变更记录、操作日志与登录日志",
    ),
    (
        "group_liaison",
        "协作小组联络员",
        ["org.view", "standards.view", "evaluation.view"],
        DataScope.CUSTOM,
        "查看所联络协作小组各成员单位的组织与标准数据",
    ),
)
LIAISON_GROUP = 1  # index into GROUPS: the group whose members the liaison role may see

# username, role key, agency name, real name
DEMO_LOGINS = (
    ("admin_demo", "platform_admin", CQ_BUREAU, "王建国"),
    ("cq_coordinator", "provincial_coordinator", CQ_BUREAU, "陈思远"),
    ("sc_coordinator", "provincial_coordinator", SC_BUREAU, "李蓉"),
    ("dazu_leader", "bureau_leader", "大足区机关事务管理中心", "刘志强"),
    ("dazu_standards", "standards_officer", "大足区机关事务管理中心", "张敏"),
    ("dazu_fleet", "fleet_manager", "大足区机关事务管理中心", "赵刚"),
    ("dazu_canteen", "canteen_manager", "大足区机关事务管理中心", "周丽"),
    ("dazu_staff", "agency_staff", "大足区财政局", "杨帆"),
    ("auditor", "auditor", CD_BUREAU, "吴静"),
    ("group_liaison", "group_liaison", "荣昌区机关事务管理局", "黄磊"),
)
BUREAU_ROLES = ("bureau_leader", "standards_officer", "fleet_manager", "canteen_manager", "auditor")


# -- composition ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BureauSpec:
    key: str  # member key used in GROUPS
    name: str
    short_name: str
    kind: str
    region: str
    parent: str | None  # name of the parent bureau
    level: str | None  # which department list it serves (None: serves nobody)
    place: str  # the prefix of the names of the agencies it serves


def short_place(name: str) -> str:
    """石柱土家族自治县 → 石柱县, 阿坝藏族羌族自治州 → 阿坝州, 大足区 → 大足区."""
    for suffix in ("自治县", "自治州"):
        if name.endswith(suffix):
            return name[:2] + suffix[-1]
    return name


BUREAU, UNIT = Agency.Kind.BUREAU, Agency.Kind.SERVICE_UNIT


def composition(regions: dict[str, dict]) -> list[BureauSpec]:
    """The 68 participating bureaus, parents before children."""
    specs = [
        BureauSpec("CQ", CQ_BUREAU, "重庆市机关事务局", BUREAU, CQ, None, "cq_city", "重庆市"),
        BureauSpec("CQL", CQ_LOGISTICS, "市级机关后勤服务中心", UNIT, CQ, CQ_BUREAU, None, ""),
    ]
    for code, row in regions.items():
        if row["parent"] == CQ:
            centre = code in CQ_CENTRES
            word = "中心" if centre else "局"
            specs.append(
                BureauSpec(
                    code,
                    f"{row['name']}机关事务管理{word}",
                    f"{short_place(row['name'])}机关事务{word}",
                    Agency.Kind.CENTRE if centre else Agency.Kind.BUREAU,
                    code,
                    CQ_BUREAU,
                    "cq_district",
                    row["name"],
                )
            )
    specs.append(
        BureauSpec("SC", SC_BUREAU, "四川省机关事务局", BUREAU, SC, None, "sc_prov", "四川省")
    )
    for code, row in regions.items():
        if row["parent"] == SC:
            specs.append(
                BureauSpec(
                    code,
                    f"{row['name']}机关事务管理局",
                    f"{short_place(row['name'])}机关事务局",
                    Agency.Kind.BUREAU,
                    code,
                    SC_BUREAU,
                    "sc_city",
                    row["name"],
                )
            )
    for code in CHENGDU_DISTRICTS:
        place = "成都市" + regions[code]["name"]
        short = f"{regions[code]['name']}机关事务局"
        specs.append(
            BureauSpec(
                f"cd:{code}",
                f"{place}机关事务管理局",
                short,
                BUREAU,
                code,
                CD_BUREAU,
                "sc_district",
                place,
            )
        )
    return specs


def full_place(region: dict, regions: dict[str, dict]) -> str:
    """四川省成都市锦江区, 重庆市大足区 — the region with its ancestors, for addresses."""
    names = []
    row = region
    while row is not None:
        names.append(row["name"])
        row = regions.get(row["parent"]) if row["parent"] else None
    return "".join(reversed(names))


def credit_category(kind: str) -> str:
    if kind in (Agency.Kind.SERVICE_UNIT, Agency.Kind.MOTORPOOL):
        return fake.CATEGORY_INSTITUTION
    if kind == Agency.Kind.CANTEEN_OPERATOR:
        return fake.CATEGORY_ENTERPRISE
    return fake.CATEGORY_ORGAN


# -- the part -------------------------------------------------------------------------------


@demo_part("core", order=10)
def build_core(ctx: DemoContext) -> dict[str, int]:
    """行政区划、68 家机关事务部门及其服务单位、5 个协作小组、角色与用户"""
    rows = json.loads(REGIONS_JSON.read_text(encoding="utf-8"))["regions"]
    regions = {r["code"]: r for r in rows}
    pick_rng, codes_rng, people_rng = ctx.derive("pick"), ctx.derive("codes"), ctx.derive("people")

    ctx.stage("行政区划", total=1)
    created_regions = services.load_regions(rows)
    ctx.regions_by_code.update({r.code: r for r in Region.objects.all()})
    ctx.tick()

    specs = composition(regions)
    # Decide the whole plan first, so the progress bar knows its total.
    plan: list[tuple[BureauSpec, list[str]]] = []
    for spec in specs:
        served: list[str] = []
        if spec.level:
            core, everything = department_names(spec.level, spec.place)
            finance = next(n for n in core if "财政" in n)
            n = ctx.amount("served_agencies", small=(3, 5), province=(25, 40), rng=pick_rng)
            pool = core if ctx.scale == "small" and n <= len(core) else everything
            others = [x for x in pool if x != finance]
            chosen = {finance, *pick_rng.sample(others, min(max(n - 1, 0), len(others)))}
            served = [x for x in everything if x in chosen]
        plan.append((spec, served))
    total_agencies = len(specs) + len(CQ_OTHER_UNITS) + sum(len(s) for _, s in plan)

    used_codes: set[str] = set()

    def add(name, region_code, kind, parent, short_name=""):
        region = regions[region_code]
        agency = services.create_agency(
            None,
            parent=parent,
            name=name,
            short_name=short_name,
            kind=kind,
            region=ctx.regions_by_code[region_code],
            credit_code=fake.credit_code(codes_rng, region_code, credit_category(kind), used_codes),
            contact_person=fake.person_name(people_rng),
            contact_phone=fake.landline(people_rng, region_code),
            address=fake.street_address(people_rng, full_place(region, regions)),
        )
        ctx.agencies_by_name[name] = agency
        ctx.tick()
        return agency

    ctx.stage("机关事务部门与服务单位", total=total_agencies)
    for spec in specs:
        parent = ctx.agencies_by_name[spec.parent] if spec.parent else None
        bureau = add(spec.name, spec.region, spec.kind, parent, spec.short_name)
        ctx.bureaus.append(bureau)
        if spec.key == "CQ":
            for name, kind in CQ_OTHER_UNITS:
                add(name, CQ, kind, bureau)
    for spec, served in plan:
        bureau = ctx.agencies_by_name[spec.name]
        ctx.served[spec.name] = [
            add(name, spec.region, Agency.Kind.AGENCY, bureau) for name in served
        ]

    ctx.stage("协作小组", total=len(GROUPS))
    by_key = {spec.key: ctx.agencies_by_name[spec.name] for spec in specs}
    for name, convener, cq_keys, sc_keys in GROUPS:
        members = [by_key[k] for k in (*cq_keys, *sc_keys)]
        group = services.save_group(
            None,
            name=name,
            description=GROUP_DESCRIPTION.format(
                n=len(members), cq=len(cq_keys), sc=len(sc_keys), convener=convener
            ),
            agency=ctx.agencies_by_name[convener],
            members=members,
        )
        ctx.groups.append(group)
        ctx.tick()

    ctx.stage("角色", total=len(ROLES))
    for key, name, permissions, scope, description in ROLES:
        custom = (
            list(ctx.groups[LIAISON_GROUP].members.all()) if scope == DataScope.CUSTOM else None
        )
        if custom is not None:
            description += f"（{ctx.groups[LIAISON_GROUP].name}）"
        ctx.roles_by_key[key] = services.save_role(
            None,
            key=key,
            name=name,
            permissions=list(permissions),
            data_scope=scope,
            description=description,
            custom_agencies=custom,
        )
        ctx.tick()

    users = _build_users(ctx, people_rng)
    return {
        "regions": created_regions,
        "agencies": len(ctx.agencies_by_name),
        "bureaus": len(ctx.bureaus),
        "groups": len(ctx.groups),
        "roles": len(ctx.roles_by_key),
        "users": users,
    }


def _build_users(ctx: DemoContext, rng) -> int:
    plan: list[tuple[str, str, Agency, str]] = []  # username, role key, agency, real name
    for username, role, agency_name, real_name in DEMO_LOGINS:
        plan.append((username, role, ctx.agencies_by_name[agency_name], real_name))
    serial: dict[str, int] = {}

    def username_for(agency: Agency) -> str:
        code = agency.region.code
        serial[code] = serial.get(code, 0) + 1
        return f"u{code}{serial[code]:03d}"

    for bureau in ctx.bureaus:
        n = ctx.amount("bureau_users", small=(1, 2), province=(4, 8), rng=rng)
        start = rng.randrange(len(BUREAU_ROLES))
        for i in range(n):
            role = BUREAU_ROLES[(start + i) % len(BUREAU_ROLES)]
            plan.append((username_for(bureau), role, bureau, fake.person_name(rng)))
        for agency in ctx.served.get(bureau.name, []):
            for _ in range(ctx.amount("agency_users", small=0, province=(1, 2), rng=rng)):
                plan.append((username_for(agency), "agency_staff", agency, fake.person_name(rng)))

    # One password hash for every demo account: hashing is deliberately slow (~0.2 s each),
    # and they all share the one documented demo password anyway.
    validate_password(DEMO_PASSWORD)
    ctx.stage("用户", total=len(plan))
    created = []
    for username, role_key, agency, real_name in plan:
        user = services.create_user(
            None,
            username=username,
            password=None,
            roles=[ctx.roles_by_key[role_key]],
            agency=agency,
            real_name=real_name,
            phone=fake.mobile(rng),
            email=f"{username}@example.com",
        )
        ctx.users_by_username[username] = user
        created.append(user.pk)
        ctx.tick()
    # The password column is left out of the audit trail, so setting the shared hash in bulk
    # changes nothing the trail would record.
    hashed = make_password(DEMO_PASSWORD)
    for i in range(0, len(created), 500):
        User.objects.filter(pk__in=created[i : i + 500]).update(password=hashed)
    return len(created)
