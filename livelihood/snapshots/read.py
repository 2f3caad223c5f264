"""
Reading the stored snapshot for a page: a plan's items with their progress, and the roll-ups,
in a fixed number of plain queries and no arithmetic beyond the 逾期未报 flag.

`current(plan)` is the plan as it stands (its data month, every approval so far);
`as_of(plan, month)` is the plan measured at an earlier data month with every approval so far
(the office's summary); `published(plan, month)` is the plan as residents saw it at the end of
`month` (the month views). Each returns a `Standing`; its items carry their snapshot where
`Item.snapshot` looks for it, and their indicators the district totals shown, so templates,
the API and the downloads read them as before.

What a reader reads beside progress, when it asks: `items`, a queryset of Item to read the
plan's items from (the caller's own annotations and prefetches ride along); `last_approved`,
each item's latest approved month counted in the view (`_last_approved`, as
`with_progress()` annotates it); `planned`, the indicators' monthly plans (prefetched, as
`with_progress()` prefetches them).

When a plan has no stored snapshot yet, or this connection has changed it and not written it
(livelihood/snapshots/build.py: `is_pending`), the same Standing is computed afresh through
`with_progress()`: a page is never shown numbers older than the data it reads.

The 逾期未报 flag is the one part read afresh on every page: it depends on today (a report
falls due on a day, not on a publication), and costs one grouped query.
"""

import dataclasses
import datetime

from django.conf import settings
from django.db.models import Max, Prefetch
from django.utils import timezone

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import (
    approved_q,
    last_approved_month,
    model,
    reported_counts,
)
from livelihood.progress.selectors import (
    data_month,
    item_trend,
    items_rollup,
    month_end_moment,
)
from livelihood.snapshots.build import (
    decode_item,
    decode_month,
    decode_rollup,
    decode_values,
    is_pending,
)
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild, View

Scope = RollupSnapshot.Scope
ORDER = ("domain__number", "order", "code")


@dataclasses.dataclass
class Standing:
    """A plan's items (in reading order, each with its snapshot) at a data month."""

    plan: object
    data_month: datetime.date | None
    items: list
    stored: bool
    rollups: dict = dataclasses.field(default_factory=dict)  # (scope, key) -> stored body

    def rollup(self, items, scope=Scope.PLAN, key=None) -> progress.Rollup:
        """The roll-up of `items`, which are the scope's items (the plan's, a domain's…): the
        stored one, with the overdue count of those items; computed when nothing is stored."""
        if not self.stored:
            return items_rollup(items)
        return self._stored_rollup(scope, key, sum(1 for item in items if item.overdue))

    def rollup_of(self, parts, scope=Scope.PLAN, key=None) -> progress.Rollup:
        """`rollup` for a caller that kept the scope's items as (ItemProgress, weight) pairs
        rather than the items (the office's summary, which streams its rows)."""
        parts = list(parts)
        if not self.stored:
            return progress.rollup(parts)
        return self._stored_rollup(scope, key, sum(1 for snapshot, _ in parts if snapshot.overdue))

    def _stored_rollup(self, scope, key, overdue: int) -> progress.Rollup:
        body = self.rollups.get((scope, self.plan.pk if key is None else key))
        if body is None:
            return dataclasses.replace(progress.rollup(()), overdue=overdue)
        return decode_rollup(body, overdue)


@dataclasses.dataclass(frozen=True)
class _Reading:
    """What a reader asked for beside progress (the module docstring)."""

    filters: dict
    indicators: bool = True
    items: object = None
    last_approved: bool = False
    planned: bool = False

    def queryset(self, plan):
        items = plan.items.all() if self.items is None else self.items.filter(plan=plan)
        return items.filter(**self.filters)


def _build(plan):
    if is_pending(plan.pk):
        return None
    return SnapshotBuild.objects.filter(plan=plan).first()


def plan_data_month(plan) -> datetime.date | None:
    """The plan's data month (数据截至), from its stored snapshot when there is one."""
    build = _build(plan)
    return data_month(plan) if build is None else build.data_month


def current(
    plan,
    *,
    today: datetime.date | None = None,
    indicators: bool = True,
    items=None,
    last_approved: bool = False,
    planned: bool = False,
    **filters,
) -> Standing:
    """The plan's items matching `filters` as the plan stands: measured at its data month.
    `indicators=False` for a page that shows none (the items' progress alone)."""
    reading = _Reading(filters, indicators, items, last_approved, planned)
    build = _build(plan)
    if build is None or build.data_month is None:
        month = data_month(plan)
        return Standing(plan, month, _afresh(plan, reading, month), stored=False)
    return _stored(plan, View.AS_OF, build.data_month, build.data_month, None, today, reading)


def as_of(
    plan,
    month: datetime.date,
    *,
    today: datetime.date | None = None,
    indicators: bool = True,
    items=None,
    last_approved: bool = False,
    planned: bool = False,
    **filters,
) -> Standing:
    """The plan's items measured at data month `month` with every report approved so far for
    a month up to it: what `with_progress(month, today=today)` gives. The snapshot stores this
    view for each month up to the plan's data month; a later month (one whose reports are
    not yet approved) is judged on a schedule no stored view holds, and is computed afresh,
    as is a plan with nothing approved."""
    reading = _Reading(filters, indicators, items, last_approved, planned)
    build = _build(plan)
    if build is None or build.data_month is None or month > build.data_month:
        items = _afresh(plan, reading, month, today=today)
        return Standing(plan, month, items, stored=False)
    return _stored(plan, View.AS_OF, month, month, None, today, reading)


def published(
    plan,
    month: datetime.date,
    *,
    indicators: bool = True,
    items=None,
    last_approved: bool = False,
    planned: bool = False,
    **filters,
) -> Standing:
    """The plan as residents saw it at the end of `month`: only what had been approved by
    then, measured at the data month of that moment."""
    reading = _Reading(filters, indicators, items, last_approved, planned)
    moment = month_end_moment(month)
    build = _build(plan)
    body = None
    if build is not None:
        body = (
            RollupSnapshot.objects.filter(
                plan=plan, view=View.PUBLISHED, month=month, scope=Scope.PLAN, key=plan.pk
            )
            .values_list("body", flat=True)
            .first()
        )
    if body is None:
        shown = data_month(plan, moment)
        items = _afresh(plan, reading, shown, published_by=moment, today=moment.date())
        return Standing(plan, shown, items, stored=False)
    return _stored(plan, View.PUBLISHED, month, decode_month(body), moment, moment.date(), reading)


def _afresh(plan, reading, month, **options):
    return list(reading.queryset(plan).with_progress(month, **options).order_by(*ORDER))


def _stored(plan, view, month, shown, published_by, today, reading) -> Standing:
    items = reading.queryset(plan).select_related("domain", "lead_unit").order_by(*ORDER)
    if reading.last_approved:
        items = items.annotate(_last_approved=last_approved_month(shown, published_by))
    if reading.indicators:
        indicators = model("Indicator").objects.order_by("number")
        if reading.planned:
            indicators = indicators.prefetch_related("planned_values")
        items = items.prefetch_related(Prefetch("indicators", queryset=indicators))
    items = list(items)
    rows = dict(
        ItemSnapshot.objects.filter(plan=plan, view=view, month=month).values_list(
            "item_id", "body"
        )
    )
    if any(item.pk not in rows for item in items):  # written before the item existed
        items = _afresh(plan, reading, shown, published_by=published_by, today=today)
        return Standing(plan, shown, items, stored=False)
    rollups = {
        (scope, key): body
        for scope, key, body in RollupSnapshot.objects.filter(
            plan=plan, view=view, month=month
        ).values_list("scope", "key", "body")
    }
    today = today or timezone.localdate()
    due = progress.due_months(plan.first_month, plan.last_month, today, settings.REPORT_DUE_DAY)
    reported = reported_counts([plan], today, published_by)
    for item in items:
        item.plan = plan
        body = rows[item.pk]
        overdue = progress.overdue(due, reported.get(item.pk, 0))
        item.__dict__["_snapshot"] = decode_item(body, overdue)
        if not reading.indicators:
            continue
        values = decode_values(body)
        for indicator in item.indicators.all():
            indicator._latest_value, indicator._latest_month = values.get(
                indicator.pk, (None, None)
            )
    return Standing(plan, shown, items, stored=True, rollups=rollups)


def plan_rollups(plans, *, today: datetime.date | None = None):
    """{plan id: (Rollup, data month, items loaded)} as each plan stands, for the list of every
    year's plan; plans without a stored snapshot are computed afresh."""
    today = today or timezone.localdate()
    builds = {
        b.plan_id: b
        for b in SnapshotBuild.objects.filter(plan__in=plans, data_month__isnull=False)
        if not is_pending(b.plan_id)
    }
    stored_plans = [p for p in plans if p.pk in builds]
    result = {}
    if stored_plans:
        bodies = {}
        for plan_id, month, body in RollupSnapshot.objects.filter(
            plan__in=stored_plans, view=View.AS_OF, scope=Scope.PLAN
        ).values_list("plan_id", "month", "body"):
            if builds[plan_id].data_month == month:
                bodies[plan_id] = body
        reported = reported_counts(stored_plans, today)
        overdue = {p.pk: 0 for p in stored_plans}
        by_pk = {p.pk: p for p in stored_plans}
        due = {
            p.pk: progress.due_months(p.first_month, p.last_month, today, settings.REPORT_DUE_DAY)
            for p in stored_plans
        }
        for item_id, plan_id in (
            model("Item").objects.filter(plan__in=stored_plans).values_list("pk", "plan_id")
        ):
            overdue[plan_id] += progress.overdue(due[plan_id], reported.get(item_id, 0))
        for plan_id, body in bodies.items():
            rollup = decode_rollup(body, overdue[plan_id])
            result[plan_id] = (rollup, builds[plan_id].data_month, rollup.total)
        stored_plans = [by_pk[pk] for pk in bodies]
    rest = [p for p in plans if p.pk not in result]
    if rest:
        items = model("Item").objects.filter(plan__in=rest).with_progress().order_by("plan", *ORDER)
        grouped = {p.pk: [] for p in rest}
        for item in items:
            grouped[item.plan_id].append(item)
        months = dict(
            model("MonthlyReport")
            .objects.filter(approved_q(), item__plan__in=rest)
            .order_by()
            .values_list("item__plan")
            .annotate(m=Max("month"))
        )
        for plan in rest:
            result[plan.pk] = (
                items_rollup(grouped[plan.pk]),
                months.get(plan.pk),
                len(grouped[plan.pk]),
            )
    return result


# ------------------------------------------------------------------------------
# One item: its current standing and its month-by-month trend (the item page)
# ------------------------------------------------------------------------------
@dataclasses.dataclass
class ItemStanding:
    """One item as the plan stands (its snapshot where `Item.snapshot` looks for it, its
    `_last_approved`, its indicators' district totals, its milestones prefetched) and the
    item's stored `as_of` rows by month, for its trend."""

    item: object
    stored: bool
    rows: dict = dataclasses.field(default_factory=dict)  # month -> stored body

    def trend(self, indicators, milestones, reports, totals) -> list[progress.ItemProgress]:
        """`selectors.item_trend(item, indicators, milestones, reports, totals)`: the item at
        the end of each month of `reports` (its approved reports, oldest first).

        The point for month M is the item's `as_of` row of month M: both count the latest
        district total of each indicator up to M, the milestones marked done by reports
        approved for a month up to M, judge 序时进度 at M, and leave the overdue flag False.
        Computed afresh when nothing is stored or a month's row is missing."""
        if self.stored and all(report.month in self.rows for report in reports):
            return [decode_item(self.rows[report.month], False) for report in reports]
        item = self.item
        if self.stored:  # a row missing: the inputs as `with_progress()` fetches them
            item = _afresh_item(item.plan, model("Item").objects.filter(pk=item.pk))
            indicators, milestones = list(item.indicators.all()), list(item.milestones.all())
        return item_trend(item, indicators, milestones, reports, totals)


def item(plan, code, *, items=None, today: datetime.date | None = None) -> ItemStanding | None:
    """The plan's item `code` as the plan stands, in a fixed number of queries (None when the
    plan has no such item): its stored `as_of` row at the plan's data month, as `current()`
    reads it, and its rows of the earlier months for `ItemStanding.trend`. `items` is a
    queryset of Item to read it from (the caller's prefetches ride along).

    Computed afresh through `with_progress()`, as the other readers do, when the plan is
    pending or has no stored snapshot, when the item's row is missing, and when the item has
    an approved report for a month after the stored data month (a snapshot not yet written)."""
    items = (model("Item").objects.all() if items is None else items).filter(plan=plan, code=code)
    build = _build(plan)
    if build is None or build.data_month is None:
        return _item_afresh(plan, items, today)
    milestones = (
        model("Milestone")
        .objects.order_by("planned_on", "number")
        # Milestone.is_done reads the report that marked it done.
        .select_related("reported_in")
    )
    found = (
        items.select_related("domain", "lead_unit")
        .annotate(_last_approved=last_approved_month())
        .prefetch_related(
            Prefetch("indicators", queryset=model("Indicator").objects.order_by("number")),
            Prefetch("milestones", queryset=milestones),
        )
        .first()
    )
    if found is None:
        return None
    if found._last_approved is not None and found._last_approved > build.data_month:
        return _item_afresh(plan, items, today)
    rows = dict(
        ItemSnapshot.objects.filter(plan=plan, view=View.AS_OF, item=found).values_list(
            "month", "body"
        )
    )
    body = rows.get(build.data_month)
    if body is None:  # written before the item existed
        return _item_afresh(plan, items, today)
    today = today or timezone.localdate()
    due = progress.due_months(plan.first_month, plan.last_month, today, settings.REPORT_DUE_DAY)
    reported = reported_counts([plan], today)
    found.plan = plan
    found.__dict__["_snapshot"] = decode_item(
        body, progress.overdue(due, reported.get(found.pk, 0))
    )
    values = decode_values(body)
    for indicator in found.indicators.all():
        indicator._latest_value, indicator._latest_month = values.get(indicator.pk, (None, None))
    return ItemStanding(found, stored=True, rows=rows)


def _item_afresh(plan, items, today) -> ItemStanding | None:
    found = _afresh_item(plan, items, today)
    return None if found is None else ItemStanding(found, stored=False)


def _afresh_item(plan, items, today=None):
    found = items.with_progress(today=today).first()
    if found is not None:
        found.plan = plan
    return found
