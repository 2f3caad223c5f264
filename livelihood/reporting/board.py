"""
Where each item's monthly reports stand: the reporting board in the admin and the reminders
(`send_reminders`) read the same cells.

A month's report is due by REPORT_DUE_DAY of the following month (progress.due_date); after
that day a month without a submitted or approved report is overdue (逾期): progress.overdue over
that one month, the rule behind the public 逾期未报 flag (querysets.REPORTED_STATES says which
states count as reported).
"""

import datetime
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import REPORTED_STATES
from livelihood.progress.selectors import plan_months
from livelihood.reporting.models import MonthlyReport

LABELS = {
    "draft": "草稿",
    "submitted": "已报送",
    "approved": "已审核",
    "returned": "已退回",
    "missing": "未报",
    "overdue": "逾期",
}


@dataclass(frozen=True)
class Cell:
    item: object
    month: datetime.date
    report: MonthlyReport | None
    key: str
    overdue: bool
    due: datetime.date

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def title(self) -> str:
        """The whole state in words, for the cell's tooltip and screen readers."""
        text = f"{self.item.code} {self.month.year}年{self.month.month}月：{self.label}"
        if self.overdue and self.key != "overdue":
            text += "，已逾期"
        if self.key in ("missing", "draft", "returned") and not self.overdue:
            text += f"，应于{self.due.month}月{self.due.day}日前报送"
        return text


def cell(item, month, report, today, due_day=None) -> Cell:
    due_day = due_day or settings.REPORT_DUE_DAY
    reported = report is not None and report.state in REPORTED_STATES
    overdue = progress.overdue(progress.due_months(month, month, today, due_day), int(reported))
    if report is not None:
        key = report.state
    else:
        key = "overdue" if overdue else "missing"
    return Cell(item, month, report, key, overdue, progress.due_date(month, due_day))


def grid(items, months, today: datetime.date | None = None) -> list[tuple[object, list[Cell]]]:
    """Each item with one cell per month; reports fetched in one query."""
    today = today or timezone.localdate()
    items = list(items)
    reports = {
        (r.item_id, r.month): r
        for r in MonthlyReport.objects.filter(item__in=items, month__in=months).only(
            "pk", "item_id", "month", "state", "submitted_at", "version"
        )
    }
    return [
        (item, [cell(item, m, reports.get((item.pk, m)), today) for m in months]) for item in items
    ]


def overdue_by_unit(rows) -> list[tuple[object, int]]:
    """Overdue reports per lead unit, most first; units with none are left out."""
    counts = Counter()
    units = {}
    for item, cells in rows:
        units[item.lead_unit_id] = item.lead_unit
        counts[item.lead_unit_id] += sum(1 for c in cells if c.overdue)
    return [(units[pk], n) for pk, n in counts.most_common() if n]


def outstanding(items, today: datetime.date, window_months: int = 12) -> list[Cell]:
    """Reports a unit still owes: months that have ended (within the last `window_months`)
    without a submitted or approved report, overdue or still within their due day."""
    this_month = today.replace(day=1)
    earliest = progress.add_months(this_month, -window_months)
    cells = []
    by_plan = {}
    for item in items:
        by_plan.setdefault(item.plan, []).append(item)
    for plan, plan_items in by_plan.items():
        months = [m for m in plan_months(plan, today) if earliest <= m < this_month]
        for _, row in grid(plan_items, months, today):
            cells.extend(c for c in row if c.key not in REPORTED_STATES)
    return sorted(cells, key=lambda c: (c.month, c.item.code))
