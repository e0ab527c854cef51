"""Quantitative requirements: the fixtures' lists written out by hand from their text, the
comparisons and verbal forms one by one, indicator suggestions, the CLI."""

import json
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from guanjia.standards.document import ClauseDoc
from guanjia.standards.requirements import Requirement, extract, extract_clause, suggest_indicator

from .textdoc import FIXTURES, load_fixture


def rows(doc_or_clause):
    found = (
        extract(doc_or_clause)
        if hasattr(doc_or_clause, "clauses")
        else extract_clause(doc_or_clause)
    )
    return [(r.clause, r.subject, r.op, r.value, r.unit, r.strength) for r in found]


def one(text, kind="requirement"):
    found = rows(ClauseDoc("4.1", "", text, kind))
    assert len(found) == 1, found
    _clause, subject, op, value, unit, strength = found[0]
    return subject, op, value, unit, strength


D = Decimal


def test_requirements_db50_9001():
    assert rows(load_fixture("DB50-T-9001-2022.txt")) == [
        ("4.2", "记录保存", ">=", D(2), "年", "shall"),
        ("4.3", "预估偏差率", "<=", D(10), "%", "should"),
        ("5.1", "询价供应商", ">=", D(3), "家", "shall"),
        ("5.2", "食材库存周转天数", "<=", D(7), "天", "shall"),
        ("5.3", "过期食材报损率", "<=", D(1), "%", "shall"),
        ("6.3", "倾销量日均值较上年度下降", ">=", D(10), "%", "shall"),
        ("7.2", "人均餐厨垃圾量", "<=", D(150), "克每人次", "shall"),
        ("7.3", "台账保存", ">=", D(2), "年", "shall"),
        ("8.2", "光盘率", ">=", D(85), "%", "shall"),
        ("9.2", "就餐人员满意度", ">=", D(90), "%", "shall"),
    ]


def test_requirements_condition_of_5_1():
    found = extract(load_fixture("DB50-T-9001-2022.txt"))
    conditions = {r.clause: [c.to_dict() for c in r.conditions] for r in found if r.conditions}
    assert conditions == {
        "5.1": [{"subject": "单次采购金额", "op": ">", "value": 5000, "unit": "元"}]
    }


def test_requirements_db50_9003():
    # 4.3 "每年复审一次" and 7.2 "满5年的应开展复审" (a condition only) are not quantitative.
    assert rows(load_fixture("DB50-T-9003-2023.txt")) == [
        ("4.1", "职能覆盖率", ">=", D(100), "%", "shall"),
        ("6.2", "标准明细表中现行标准的占比", ">=", D(80), "%", "should"),
        ("7.1", "已废止标准从标准明细表中移除", "<=", D(30), "日", "shall"),
    ]


def test_requirements_db51_9002():
    # 4.1 and 5.4 compare with no number; 6.1, 6.3, 7.1 are conditions of actions; the
    # code JT/T 808—2019 in 5.2 is not a quantity.
    assert rows(load_fixture("DB51-T-9002-2021.txt")) == [
        ("4.2", "机要通信用车排气量", "<=", D("1.6"), "升", "shall"),
        ("4.2", "购车价格", "<=", D(12), "万元", "shall"),
        ("4.3", "应急保障用车和其他按照规定配备的公务用车排气量", "<=", D("1.8"), "升", "shall"),
        ("4.3", "购车价格", "<=", D(18), "万元", "shall"),
        ("4.4", "新能源轿车购车价格", "<=", D(18), "万元", "shall"),
        ("5.2", "定位数据上报间隔", "<=", D(30), "秒", "shall"),
        ("8.2", "违规用车预警核查处理", "<=", D(24), "小时", "shall"),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("光盘率不应低于85%。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应不低于85%。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应达到85%。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应达到85%以上。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应在85%以上。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应≥85%。", ("光盘率", ">=", D(85), "%", "shall")),
        ("光盘率应高于85%。", ("光盘率", ">", D(85), "%", "shall")),
        ("光盘率不应超过85%。", ("光盘率", "<=", D(85), "%", "shall")),
        ("人均能耗应不超过20 kgce/人。", ("人均能耗", "<=", D(20), "kgce/人", "shall")),
        ("人均用水量不宜大于18升。", ("人均用水量", "<=", D(18), "升", "should")),
        ("噪声不应高于55 dB。", ("噪声", "<=", D(55), "dB", "shall")),
        ("车速应≤30 km/h。", ("车速", "<=", D(30), "km/h", "shall")),
        ("车速应小于30km/h。", ("车速", "<", D(30), "km/h", "shall")),
        ("投诉率应低于1%。", ("投诉率", "<", D(1), "%", "shall")),
        ("投诉率不应高于1%。", ("投诉率", "<=", D(1), "%", "shall")),
        ("单次会议时长不宜超过2小时。", ("单次会议时长", "<=", D(2), "小时", "should")),
        ("报修响应时间应在2个工作日以内。", ("报修响应时间", "<=", D(2), "个工作日", "shall")),
        ("维修申请应在3个工作日内办结。", ("维修申请办结", "<=", D(3), "个工作日", "shall")),
        ("维修申请应于3个工作日内办结。", ("维修申请办结", "<=", D(3), "个工作日", "shall")),
        ("定位数据上报间隔应为30秒。", ("定位数据上报间隔", "==", D(30), "秒", "shall")),
        ("询价供应商不应少于三家。", ("询价供应商", ">=", D(3), "家", "shall")),
        ("会议室使用率可不低于60%。", ("会议室使用率", ">=", D(60), "%", "may")),
        (
            "办公用房使用面积不得超过18平方米。",
            ("办公用房使用面积", "<=", D(18), "平方米", "shall"),
        ),
        ("人均办公面积严禁超过12 m²。", ("人均办公面积", "<=", D(12), "m²", "shall")),
        ("能耗较2020年下降不少于5%。", ("能耗较2020年下降", ">=", D(5), "%", "shall")),
        ("应急车辆完好率不应低于95%。", ("应急车辆完好率", ">=", D(95), "%", "shall")),
        ("光盘率不低于８５％。", ("光盘率", ">=", D(85), "%", "shall")),
        (
            "单位建筑面积能耗应较2020年下降5%以上。",
            ("单位建筑面积能耗较2020年下降", ">=", D(5), "%", "shall"),
        ),
        ("正职办公室使用面积不应超过54 m²。", ("正职办公室使用面积", "<=", D(54), "m²", "shall")),
        (
            "应在收到申请后5个工作日内完成审批。",
            ("收到申请后完成审批", "<=", D(5), "个工作日", "shall"),
        ),
        ("车辆使用年限一般不低于8年。", ("车辆使用年限", ">=", D(8), "年", "shall")),
        (
            "每万元产值能耗不宜高于0.5吨标准煤。",
            ("每万元产值能耗", "<=", D("0.5"), "吨标准煤", "should"),
        ),
        ("光盘率宜至少为85%。", ("光盘率", ">=", D(85), "%", "should")),
    ],
)
def test_requirement_forms(text, expected):
    assert one(text) == expected


def test_requirement_negation_and_strength_of_each_form():
    assert one("排气量不应超过1.6升。")[1:] == ("<=", D("1.6"), "升", "shall")
    assert one("满意度不应低于90%。")[1:] == (">=", D(90), "%", "shall")
    assert one("偏差率不宜超过10%。")[1:] == ("<=", D(10), "%", "should")
    assert one("偏差率不宜低于10%。")[1:] == (">=", D(10), "%", "should")
    assert one("保存期可超过3年。")[1:] == (">", D(3), "年", "may")


def test_requirement_strength_from_earlier_verbal_form_or_kind():
    assert one("食堂应按日记录，记录保存不少于2年。")[-1] == "shall"
    assert one("食堂宜按日记录，记录保存不少于2年。")[-1] == "should"
    assert one("记录保存不少于2年。", kind="requirement")[-1] == "shall"
    assert rows(ClauseDoc("5.1", "", "本系统记录保存不少于2年。", "informative")) == []


def test_requirements_not_taken_from_statements_scope_terms_or_bare_numbers():
    assert rows(ClauseDoc("1", "范围", "本文件适用于不少于3家单位。", "scope")) == []
    assert rows(ClauseDoc("3.2", "人均餐厨垃圾量", "单位为克每人次。", "term")) == []
    assert rows(ClauseDoc("4.3", "", "标准体系应每年复审一次。", "requirement")) == []
    assert rows(ClauseDoc("6.2", "", "加油卡应一车一卡。", "requirement")) == []
    assert rows(ClauseDoc("7.1", "", "近3年内未发生事故的可申请评优。", "permission")) == []
    assert rows(ClauseDoc("5.2", "", "终端应符合JT/T 808—2019的要求。", "requirement")) == []
    assert rows(ClauseDoc("5.2", "", "应按GB/T 2589—2020第4.2条计算。", "requirement")) == []


def test_requirement_conditions_joined_and_condition_only_sentences():
    found = extract_clause(
        ClauseDoc("7.1", "", "使用年限满8年且行驶里程超过25万公里的，报废率不应超过5%。")
    )
    assert [(r.subject, r.op, r.value, r.unit) for r in found] == [("报废率", "<=", D(5), "%")]
    assert [str(c) for c in found[0].conditions] == ["使用年限 >= 8 年", "行驶里程 > 25 万公里"]
    # A sentence with only a condition has no quantitative requirement.
    assert extract_clause(ClauseDoc("6.1", "", "单次维修费用超过5000元的应事前审批。")) == []


def test_several_requirements_in_one_clause_keep_their_sentences():
    found = extract_clause(
        ClauseDoc(
            "4.2",
            "",
            "排气量不应超过1.6升，购车价格不应超过12万元。保存期不少于2年。",
            "requirement",
        )
    )
    assert [(r.subject, r.op, r.value, r.unit) for r in found] == [
        ("排气量", "<=", D("1.6"), "升"),
        ("购车价格", "<=", D(12), "万元"),
        ("保存期", ">=", D(2), "年"),
    ]
    assert found[0].text == "排气量不应超过1.6升，购车价格不应超过12万元"
    assert found[2].text == "保存期不少于2年"


def test_range_gives_both_bounds():
    found = extract_clause(ClauseDoc("4.1", "", "室内温度应为26~28℃。"))
    assert [(r.op, r.value, r.unit) for r in found] == [(">=", D(26), "℃"), ("<=", D(28), "℃")]
    found = extract_clause(ClauseDoc("4.1", "", "年度节能率宜达到2%～3%。"))
    assert [(r.op, r.value, r.unit) for r in found] == [(">=", D(2), "%"), ("<=", D(3), "%")]


def test_requirement_json_values_are_numbers():
    req = extract_clause(ClauseDoc("4.2", "", "排气量不应超过1.6升，价格不应超过12万元。"))
    assert [r.to_dict()["value"] for r in req] == [1.6, 12]
    assert json.loads(json.dumps(req[1].to_dict()))["value"] == 12


# -- indicator suggestions ------------------------------------------------------------------

INDICATORS = [
    SimpleNamespace(key="canteen.clean_plate_rate", label="光盘率", unit="%",
                    description="统计期内就餐后餐盘中无剩余食物的就餐人次占比。"),
    SimpleNamespace(key="canteen.food_waste_per_capita", label="人均餐厨垃圾量",
                    unit="克每人次", description="餐厨垃圾总质量与就餐总人次之比。"),
    SimpleNamespace(key="canteen.diner_satisfaction", label="就餐满意度", unit="%",
                    description="就餐人员满意度测评得分。"),
    SimpleNamespace(key="vehicle.fleet_size", label="公务用车实有数", unit="辆",
                    description="在册公务用车数量。"),
    SimpleNamespace(key="org.user_count", label="用户数", unit="人",
                    description="范围内各单位启用的用户账号数。"),
]  # fmt: skip


def _req(subject, unit="%"):
    return Requirement("8.2", subject, ">=", D(85), unit, "shall")


def test_suggest_indicator_by_label_and_description():
    assert suggest_indicator(_req("光盘率"), INDICATORS)[0][0] == "canteen.clean_plate_rate"
    assert suggest_indicator(_req("人均餐厨垃圾量", "克每人次"), INDICATORS)[0] == (
        "canteen.food_waste_per_capita",
        100.0,
    )
    assert suggest_indicator(_req("就餐人员满意度"), INDICATORS)[0][0] == (
        "canteen.diner_satisfaction"
    )
    best = suggest_indicator(_req("食堂光盘率"), INDICATORS)
    assert best[0][0] == "canteen.clean_plate_rate" and best[0][1] >= 60
    # Nothing alike: no suggestion rather than a wrong one.
    assert suggest_indicator(_req("定位数据上报间隔", "秒"), INDICATORS) == []


def test_suggest_indicator_uses_the_registry_by_default():
    found = suggest_indicator(_req("用户数", "人"))
    assert found and found[0][0] == "org.user_count"


# -- CLI ------------------------------------------------------------------------------------


def test_requirements_cli_on_a_file_json():
    out = StringIO()
    call_command(
        "standards", "requirements", str(FIXTURES / "DB50-T-9001-2022.txt"), "--json", stdout=out
    )
    body = json.loads(out.getvalue())
    assert body["code"] == "DB50/T 9001—2022"
    assert len(body["requirements"]) == 10
    first = body["requirements"][6]
    assert {k: first[k] for k in ("clause", "subject", "op", "value", "unit", "strength")} == {
        "clause": "7.2",
        "subject": "人均餐厨垃圾量",
        "op": "<=",
        "value": 150,
        "unit": "克每人次",
        "strength": "shall",
    }


def test_requirements_cli_text_output():
    out = StringIO()
    call_command("standards", "requirements", str(FIXTURES / "DB50-T-9001-2022.txt"), stdout=out)
    assert "5.1      [应] 询价供应商 ≥ 3家（条件：单次采购金额 > 5000元）" in out.getvalue()
