"""Indicators of the organisation itself, so the registry is exercised from day one."""

from .indicator_registry import IndicatorScope, Period, indicator
from .models import LoginLog, User


@indicator(
    "org.agency_count",
    unit="个",
    label="单位数",
    higher_is_better=None,
    description="范围内启用的单位数（默认含下级单位）。",
)
def agency_count(scope: IndicatorScope, period: Period) -> float:
    """Active agencies in scope (the agency itself and, by default, those below it)."""
    return scope.agencies().filter(is_active=True).count()


@indicator(
    "org.user_count",
    unit="人",
    label="用户数",
    higher_is_better=None,
    description="范围内各单位启用的用户账号数。",
)
def user_count(scope: IndicatorScope, period: Period) -> float:
    """Active user accounts belonging to agencies in scope."""
    return scope.restrict(User).filter(agency__in=scope.agencies(), is_active=True).count()


@indicator(
    "org.active_user_share",
    unit="%",
    label="活跃用户占比",
    higher_is_better=True,
    description="统计期内至少登录一次的用户占启用用户的百分比；无用户时无数据。",
)
def active_user_share(scope: IndicatorScope, period: Period) -> float | None:
    """Share of active users who logged in at least once in the period."""
    users = scope.restrict(User).filter(agency__in=scope.agencies(), is_active=True)
    total = users.count()
    if not total:
        return None
    start, end = period.bounds()
    active = (
        scope.restrict(LoginLog)
        .filter(success=True, time__gte=start, time__lt=end, user__in=users)
        .values("user")
        .distinct()
        .count()
    )
    return round(100.0 * active / total, 2)
