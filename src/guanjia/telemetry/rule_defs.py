"""The misuse rules the telemetry engine (rules.py) evaluates: their names, what their
parameters mean, and their settings.

Settings are RuleSetting rows: the platform default of each rule (agency empty) and, where
an agency wants other numbers, an override for that agency, which also applies to the
agencies below it (the nearest override wins; its params are laid over the default's).
Defaults come from `data/rules.json` with the clause each rule enforces; they are loaded
after every `migrate` (rows an administrator has edited are kept, missing rules added).

Every rule is registered with the vehicles app's case registry (`cases.register_rule`) so
case lists and pages name it and show its source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanjia.vehicles import cases

DATA = Path(__file__).resolve().parent / "data" / "rules.json"

NO_ORDER = "tm_no_order"
OFF_HOURS = "tm_off_hours"
JURISDICTION = "tm_jurisdiction"
FORBIDDEN = "tm_forbidden_area"
SPEEDING = "tm_speeding"
GARAGE = "tm_garage"
SILENT = "tm_silent"
REPORT_INTERVAL = "tm_report_interval"


@dataclass(frozen=True)
class RuleDef:
    key: str
    label: object
    description: object
    params: dict = field(default_factory=dict)  # name → label (with unit)


PARAM_LABELS = {
    "min_speed_kmh": gettext_lazy("视为行驶的最低速度（公里/小时）"),
    "min_duration_s": gettext_lazy("持续多久才立案（秒）"),
    "quiet_gap_s": gettext_lazy("间隔多久算新一段（秒）"),
    "order_grace_min": gettext_lazy("派车单时段前后宽限（分钟）"),
    "night_start": gettext_lazy("夜间开始"),
    "night_end": gettext_lazy("夜间结束"),
    "exempt_with_order": gettext_lazy("有派车单时不报"),
    "limit_kmh": gettext_lazy("限速（公里/小时）"),
    "night_checks": gettext_lazy("每晚检查时刻"),
    "holiday_checks": gettext_lazy("节假日、周末检查时刻"),
    "tolerance_m": gettext_lazy("停放场所半径外的容差（米）"),
    "silent_s": gettext_lazy("行驶中无汇报超过（秒）"),
    "max_interval_s": gettext_lazy("汇报间隔上限（秒）"),
    "tolerance_s": gettext_lazy("间隔容差（秒）"),
    "min_count": gettext_lazy("连续超标次数"),
}

RULES: dict[str, RuleDef] = {
    r.key: r
    for r in (
        RuleDef(
            NO_ORDER,
            gettext_lazy("无派车单行驶"),
            gettext_lazy("车辆行驶时没有覆盖该时刻的已审批、已派车或出车中的派车单。"),
        ),
        RuleDef(
            OFF_HOURS,
            gettext_lazy("夜间、节假日无审批用车"),
            gettext_lazy("夜间或周末、法定节假日行驶且没有派车单；调休上班日按工作日。"),
        ),
        RuleDef(
            JURISDICTION,
            gettext_lazy("驶出管辖范围"),
            gettext_lazy("驶出单位所在省（市）或其“管辖范围”电子围栏。"),
        ),
        RuleDef(
            FORBIDDEN,
            gettext_lazy("进入禁入区域"),
            gettext_lazy("进入单位设定的“禁入区域”电子围栏（娱乐场所、景区等）。"),
        ),
        RuleDef(SPEEDING, gettext_lazy("超速"), gettext_lazy("速度超过限速并持续一定时间。")),
        RuleDef(
            GARAGE,
            gettext_lazy("未按规定停放"),
            gettext_lazy("夜间或节假日检查时刻车辆不在指定停放场所，且没有派车单。"),
        ),
        RuleDef(
            SILENT,
            gettext_lazy("行驶中终端失联"),
            gettext_lazy("终端在行驶中汇报后长时间没有下一次汇报。"),
        ),
        RuleDef(
            REPORT_INTERVAL,
            gettext_lazy("定位汇报间隔超标"),
            gettext_lazy("行驶中相邻两次定位汇报的间隔连续超过标准间隔。"),
        ),
    )
}


def default_rows() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["items"]


def _register() -> None:
    for row in default_rows():
        cases.register_rule(row["rule"], RULES[row["rule"]].label, row["source"])


_register()


@transaction.atomic
def load_defaults(overwrite: bool = False, audited: bool = False) -> int:
    """Create the platform default RuleSetting of every rule that has none (all of them
    again with `overwrite`); returns how many were written. After `migrate` this is part of
    installing the platform and leaves no audit records (as vehicles.reference does)."""
    from guanjia.core import audit

    from .models import RuleSetting

    written = 0
    with audit.installing(audited):
        for row in default_rows():
            row = dict(row)
            rule = row.pop("rule")
            if overwrite:
                RuleSetting.objects.update_or_create(rule=rule, agency=None, defaults=row)
                written += 1
            else:
                _obj, created = RuleSetting.objects.get_or_create(
                    rule=rule, agency=None, defaults=row
                )
                written += created
    return written


def _load_after_migrate(sender, **kwargs):
    load_defaults()


def connect_signals(app_config) -> None:
    from django.db.models.signals import post_migrate

    post_migrate.connect(_load_after_migrate, sender=app_config, dispatch_uid="telemetry_rules")


# -- effective settings ------------------------------------------------------------------


@dataclass
class Effective:
    rule: str
    enabled: bool
    params: dict
    source: str


def _defaults_from_file() -> dict[str, Effective]:
    return {
        r["rule"]: Effective(r["rule"], r["enabled"], dict(r["params"]), r["source"])
        for r in default_rows()
    }


class Settings:
    """Every RuleSetting row in memory, resolved per agency (by its tree path)."""

    def __init__(self, rows=None):
        from .models import RuleSetting

        if rows is None:
            rows = list(RuleSetting.objects.select_related("agency"))
        self.defaults = _defaults_from_file()
        self.overrides: dict[str, list[tuple[str, object]]] = {}
        for row in rows:
            if row.agency_id is None:
                base = self.defaults.get(row.rule)
                params = dict(base.params if base else {}) | dict(row.params or {})
                self.defaults[row.rule] = Effective(row.rule, row.enabled, params, row.source)
            else:
                self.overrides.setdefault(row.rule, []).append((row.agency.path, row))
        for lst in self.overrides.values():
            lst.sort(key=lambda item: len(item[0]), reverse=True)  # deepest first
        self._cache: dict[tuple[str, str], Effective] = {}

    def for_agency(self, rule: str, agency_path: str) -> Effective:
        key = (rule, agency_path)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        base = self.defaults[rule]
        chosen = base
        for path, row in self.overrides.get(rule, ()):
            if agency_path.startswith(path):
                chosen = Effective(
                    rule, row.enabled, dict(base.params) | dict(row.params or {}), row.source
                )
                break
        self._cache[key] = chosen
        return chosen


# -- editing -----------------------------------------------------------------------------


def can_edit(user) -> bool:
    """The platform defaults apply to every agency: editable by a superuser or a holder of
    telemetry.change through a role whose data scope is "all" (an agency's own settings:
    set_override)."""
    from guanjia.core.scope import DataScope

    if user is None:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(r.data_scope == DataScope.ALL for r in user.roles_with("telemetry.change"))


def _check_params(rule: str, params: dict) -> dict:
    defaults = _defaults_from_file()[rule].params
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValidationError({"params": _("未知参数：%s") % "、".join(sorted(unknown))})
    clean = {}
    for name, value in params.items():
        sample = defaults[name]
        try:
            if isinstance(sample, bool):
                if not isinstance(value, bool):
                    raise ValueError
                clean[name] = value
            elif isinstance(sample, int | float):
                number = float(value)
                if number < 0:
                    raise ValueError
                clean[name] = int(number) if isinstance(sample, int) else number
            elif isinstance(sample, list):
                items = value if isinstance(value, list) else str(value).replace("，", ",")
                if isinstance(items, str):
                    items = items.split(",")
                clean[name] = [_hhmm(v) for v in items if str(v).strip()]
            else:
                clean[name] = _hhmm(value) if ":" in str(sample) else str(value)
        except (TypeError, ValueError):
            raise ValidationError(
                {"params": _("参数 %(n)s 的值无效：%(v)s") % {"n": name, "v": value}}
            ) from None
    return clean


def _hhmm(value) -> str:
    text = str(value).strip().replace("：", ":")
    h, sep, m = text.partition(":")
    if not sep or not (0 <= int(h) <= 23 and 0 <= int(m) <= 59):
        raise ValueError(text)
    return f"{int(h):02d}:{int(m):02d}"


def update_setting(user, rule: str, *, enabled=None, params=None, source=None):
    """Change the platform default of `rule` (switch, parameters, source)."""
    from django.core.exceptions import PermissionDenied

    from .models import RuleSetting

    if rule not in RULES:
        raise ValidationError({"rule": _("未知规则：%s") % rule})
    if not can_edit(user):
        raise PermissionDenied(_("只有数据范围为“全部”的监控管理员可以修改监控规则"))
    with transaction.atomic():
        row = RuleSetting.objects.select_for_update().filter(rule=rule, agency=None).first()
        if row is None:
            d = _defaults_from_file()[rule]
            row = RuleSetting(rule=rule, enabled=d.enabled, params=d.params, source=d.source)
        if enabled is not None:
            row.enabled = bool(enabled)
        if params:
            row.params = dict(row.params or {}) | _check_params(rule, params)
        if source is not None:
            source = source.strip()
            if not source:
                raise ValidationError({"source": _("须写明规则依据的条款")})
            row.source = source[:255]
        row.save()
    return row


# -- agency overrides --------------------------------------------------------------------
#
# An agency applying a local rule (a lower speed limit, other night hours …) keeps its own
# settings of a rule; they apply to it and every agency below it (Settings.for_agency).
# Overrides reach the running engines the way changes of the defaults do: each engine's
# Directory reloads every setting with the register every few minutes (rules.py), and a
# batch re-run loads them afresh.


def override_agencies(user, action: str = "change"):
    """The agencies whose overrides `user` may see (`view`) or set (`change`): those in
    the user's telemetry scope for that action. None as user is the system: all."""
    from guanjia.core.models import Agency
    from guanjia.core.scope import scope_q

    if user is None:
        return Agency.objects.all()
    q = scope_q(Agency, user, "view", wanted=f"telemetry.{action}")
    return Agency.objects.all() if q is None else Agency.objects.filter(q)


def visible_overrides(user, rule: str | None = None):
    """The overrides of agencies in `user`'s telemetry view scope, nearest the root first."""
    from .models import RuleSetting

    rows = RuleSetting.objects.restrict(user).filter(
        agency__isnull=False, agency__in=override_agencies(user, "view")
    )
    if rule is not None:
        rows = rows.filter(rule=rule)
    return rows.select_related("agency").order_by("rule", "agency__path")


def platform_default(rule: str) -> Effective:
    """The platform default of `rule` as stored (the file's defaults under it)."""
    from .models import RuleSetting

    return Settings(list(RuleSetting.objects.filter(rule=rule, agency=None))).defaults[rule]


def _check_override_target(user, rule: str, agency) -> None:
    from django.core.exceptions import PermissionDenied

    if rule not in RULES:
        raise ValidationError({"rule": _("未知规则：%s") % rule})
    if agency is None or agency.pk is None:
        raise ValidationError({"agency": _("请选择单位；平台默认设置在规则页修改")})
    if user is not None and not user.can("telemetry.change"):
        raise PermissionDenied(_("没有修改监控规则的权限"))
    if not override_agencies(user).filter(pk=agency.pk).exists():
        raise PermissionDenied(_("该单位不在您的监控数据范围内，不能设置其规则"))


def set_override(user, rule: str, agency, *, enabled, params, source):
    """Create or change `agency`'s own settings of `rule`: the switch, parameters (laid over
    the platform default's, so the row holds every parameter) and the clause or local rule
    it applies, which is required."""
    from .models import RuleSetting

    with transaction.atomic():
        _check_override_target(user, rule, agency)
        source = (source or "").strip()
        if not source:
            raise ValidationError({"source": _("须写明本单位设置所依据的条款或本地规定")})
        if not isinstance(params or {}, dict):
            raise ValidationError({"params": _("参数须为“名称: 值”的集合")})
        given = _check_params(rule, params or {})
        row = RuleSetting.objects.select_for_update().filter(rule=rule, agency=agency).first()
        row = row or RuleSetting(rule=rule, agency=agency)
        row.enabled = bool(enabled)
        row.params = dict(platform_default(rule).params) | given
        row.source = source[:255]
        row.save()
    return row


def clear_override(user, rule: str, agency) -> bool:
    """Remove `agency`'s own settings of `rule` (it follows its parent's or the platform's
    again); False when it had none."""
    from .models import RuleSetting

    with transaction.atomic():
        _check_override_target(user, rule, agency)
        row = RuleSetting.objects.select_for_update().filter(rule=rule, agency=agency).first()
        if row is None:
            return False
        row.delete()  # through the ORM, so the audit trail keeps what was removed
    return True
