"""
What several screens ask of a plan as published: its data month (数据截至), the last moment of a
month, the months that have begun, an item's month-by-month trend, when reports were
submitted. One definition each, for the public pages, the admin's board and evaluation, the
summary and the open data.
"""

import datetime
from collections import defaultdict

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import approved_q, indicator_input, item_measure, model


def data_month(plan, published_by=None) -> datetime.date | None:
    """The latest month with an approved report (approved by `published_by`, when given): what
    "数据截至" names."""
    return (
        model("MonthlyReport")
        .objects.filter(approved_q("", None, published_by), item__plan=plan)
        .aggregate(m=Max("month"))["m"]
    )


def month_end_moment(month: datetime.date) -> datetime.datetime:
    """The last moment of a month, in the portal's time zone."""
    next_month = progress.add_months(month, 1)
    return timezone.make_aware(datetime.datetime.combine(next_month, datetime.time.min)) - (
        datetime.timedelta(microseconds=1)
    )


def plan_months(plan, today: datetime.date | None = None) -> list[datetime.date]:
    """The plan's months that have begun: from the month of issue to now or December."""
    today = today or timezone.localdate()
    last = min(plan.last_month, today.replace(day=1))
    months, month = [], plan.first_month
    while month <= last:
        months.append(month)
        month = progress.add_months(month, 1)
    return months


def items_rollup(items) -> progress.Rollup:
    """The roll-up of items fetched with `with_progress()`: each item's snapshot at its weight
    (a domain, a lead unit, a street, a plan)."""
    return progress.rollup((item.snapshot, item.weight) for item in items)


def item_trend(item, indicators, milestones, reports, totals) -> list[progress.ItemProgress]:
    """The item's progress and 序时进度 at the end of each month of `reports` (its approved
    reports, oldest first), by the same assembly as its current snapshot.

    `totals` maps each report's month to {indicator id: district total}; an indicator counts
    its latest figure up to the month. A milestone counts from the month of the approved
    report that marked it done."""
    month_of = {report.pk: report.month for report in reports}
    done_in = [
        month_of[m.reported_in_id] for m in milestones if m.is_done and m.reported_in_id in month_of
    ]
    trend = []
    for report in reports:
        month = report.month
        trend.append(
            item_measure(
                item,
                [indicator_input(i, _value_at(totals, i.pk, month)) for i in indicators],
                milestones,
                sum(1 for done in done_in if done <= month),
                as_of=month,
                has_approved=True,
                overdue=False,
            )
        )
    return trend


def _value_at(totals, indicator_id, month):
    value = None
    for reported, values in totals.items():
        if reported <= month and indicator_id in values:
            value = values[indicator_id]
    return value


class Submissions:
    """When each item's monthly reports were first submitted (local dates), read in one
    query from `reports` (a MonthlyReport queryset), and the punctuality that gives: one
    reading for the unit page, evaluation and the summary."""

    def __init__(self, reports):
        self.by_item = defaultdict(list)
        rows = (
            reports.filter(submitted_at__isnull=False)
            .order_by()
            .values_list("item_id", "month", "submitted_at")
            .iterator(chunk_size=2000)
        )
        for item_id, month, submitted_at in rows:
            self.by_item[item_id].append((month, timezone.localdate(submitted_at)))

    def punctuality(self, item_id, due) -> progress.Punctuality:
        """The item's punctuality over the `due` months (progress.due_months)."""
        return progress.punctuality(self.by_item.get(item_id, ()), due, settings.REPORT_DUE_DAY)
