"""Misuse-rule settings under /api/v1/telemetry/rules: the platform default of each rule
(switch, parameters, the clause it enforces). Everyone holding telemetry.view reads them;
only a holder of telemetry.change through a role of data scope "all" (or a superuser)
changes them — they apply to every agency.

An agency's own settings of a rule (…/rules/{rule}/overrides) apply to it and the agencies
below it: listed for the agencies in the caller's telemetry view scope, set and removed for
those in its telemetry change scope (rule_defs.set_override, clear_override)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
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


class OverrideOut(Schema):
    rule: str
    agency_id: int
    agency_name: str = Field(alias="agency.name")
    enabled: bool
    params: dict
    source: str


class OverrideIn(Schema):
    enabled: bool = True
    params: dict = Field(default_factory=dict, description="未给出的参数取平台默认值")
    source: str = Field(description="本单位设置所依据的条款或本地规定")


def _known(rule: str) -> str:
    if rule not in R.RULES:
        raise Http404
    return rule


def _visible_agency(request, agency_id: int):
    return get_object_or_404(R.override_agencies(request.user, "view"), pk=agency_id)


@router.get("/rules/{rule}/overrides", response=list[OverrideOut], summary="单位对监控规则的设置")
@paginate(LimitOffset)
def list_overrides(request, rule: str):
    """调用者数据范围内各单位对该规则的设置（对本单位及下级单位生效）。"""
    return R.visible_overrides(request.user, _known(rule))


@router.put(
    "/rules/{rule}/overrides/{int:agency_id}",
    response={200: OverrideOut, **WRITE_ERRORS},
    summary="设置单位的监控规则",
)
def put_override(request, rule: str, agency_id: int, data: OverrideIn):
    """须有 telemetry.change 权限且该单位在调用者的数据范围内；参数与平台默认值合并后保存，
    须写明依据。"""
    agency = _visible_agency(request, agency_id)
    return R.set_override(
        request.user,
        _known(rule),
        agency,
        enabled=data.enabled,
        params=data.params,
        source=data.source,
    )


@router.delete(
    "/rules/{rule}/overrides/{int:agency_id}",
    response={204: None, **WRITE_ERRORS},
    summary="删除单位的监控规则设置",
)
def delete_override(request, rule: str, agency_id: int):
    """删除后该单位按上级单位或平台默认设置执行。"""
    agency = _visible_agency(request, agency_id)
    if not R.clear_override(request.user, _known(rule), agency):
        raise Http404
    return Status(204, None)
