"""
What several screens ask of a plan as published: its data month (数据截至), the last moment of a
month, the months that have begun. One definition each, for the public pages, the admin's
board and evaluation, the summary and the open data.
"""

import datetime

from django.db.models import Max
from django.utils import timezone

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import _model, approved_q


def data_month(plan, published_by=None) -> datetime.date | None:
    """The latest month with an approved report (approved by `published_by`, when given): what
    "数据截至" names."""
    return (
        _model("MonthlyReport")
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
