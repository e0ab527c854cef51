"""Standards search at library scale: p50/p95 of `search()` against a naive scan, same run.

Generates a synthetic library (plainly synthetic: Chinese clause text composed from a
vocabulary of government-affairs administration, word frequencies Zipf-distributed so
that queries range from rare to very common words; codes DB50/T, DB51/T, GB/T, T/…, Q/…;
one code in ten with an older, superseded edition), bulk-inserts it, builds the index in
bulk (`reindex_all`), then times a fixed set of queries — rare, medium and common words,
several words, long phrases, titles, codes in variant written forms, no match — through
`search()`, as the system (no scope) and as a user of one agency (the scope compiled into
the match), each `--repeat` times. The baseline in the same run is the naive search a
first version would write: every clause whose text or title contains every word of the
query (LIKE '%word%', a full scan), grouped by standard, the standards with most matching
clauses first.

    .venv/bin/python bench/bench_search.py [--standards 10000] [--clauses-per 50]
        [--repeat 10] [--baseline-repeat 2]

SQLite in a temporary GUANJIA_HOME; PostgreSQL when GUANJIA_DATABASE_URL is set (a
database `<name>_bench_search` is created on that server and dropped afterwards).
"""

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
import warnings
from urllib.parse import urlsplit, urlunsplit

SUBJECTS = (
    "食堂 公务用车 办公用房 会议室 公共机构 物业服务企业 接待单位 管理部门 后勤服务中心 供应商 "
    "驾驶员 保洁人员 安保人员 维修单位 档案室 机房 配电室 锅炉房 停车场 绿化区域 就餐区 "
    "加工区 仓库 车辆调度中心 节能管理部门 资产管理部门 服务窗口 值班室 电梯 给排水设施"
).split()
VERBS = (
    "建立 制定 落实 执行 记录 统计 公示 检查 评估 维护 保养 更新 核查 审批 登记 备案 清理 "
    "消毒 巡查 培训 考核 上报 存档 抽检 分析 通报 整改 复核 监测 计量"
).split()
OBJECTS = (
    "管理制度 工作台账 应急预案 服务标准 操作规程 安全责任制 质量目标 能耗数据 用水记录 "
    "用电记录 采购清单 验收记录 维修记录 巡检记录 培训计划 考核结果 满意度调查 投诉处理 "
    "资产清单 设备档案 食品留样 索证索票 餐厨垃圾 生活垃圾 垃圾分类 节能措施 车辆信息 派车单 "
    "油耗记录 出车记录 钥匙管理 消防设施 监控录像 访客登记 会议签到 物资出入库 保修合同 "
    "询价记录 比价结果 合同文本 付款凭证 卫生检查表 晨检记录 留样记录 能源审计报告 "
    "用能设备清单 照明设施 空调设备 办公家具 公务卡 接待清单 菜品目录 食材 定位数据"
).split()
METRICS = (
    "光盘率 满意度 人均综合能耗 单位建筑面积能耗 人均用水量 报损率 周转天数 预估偏差率 "
    "职能覆盖率 投诉办结率 设备完好率 车辆完好率 百公里油耗 出车率 垃圾分类准确率 "
    "资源化利用率 绿化覆盖率 巡查覆盖率 培训覆盖率 维修及时率"
).split()
ADVERBS = "每日 每周 每月 每季度 每年 定期 及时 按规定 统一 严格".split()
MODALS = ["应", "应", "应", "宜", "可", "不应"]
COMPARE = ["不应低于", "不应超过", "不宜低于", "应达到", "不少于", "不大于"]
UNITS = ["%", "%", "天", "小时", "千瓦时", "立方米", "克", "元", "次", "人次"]
TOPICS = (
    "机关食堂反食品浪费 公务用车使用管理 办公用房维修 公共机构节能 会议服务 物业服务质量 "
    "生活垃圾分类 机关事务标准体系 公务接待 国有资产处置 机关运行经费 后勤服务评价 "
    "机关食堂食品安全 公务用车定位监控 办公用房使用 节约用水 节约用电 绿色机关创建 "
    "档案管理 安全保卫 车辆维修 食材采购 会议室管理 机关幼儿园服务"
).split()
KINDS = ["规范", "指南", "要求", "评价规范", "管理规范", "服务规范", "工作规范"]
CHAPTERS = ["基本要求", "管理要求", "服务要求", "安全要求", "记录与档案", "评价与改进"]
PREFIXES = [("DB50/T", 0.35), ("DB51/T", 0.35), ("GB/T", 0.1), ("T/CQJG", 0.1), ("Q/DZJG", 0.1)]


def zipf(pool, rng, k=1):
    weights = [1 / (i + 1) for i in range(len(pool))]
    return rng.choices(pool, weights=weights, k=k)


def sentence(rng) -> str:
    s, v, o = zipf(SUBJECTS, rng)[0], zipf(VERBS, rng)[0], zipf(OBJECTS, rng)[0]
    m, cmp_, unit = zipf(METRICS, rng)[0], rng.choice(COMPARE), rng.choice(UNITS)
    n = rng.randint(1, 100)
    match rng.randrange(5):
        case 0:
            return f"{s}{rng.choice(MODALS)}{rng.choice(ADVERBS)}{v}{o}。"
        case 1:
            return f"{m}{cmp_}{n}{unit}。"
        case 2:
            v2, o2, o3 = zipf(VERBS, rng)[0], zipf(OBJECTS, rng)[0], zipf(OBJECTS, rng)[0]
            return f"{s}{rng.choice(MODALS)}{v}{o}，并{v2}{o2}，{o3}保存不少于{n % 5 + 1}年。"
        case 3:
            return f"{o}{rng.choice(MODALS)}{rng.choice(ADVERBS)}{v}，{m}{cmp_}{n}{unit}。"
        case _:
            v2, v3 = zipf(VERBS, rng)[0], zipf(VERBS, rng)[0]
            o2, o3 = zipf(OBJECTS, rng)[0], zipf(OBJECTS, rng)[0]
            return (
                f"{s}在{o}过程中{rng.choice(MODALS)}{v}{o2}，发现问题应及时{v2}，"
                f"相关{o3}{rng.choice(MODALS)}{v3}。"
            )


def clause_texts(rng, count: int) -> list[tuple[str, str, str]]:
    """(number, title, text) in document order: chapters with numbered clauses."""
    out, chapter, sub = [], 0, 0
    while len(out) < count:
        if sub == 0 or sub >= rng.randint(5, 9):
            chapter, sub = chapter + 1, 0
            out.append((str(chapter), rng.choice(CHAPTERS), ""))
            sub = 1
            continue
        text = "".join(sentence(rng) for _ in range(rng.choice((1, 1, 2))))
        out.append((f"{chapter}.{sub}", "", text))
        sub += 1
    return out


def percentile(samples, p):
    samples = sorted(samples)
    return samples[min(len(samples) - 1, round(p / 100 * (len(samples) - 1)))]


def prepare_database() -> tuple[str, str | None]:
    """Point Django at a fresh database; returns (vendor, the admin URL to drop it with)."""
    os.environ["GUANJIA_HOME"] = tempfile.mkdtemp(prefix="guanjia-bench-search-")
    url = os.environ.get("GUANJIA_DATABASE_URL")
    if not url:
        return "sqlite", None
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench_search"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["GUANJIA_DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))
    return "postgresql", admin


def drop_database(admin: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = urlsplit(os.environ["GUANJIA_DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--standards", type=int, default=10_000)
    parser.add_argument("--clauses-per", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--baseline-repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")
    vendor, admin = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanjia.settings")
    import django

    django.setup()
    try:
        run(args, vendor)
    finally:
        if admin:
            drop_database(admin)


def build_library(args, rng, agencies):
    from guanjia.standards.codes import parse_code
    from guanjia.standards.models import Clause, Standard, Term

    started = time.perf_counter()
    editions, number = [], 1000
    while len(editions) < args.standards:
        prefix = rng.choices([p for p, _w in PREFIXES], weights=[w for _p, w in PREFIXES])[0]
        number += 1
        years = [rng.randint(2019, 2025)]
        if rng.random() < 0.1 and len(editions) + 1 < args.standards:
            years.insert(0, years[0] - rng.randint(3, 6))
        title = f"{rng.choice(TOPICS)}{rng.choice(KINDS)}"
        for year in years:
            editions.append((prefix, number, year, title, year != years[-1]))
    standards = []
    for i, (prefix, number, year, title, superseded) in enumerate(editions):
        code = parse_code(f"{prefix} {number}—{year}")
        agency = agencies[i % len(agencies)]
        standards.append(
            Standard(
                code=code.display,
                code_key=code.key,
                code_prefix=code.prefix,
                code_number=code.number,
                year=year,
                title=title,
                english_title="Synthetic sample standard",
                level=code.level,
                mandatory=code.mandatory,
                agency=agency,
                is_public=not prefix.startswith("Q/"),
                stage="superseded" if superseded else "published",
            )
        )
    Standard.objects.bulk_create(standards, batch_size=2000)
    # Replacement links: each superseded edition is replaced by the next one of its code.
    through = Standard.replaces.through
    links = [
        through(from_standard_id=standards[i + 1].pk, to_standard_id=s.pk)
        for i, s in enumerate(standards)
        if s.stage == "superseded"
    ]
    through.objects.bulk_create(links, batch_size=5000)
    clauses = terms = 0
    for i in range(0, len(standards), 500):
        batch_c, batch_t = [], []
        for standard in standards[i : i + 500]:
            for pos, (num, ctitle, text) in enumerate(clause_texts(rng, args.clauses_per)):
                kind = "heading" if not text else "requirement" if "应" in text else "informative"
                batch_c.append(
                    Clause(
                        standard=standard,
                        number=num,
                        title=ctitle,
                        text=text,
                        kind=kind,
                        depth=num.count(".") + 1,
                        position=pos,
                    )
                )
            for j, metric in enumerate(rng.sample(METRICS, 3), start=1):
                batch_t.append(
                    Term(
                        standard=standard,
                        number=f"3.{j}",
                        term=metric,
                        definition=f"统计期内{zipf(OBJECTS, rng)[0]}的{metric}。",
                    )
                )
        Clause.objects.bulk_create(batch_c, batch_size=5000)
        Term.objects.bulk_create(batch_t, batch_size=5000)
        clauses += len(batch_c)
        terms += len(batch_t)
    seconds = time.perf_counter() - started
    print(
        f"library: {len(standards):,} standards ({len(links):,} superseded editions), "
        f"{clauses:,} clauses, {terms:,} terms, inserted in {seconds:.1f} s"
    )
    return standards


def queries(rng, standards):
    dated = [s for s in rng.sample(standards, 6)]
    old = next(s for s in standards if s.stage == "superseded")
    return {
        "rare word": ["维修及时率", "锅炉房", "资源化利用率", "机关幼儿园"],
        "medium word": ["光盘率", "餐厨垃圾", "派车单", "应急预案", "索证索票"],
        "common word": ["食堂", "管理制度", "记录"],
        "several words": ["公务用车 派车单", "光盘率 食堂", "餐厨垃圾 分类", "能耗 统计 上报"],
        "long phrase": ["人均综合能耗不应超过", "食堂应每日记录餐厨垃圾"],
        "title": ["机关食堂反食品浪费规范", "公共机构节能指南"],
        "code": [
            dated[0].code,
            dated[1].code_key.lower(),
            dated[2].code.replace("—", "-").replace(" ", ""),
            dated[3].code.translate(str.maketrans("0123456789/ -", "０１２３４５６７８９／　－")),
            f"{old.code_prefix} {old.code_number}",
            f"{dated[4].code_prefix}{dated[4].code_number}",
        ],
        "no match": ["鲟鳇养殖"],
    }


def naive(q: str, limit: int = 20):
    """The first version one would write: LIKE on every word, a full scan."""
    from django.db.models import Count, Q

    from guanjia.standards.models import Clause

    qs = Clause.objects.all()
    for word in q.split():
        qs = qs.filter(Q(text__contains=word) | Q(title__contains=word))
    return list(
        qs.values("standard_id").annotate(n=Count("id")).order_by("-n", "standard_id")[:limit]
    )


def timed(fn, repeat):
    fn()  # warm the page cache and the statement cache, as a running server would be
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def run(args, vendor):
    from django.core.management import call_command
    from django.db import connection

    from guanjia.core import services
    from guanjia.core.models import Region
    from guanjia.core.scope import DataScope
    from guanjia.standards import search as engine

    call_command("migrate", verbosity=0)
    services.load_regions(
        [
            {"code": "500000", "name": "重庆市", "parent": None, "level": "province"},
            {"code": "510000", "name": "四川省", "parent": None, "level": "province"},
        ]
    )
    regions = {r.code: r for r in Region.objects.all()}
    agencies = [
        services.create_agency(None, name="重庆市机关事务管理局", region=regions["500000"]),
        services.create_agency(None, name="四川省机关事务管理局", region=regions["510000"]),
    ]
    role = services.save_role(
        None,
        key="bench_reader",
        name="标准查阅",
        permissions=["standards.view"],
        data_scope=DataScope.AGENCY,
    )
    reader = services.create_user(
        None, username="bench_reader", password="Bench-Pass-2026!", agency=agencies[0], roles=[role]
    )

    rng = random.Random(args.seed)
    standards = build_library(args, rng, agencies)
    started = time.perf_counter()
    stats = engine.reindex_all()
    print(f"index: {stats['rows']:,} rows, built in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:  # planner statistics, as a database in service has
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")

    print(
        f"\n{vendor} · {platform.machine()} · {os.cpu_count()} cores · Python "
        f"{platform.python_version()} · {time.strftime('%Y-%m-%d')}"
    )
    if vendor == "sqlite":
        import sqlite3

        print(f"SQLite {sqlite3.sqlite_version}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            print(f"PostgreSQL {cursor.fetchone()[0]}")

    sets = queries(rng, standards)
    rows = []
    all_engine, all_scoped, all_naive = [], [], []
    print(
        f"\n{'kind':<14} {'query':<26} {'hits':>4} {'search p95':>10} {'scoped p95':>10} "
        f"{'naive p95':>10}"
    )
    for kind, qs in sets.items():
        for q in qs:
            found = engine.search(None, q)
            e = timed(lambda q=q: engine.search(None, q), args.repeat)
            s = timed(lambda q=q: engine.search(reader, q), args.repeat)
            n = timed(lambda q=q: naive(q), args.baseline_repeat)
            all_engine += e
            all_scoped += s
            all_naive += n
            rows.append((kind, q, e, s, n))
            print(
                f"{kind:<14} {q:<26} {len(found):>4} {percentile(e, 95):9.1f}ms "
                f"{percentile(s, 95):9.1f}ms {percentile(n, 95):9.1f}ms"
            )

    print(f"\nover {len(rows)} queries ({args.repeat} runs each, baseline {args.baseline_repeat}):")
    print(f"{'':<28} {'p50':>9} {'p95':>9} {'max':>9}")
    for label, samples in [
        ("search (system)", all_engine),
        ("search (agency reader)", all_scoped),
        ("naive LIKE scan", all_naive),
    ]:
        print(
            f"{label:<28} {statistics.median(samples):8.1f}ms {percentile(samples, 95):8.1f}ms "
            f"{max(samples):8.1f}ms"
        )
    worst = max(percentile(all_engine, 95), percentile(all_scoped, 95))
    ratio = percentile(all_naive, 95) / worst
    print(f"\nsearch p95 {worst:.1f} ms (target ≤ 30 ms); naive p95 / search p95 = {ratio:.0f}×")


if __name__ == "__main__":
    main()
