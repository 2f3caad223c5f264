"""
Chainable filters and the annotations progress needs, fetched in a fixed number of queries.

`ItemQuerySet.with_progress()` fetches, for any number of items, exactly what
`progress.item_progress()` needs (the latest approved figure of each indicator, the monthly
plans, the milestones and which of them an approved report has marked done, which months have
been reported); `Item.snapshot` then computes progress in Python without another query.
"""

import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from livelihood.progress import arithmetic as progress

APPROVED = "approved"
REPORTED_STATES = ("submitted", "approved")


def model(name):
    """One of the app's models by name, without importing the models module (which imports
    this one)."""
    return apps.get_model("livelihood", name)


class PlanQuerySet(models.QuerySet):
    def published(self):
        """Plans residents may see: a draft (a copy being prepared for next year) is absent
        from every public page, so a draft year's pages are "not found"."""
        return self.filter(published=True)


class MonthlyReportQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(state=APPROVED)

    def for_unit(self, unit):
        return self.filter(item__lead_unit=unit)


def approved_q(prefix: str = "", as_of=None, published_by=None) -> Q:
    """Reports residents could read: approved, for a month up to `as_of`, and (for a view of
    the past) approved by the moment `published_by`."""
    condition = Q(**{f"{prefix}state": APPROVED})
    if as_of is not None:
        condition &= Q(**{f"{prefix}month__lte": as_of})
    if published_by is not None:
        condition &= Q(**{f"{prefix}reviewed_at__lte": published_by})
    return condition


class IndicatorQuerySet(models.QuerySet):
    def with_latest(self, as_of=None, published_by=None):
        """Annotate `_latest_value` and `_latest_month`: the indicator's district total in
        the latest approved report up to `as_of` (all approved reports when None)."""
        figures = (
            model("Figure")
            .objects.filter(approved_q("report__", as_of, published_by))
            .filter(indicator=OuterRef("pk"), street__isnull=True)
            .order_by("-report__month")
        )
        return self.annotate(
            _latest_value=Subquery(figures.values("value")[:1]),
            _latest_month=Subquery(figures.values("report__month")[:1]),
        )


def last_approved_month(as_of=None, published_by=None) -> Subquery:
    """The latest month of the item's reports counted (`approved_q`), as an annotation on
    items: `_last_approved`, read by `Item.snapshot` and shown as the item's data month."""
    reports = model("MonthlyReport").objects.filter(
        approved_q("", as_of, published_by), item=OuterRef("pk")
    )
    return Subquery(reports.order_by("-month").values("month")[:1], output_field=models.DateField())


class ItemQuerySet(models.QuerySet):
    def with_progress(
        self,
        as_of: datetime.date | None = None,
        *,
        published_by: datetime.datetime | None = None,
        today: datetime.date | None = None,
    ):
        """Everything `Item.snapshot` needs, in four queries whatever the number of items.

        `as_of` (a month) counts reports up to that month; None means the latest approved
        figures, measured against the schedule at the plan's data month (the latest month
        with an approved report). `published_by` (a moment) counts only what had been
        approved by then, for the plan as residents saw it at that moment. The overdue flag
        is judged on `today` (default: the real date).
        """
        reports = model("MonthlyReport").objects
        indicators = (
            model("Indicator")
            .objects.with_latest(as_of, published_by)
            # Grouped by item in Python: the default ordering would join item, plan and domain.
            .order_by("number")
            .prefetch_related("planned_values")
        )
        milestones = (
            model("Milestone")
            # Timeline order; the default ordering would join the item, plan and domain.
            .objects.order_by("planned_on", "number")
            .annotate(
                # For the open data: which report recorded it done, approved when.
                _reported_month=F("reported_in__month"),
                _reported_state=F("reported_in__state"),
                _reported_approved_at=F("reported_in__reviewed_at"),
                _done=Case(
                    When(
                        Q(done_on__isnull=False) & approved_q("reported_in__", as_of, published_by),
                        then=Value(True),
                    ),
                    default=Value(False),
                    output_field=models.BooleanField(),
                ),
            )
        )
        today = today or timezone.localdate()
        due_until = progress.last_due_month(today, settings.REPORT_DUE_DAY)
        reported = reports.filter(
            item=OuterRef("pk"),
            state__in=REPORTED_STATES,
            month__gte=TruncMonth(
                ExpressionWrapper(OuterRef("plan__issued_on"), output_field=models.DateField())
            ),
            month__year=OuterRef("plan__year"),
            month__lte=due_until,
        )
        if published_by is not None:
            reported = reported.filter(submitted_at__lte=published_by)
        reported = reported.order_by().values("item").annotate(n=Count("pk")).values("n")
        if as_of is None:
            data_month = (
                reports.filter(approved_q("", None, published_by), item__plan=OuterRef("plan"))
                .order_by()
                .values("item__plan")
                .annotate(m=Max("month"))
                .values("m")
            )
        else:
            data_month = Value(as_of, output_field=models.DateField())
        return (
            self.select_related("plan", "domain", "lead_unit")
            .annotate(
                _last_approved=last_approved_month(as_of, published_by),
                _reported_count=Coalesce(Subquery(reported), 0),
                _as_of=data_month,
                _today=Value(today, output_field=models.DateField()),
            )
            .prefetch_related(
                Prefetch("indicators", queryset=indicators),
                Prefetch("milestones", queryset=milestones),
            )
        )


def reported_counts(plans, today: datetime.date, published_by=None) -> dict[int, int]:
    """{item id: months reported} over the plans' items, as `with_progress()` counts them for
    the overdue flag (`_reported_count`), in one query: the reports submitted or approved for
    the plan year's months from the month of issue up to the last month due by `today`."""
    due_until = progress.last_due_month(today, settings.REPORT_DUE_DAY)
    condition = Q()
    for plan in plans:
        condition |= Q(
            item__plan=plan,
            month__gte=plan.first_month,
            month__year=plan.year,
            month__lte=due_until,
        )
    if not condition:
        return {}
    reports = model("MonthlyReport").objects.filter(condition, state__in=REPORTED_STATES)
    if published_by is not None:
        reports = reports.filter(submitted_at__lte=published_by)
    return dict(reports.order_by().values_list("item_id").annotate(n=Count("pk")))


def tolerance() -> Decimal:
    """How far under 序时进度 an item may be before it is 滞后, as a fraction."""
    return Decimal(settings.PROGRESS_TOLERANCE_POINTS) / 100


def indicator_input(indicator, value) -> progress.IndicatorInput:
    """What progress.py needs of an indicator (monthly plans prefetched), with its value."""
    return progress.IndicatorInput(
        kind=indicator.kind,
        comparator=indicator.comparator,
        target_plain=indicator.target_plain,
        weight=indicator.weight,
        value=value,
        planned=tuple((p.month, p.value) for p in indicator.planned_values.all()),
    )


def item_measure(
    item,
    indicators: list[progress.IndicatorInput],
    milestones: list,
    milestones_done: int,
    *,
    as_of: datetime.date,
    has_approved: bool,
    overdue: bool,
) -> progress.ItemProgress:
    """progress.item_progress() for `item` with the plan's schedule and the tolerance: the
    one assembly behind an item's current snapshot (snapshot_from_annotations) and its
    month-by-month trend (selectors.item_trend)."""
    return progress.item_progress(
        indicators=indicators,
        milestones_done=milestones_done,
        milestone_dates=[m.planned_on for m in milestones],
        has_approved=has_approved,
        as_of=as_of,
        first_month=item.plan.first_month,
        tolerance=tolerance(),
        overdue=overdue,
    )


def snapshot_from_annotations(item) -> progress.ItemProgress:
    """Compute an item's progress from what `ItemQuerySet.with_progress()` fetched."""
    plan = item.plan
    today = item._today
    as_of = item._as_of or min(max(today.replace(day=1), plan.first_month), plan.last_month)
    milestones = list(item.milestones.all())
    due = progress.due_months(plan.first_month, plan.last_month, today, settings.REPORT_DUE_DAY)
    return item_measure(
        item,
        [indicator_input(i, i._latest_value) for i in item.indicators.all()],
        milestones,
        sum(1 for m in milestones if m._done),
        as_of=as_of,
        has_approved=item._last_approved is not None,
        overdue=progress.overdue(due, item._reported_count),
    )
