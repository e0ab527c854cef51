"""What a dashboard is made of: big numbers (cards) and panels, each panel one chart and the
table it draws from. The page renders the table under the chart; the Excel export writes
the same table as one sheet per panel, so a chart never shows a figure its table lacks."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from guanjia.core.indicator_registry import Period


@dataclass
class Card:
    label: str
    value: object  # a number, or None for "no data"
    unit: str = ""


@dataclass
class Panel:
    key: str  # the chart's element id on the page
    title: str
    chart: str  # how static/evaluation/dashboards.js draws it: map, bar, hbar, line, pie
    columns: list[str]
    rows: list[list]  # the table: JSON-safe values (str, int, float, None)
    chart_data: dict = field(default_factory=dict)  # labels/series, or the map's areas
    unit: str = ""
    note: str = ""

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "chart": self.chart,
            "columns": self.columns,
            "rows": self.rows,
            "data": self.chart_data,
            "unit": self.unit,
        }


@dataclass
class Dashboard:
    kind: str
    title: str
    scope_label: str  # what the figures cover ("大足区机关事务管理中心及下级")
    cards: list[Card]
    panels: list[Panel]
    period: str = ""

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "scope": self.scope_label,
            "period": self.period,
            "cards": [{"label": c.label, "value": c.value, "unit": c.unit} for c in self.cards],
            "panels": [p.as_json() for p in self.panels],
        }


def scope_label(user) -> str:
    if user.agency_id is None:
        return _("数据范围内")
    return _("%(agency)s 数据范围内") % {"agency": user.agency.name}


def last_month(today: dt.date) -> Period:
    first = today.replace(day=1)
    return Period.parse(f"{first - dt.timedelta(days=1):%Y-%m}")


def months_up_to(period: Period, n: int) -> list[str]:
    labels = [period]
    while len(labels) < n:
        labels.append(labels[-1].previous())
    return [p.label for p in reversed(labels)]


def bar_data(labels: list, series: dict[str, list]) -> dict:
    """Chart data of a bar or line chart: x labels and named series of values."""
    return {
        "labels": [str(x) for x in labels],
        "series": [{"name": name, "values": values} for name, values in series.items()],
    }


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def workbook(dashboard: Dashboard) -> bytes:
    """The dashboard's cards and every panel's table as an .xlsx workbook."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "概览"
    summary.append([dashboard.title, dashboard.scope_label, dashboard.period])
    summary.append(["指标", "数值", "单位"])
    for card in dashboard.cards:
        summary.append([card.label, card.value, card.unit])
    used: set[str] = {summary.title}
    for panel in dashboard.panels:
        title = _SHEET_FORBIDDEN.sub("-", panel.title)[:28] or panel.key[:28]
        while title in used:  # sheet names are unique in a workbook
            title = title[:26] + f"_{len(used)}"
        used.add(title)
        sheet = book.create_sheet(title)
        sheet.append(panel.columns)
        for row in panel.rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
