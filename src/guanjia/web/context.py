"""The navigation by domain, for every page (a template context processor).

A link appears only when its page exists and the user holds its permission; domains still
being built are listed greyed as "建设中" without a link.
"""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (section, [(label, url name, permission, url-name prefix that marks it active)])
NAVIGATION = [
    (None, [(_("首页"), "home", None, "home")]),
    (
        _("组织机构"),
        [
            (_("单位树"), "agency_tree", "org.view", "agency_"),
            (_("协作小组"), "group_list", "org.view", "group_"),
            (_("行政区划"), "region_list", "org.view", "region_"),
        ],
    ),
    (
        _("标准化"),
        [
            (_("标准库"), "standard_list", "standards.view", "standard_"),
            (_("标准比对"), "analysis_compare", "standards.view", "analysis_"),
            (_("标准体系"), "framework_list", "standards.view", "framework_"),
            (_("职能覆盖"), "coverage_matrix", "standards.view", "coverage_"),
            (_("联合起草"), "draft_list", "standards.view", "draft_"),
            (_("专家库"), "expert_list", "standards.view", "expert_"),
            (_("资料库"), "document_list", "standards.view", "document_"),
        ],
    ),
    (
        _("公务用车"),
        [
            (_("车辆登记"), "vehicle_list", "vehicles.view", "vehicle_"),
            (_("驾驶员"), "driver_list", "vehicles.view", "driver_"),
            (_("编制与配备标准"), "quota_list", "vehicles.view", "quota_"),
            (_("用车申请"), "trip_list", "dispatch.view", "trip_"),
            (_("派车调度"), "dispatch_board", "vehicles.view", "dispatch_"),
            (_("运行维护"), "lifecycle_overview", "vehicles.view", "lifecycle_"),
            (_("违规线索"), "case_list", "vehicles.view", "case_"),
            (_("实时监控"), "live_map", "telemetry.view", "live_"),
            (_("轨迹回放"), "track_playback", "telemetry.view", "track_"),
            (_("监控规则"), "rule_list", "telemetry.view", "rule_"),
        ],
    ),
    (
        _("达标评价"),
        [
            (_("标准达标评价"), "evaluation_results", "evaluation.view", "evaluation_results"),
            (_("考评与排名"), "scorecard_list", "evaluation.view", "scorecard_"),
            (_("大屏"), "dashboard_screen", "evaluation.view", "dashboard_screen"),
        ],
    ),
    (
        _("机关食堂"),
        [
            (_("食堂与就餐"), "canteen_list", "canteens.view", "canteen_list"),
            (_("称重与光盘"), "canteen_waste_today", "canteens.view", "canteen_waste_today"),
            (_("浪费看板"), "canteen_waste_dashboards", "canteens.view", "canteen_waste_dash"),
            (_("菜单"), "menu_week", "canteens.view", "menu_"),
            (_("采购与询价"), "procurement_list", "canteens.view", "procurement_"),
            (_("库存"), "stock_levels", "canteens.view", "stock_"),
            (_("食品安全"), "canteen_safety", "canteens.view", "canteen_safety"),
            (_("满意度"), "canteen_survey_results", "canteens.view", "canteen_survey"),
            (_("反浪费评估"), "canteen_evaluation_list", "canteens.view", "canteen_evaluation"),
        ],
    ),
    (
        _("系统管理"),
        [
            (_("用户"), "user_list", "system.view", "user_"),
            (_("角色"), "role_list", "system.view", "role_"),
            (_("节假日安排"), "calendar_days", "system.view", "calendar_"),
        ],
    ),
    (
        _("审计"),
        [
            (_("变更记录"), "change_list", "audit.view", "change_"),
            (_("操作日志"), "operation_list", "audit.view", "operation_"),
            (_("登录日志"), "login_list", "audit.view", "login_list"),
        ],
    ),
    (None, [(_("指标"), "indicator_list", None, "indicator_")]),
]

UNDER_CONSTRUCTION = [_("节能与办公用房"), _("运行经费"), _("服务保障")]


def _url(name: str) -> str | None:
    """A page's address, or None while the page is still being built."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = (match.url_name or "") if match else ""
    sections = []
    for title, entries in NAVIGATION:
        items = [
            {"label": label, "url": url, "active": current.startswith(prefix)}
            for label, name, perm, prefix in entries
            if (perm is None or user.can(perm)) and (url := _url(name))
        ]
        if items:
            sections.append({"title": title, "items": items})
    return {"nav_sections": sections, "nav_later": UNDER_CONSTRUCTION}
