"""Misuse-rule settings under /api/v1/telemetry/rules: the platform default of each rule
(switch, parameters, the clause it enforces). Everyone holding telemetry.view reads them;
only a holder of telemetry.change through a role of data scope "all" (or a superuser)
changes them — they apply to every agency."""

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from guanjia.core.api import LimitOffset
from guanjia.core.schemas import Error

from . import rule_defs as R
from .models import RuleSetting

router = Router(tags=["实时监控"])
WRITE_ERRORS = {400: Error, 403: Error, 404: Error, 422: Error}


class RuleOut(Schema):
    rule: str
    label: str
    description: str
    enabled: bool
    params: dict
    param_labels: dict
    source: str

    @staticmethod
    def resolve_label(obj) -> str:
        return str(R.RULES[obj.rule].label) if obj.rule in R.RULES else obj.rule

    @staticmethod
    def resolve_description(obj) -> str:
        return str(R.RULES[obj.rule].description) if obj.rule in R.RULES else ""

    @staticmethod
    def resolve_param_labels(obj) -> dict:
        return {k: str(R.PARAM_LABELS.get(k, k)) for k in (obj.params or {})}


class RuleIn(Schema):
    enabled: bool | None = None
    params: dict | None = None
    source: str | None = None


def _rules(request):
    order = {k: i for i, k in enumerate(R.RULES)}
    rows = RuleSetting.objects.restrict(request.user).filter(agency=None)
    return sorted(rows, key=lambda r: order.get(r.rule, 99))


@router.get("/rules", response=list[RuleOut], summary="监控规则")
@paginate(LimitOffset)
def list_rules(request):
    """各条监控规则的平台默认设置：开关、参数与所执行的条款。"""
    return _rules(request)


@router.patch("/rules/{rule}", response={200: RuleOut, **WRITE_ERRORS}, summary="修改监控规则")
def update_rule(request, rule: str, data: RuleIn):
    """只有数据范围为“全部”且有 telemetry.change 权限的用户可以修改；参数按默认值的类型校验。"""
    get_object_or_404(RuleSetting.objects.restrict(request.user), rule=rule, agency=None)
    return R.update_setting(
        request.user, rule, enabled=data.enabled, params=data.params, source=data.source
    )
