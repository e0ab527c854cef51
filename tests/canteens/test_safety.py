"""Food safety services without HTTP: certificate alerts against the warning window, sample
deviations against the rules (an agency's own rule wins), findings overdue and late."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from guanjia.canteens import safety
from guanjia.canteens.models import CanteenRule, SafetyFinding, SafetyInspection

ON = dt.date(2026, 3, 10)


def staff(canteen, name, expiry, **fields):
    return safety.save_staff(None, canteen, name=name, health_cert_expiry=expiry, **fields)


def test_certificate_alerts(canteens):
    a = canteens["A"]
    staff(a, "过期", dt.date(2026, 3, 9))
    staff(a, "今天到期", ON)
    staff(a, "三十天", ON + dt.timedelta(days=30))  # the last day of the 30-day window
    staff(a, "三十一天", ON + dt.timedelta(days=31))
    staff(a, "未登记", None)
    staff(a, "离岗", dt.date(2025, 1, 1), is_active=False)
    got = [(x.name, x.state, x.days_left) for x in safety.cert_alerts(None, on=ON)]
    assert got == [
        ("过期", "expired", -1),
        ("未登记", "missing", None),
        ("今天到期", "due", 0),
        ("三十天", "due", 30),
    ]


def test_certificate_window_is_the_agencys_rule(canteens, world):
    a = canteens["A"]
    staff(a, "四十天", ON + dt.timedelta(days=40))
    assert safety.cert_alerts(None, on=ON) == []
    CanteenRule.objects.create(
        key="health_cert.warn_days", value=60, agency=world["A"], label="提前60天", source="本单位"
    )
    assert [x.name for x in safety.cert_alerts(None, on=ON)] == ["四十天"]


def test_alerts_stay_in_scope(canteens, users):
    staff(canteens["B"], "成都厨师", dt.date(2025, 1, 1))
    assert safety.cert_alerts(users["agency"], on=ON) == []
    assert [x.name for x in safety.cert_alerts(users["all"], on=ON)] == ["成都厨师"]


def test_sample_deviations(canteens):
    a = canteens["A"]

    def sample(weight, hours):
        return safety.record_sample(
            None, a, date=dt.date(2026, 3, 2), dish_name="回锅肉", weight_g=weight,
            kept_hours=hours, keeper="李",
        )  # fmt: skip

    assert safety.sample_deviations(sample(125, 48)) == []  # exactly the minimum is enough
    assert safety.sample_deviations(sample(124, 48)) == ["留样量124克，少于125克"]
    assert safety.sample_deviations(sample(200, 24)) == ["留样24小时，少于48小时"]
    assert len(safety.sample_deviations(sample(50, 12))) == 2
    # All four are kept (the record is the evidence); three are flagged.
    flagged = [d for _s, d in safety.with_deviations(a.samples.all()) if d]
    assert len(flagged) == 3


def test_findings_overdue_and_late(canteens):
    a = canteens["A"]
    inspection = safety.record_inspection(
        None, a, date=dt.date(2026, 3, 1), inspector="市场监管所",
        findings=[
            {"description": "冷藏柜温度记录缺失", "deadline": dt.date(2026, 3, 5)},
            {"description": "垃圾桶未加盖", "deadline": dt.date(2026, 3, 20)},
            {"description": "消毒柜故障", "deadline": dt.date(2026, 3, 3)},
        ],
    )  # fmt: skip
    f1, f2, f3 = inspection.findings.order_by("pk")
    assert [safety.finding_state(f, ON) for f in (f1, f2, f3)] == ["overdue", "open", "overdue"]
    assert list(safety.overdue_findings(None, on=ON)) == [f3, f1]
    safety.rectify(None, f3, rectified_on=dt.date(2026, 3, 8), rectification="已更换")
    f3.refresh_from_db()
    assert safety.finding_state(f3, ON) == "late"
    assert list(safety.overdue_findings(None, on=ON)) == [f1]


def test_inspection_with_a_bad_finding_is_not_recorded(canteens):
    with pytest.raises(ValidationError):
        safety.record_inspection(
            None, canteens["A"], date=dt.date(2026, 3, 1), inspector="自查",
            findings=[{"description": "问题", "deadline": dt.date(2026, 2, 1)}],
        )  # fmt: skip
    assert not SafetyInspection.objects.exists() and not SafetyFinding.objects.exists()


def test_rectification_needs_words_and_a_sane_date(canteens):
    inspection = safety.record_inspection(
        None, canteens["A"], date=dt.date(2026, 3, 1), inspector="自查",
        findings=[{"description": "问题", "deadline": dt.date(2026, 3, 5)}],
    )  # fmt: skip
    f = inspection.findings.get()
    with pytest.raises(ValidationError):
        safety.rectify(None, f, rectified_on=dt.date(2026, 3, 2), rectification=" ")
    with pytest.raises(ValidationError):
        safety.rectify(None, f, rectified_on=dt.date(2026, 2, 2), rectification="已整改")
    f.refresh_from_db()
    assert f.rectified_on is None


def test_writes_stay_in_scope(canteens, users):
    with pytest.raises(PermissionDenied):
        safety.record_disinfection(
            users["agency"], canteens["B"], date=dt.date(2026, 3, 1), method="heat",
            minutes=10, operator="越权",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        safety.record_disinfection(
            None, canteens["A"], date=dt.date(2026, 3, 1), method="heat", minutes=0, operator="x"
        )
    assert not canteens["B"].disinfections.exists() and not canteens["A"].disinfections.exists()
