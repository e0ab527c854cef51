"""Helpers of the evaluation tests: a Chongqing regional reviewer, a canteen's self-evaluation
with every reviewer item marked, a template of one's own."""

from decimal import Decimal

from guanjia.canteens import evaluation
from guanjia.canteens.models import EvaluationItem, EvaluationTemplate
from guanjia.core import services as core_services
from guanjia.core.scope import DataScope

from ..conftest import make_role, make_user


def regional_reviewer(regions, username="cq_reviewer"):
    """A reviewer at the Chongqing bureau who may see and score every canteen of Chongqing."""
    bureau = core_services.create_agency(
        None, name="重庆市机关事务管理局", kind="bureau", region=regions["500000"]
    )
    return make_user(username, bureau, make_role(f"{username}_role", DataScope.REGION))


def mark_all(actor, ev, share=Decimal("1")):
    """Mark every reviewer item at `share` of its weight."""
    for row in ev.scores.select_related("item").filter(item__method="reviewer"):
        evaluation.mark_item(
            actor, row, (row.item.weight * share).quantize(Decimal("0.1")), "查看台账"
        )
    ev.refresh_from_db()
    return ev


def reviewer_only_template(region=None, name="测试模板"):
    """A template of reviewer items only (60 + 40) for tests that need no indicators."""
    t = EvaluationTemplate.objects.create(name=name, region=region, source="测试")
    EvaluationItem.objects.create(
        template=t, code="1", section="制度建设", title="制度", weight=60, method="reviewer"
    )
    EvaluationItem.objects.create(
        template=t, code="2", section="宣传教育", title="宣传", weight=40, method="reviewer"
    )
    return t
