"""
Writing a plan's stored snapshot (livelihood/snapshots/models.py): the progress arithmetic's
output for every view of the plan, computed from the raw approved figures in a fixed number of
queries and written in the caller's transaction.

`write(plan)` recomputes the whole plan: five queries to read it (items, indicators with their
monthly plans, milestones, approved reports, district totals; a sixth for the streets) and one
insert per table, whatever was changed. A plan year is small (50 items, 12 months), so a whole
rewrite costs a few tens of milliseconds and cannot leave a view behind that a partial update
forgot.

Who calls it: the services that publish, inside their own transaction (approving and reopening
a report, confirming a figure import, the plan's admin pages, loading a plan, the demo and
scale data), through `write_pending()`: every save or delete of a model the arithmetic reads
marks its plan as pending on the connection (`connect()`), and `write_pending()` writes the
plans pending. A write that no service followed with `write_pending()` is still written, right
after its transaction commits (`_Pending`), so no path can leave a snapshot stale; while a plan
is pending, readers compute its progress afresh (`is_pending`).

The arithmetic is the one in livelihood/progress/: each item through `querysets.item_measure`,
each roll-up through `arithmetic.rollup`. What differs from `with_progress()` is only how the
inputs are fetched: once per plan here, once per page there. `manage.py verify_snapshots`
checks that the two agree (livelihood/snapshots/verify.py).
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import APPROVED, indicator_input, item_measure, model
from livelihood.progress.selectors import month_end_moment
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild, View

logger = logging.getLogger(__name__)
Scope = RollupSnapshot.Scope


# ------------------------------------------------------------------------------
# Encoding: exact decimal strings, so that a stored number reads back to the last digit
# ------------------------------------------------------------------------------
def _num(value):
    return None if value is None else str(value)


def encode_item(snapshot: progress.ItemProgress, values: dict) -> dict:
    """An item's progress but the overdue flag (read when a page is served), and the district
    total each indicator was measured on: {indicator id: [value, month]}."""
    return {
        "progress": _num(snapshot.progress),
        "uncapped": _num(snapshot.progress_uncapped),
        "expected": _num(snapshot.expected),
        "status": snapshot.status.value,
        "indicators": [[_num(r.progress), _num(r.expected)] for r in snapshot.indicators],
        "milestones": [snapshot.milestones_done, snapshot.milestones_total],
        "values": {
            str(pk): [_num(value), month.isoformat() if month else None]
            for pk, (value, month) in values.items()
        },
    }


def encode_rollup(rollup: progress.Rollup, data_month: datetime.date | None) -> dict:
    return {
        "progress": _num(rollup.progress),
        "expected": _num(rollup.expected),
        "counts": {status.value: n for status, n in rollup.counts.items()},
        "measured": rollup.measured,
        "total": rollup.total,
        "data_month": data_month.isoformat() if data_month else None,
    }


def _dec(text):
    return None if text is None else Decimal(text)


def decode_item(body: dict, overdue: bool) -> progress.ItemProgress:
    """The stored ItemProgress, with the overdue flag read when the page is served."""
    done, total = body["milestones"]
    return progress.ItemProgress(
        progress=_dec(body["progress"]),
        progress_uncapped=_dec(body["uncapped"]),
        expected=_dec(body["expected"]),
        status=progress.Status(body["status"]),
        overdue=overdue,
        indicators=tuple(
            progress.IndicatorProgress(_dec(p), _dec(e)) for p, e in body["indicators"]
        ),
        milestones_done=done,
        milestones_total=total,
    )


def decode_values(body: dict) -> dict:
    """{indicator id: (district total, month)} the item was measured on."""
    return {
        int(pk): (_dec(value), datetime.date.fromisoformat(month) if month else None)
        for pk, (value, month) in body["values"].items()
    }


def decode_rollup(body: dict, overdue: int) -> progress.Rollup:
    return progress.Rollup(
        progress=_dec(body["progress"]),
        expected=_dec(body["expected"]),
        counts={progress.Status(s): n for s, n in body["counts"].items()},
        overdue=overdue,
        measured=body["measured"],
        total=body["total"],
    )


def decode_month(body: dict) -> datetime.date | None:
    return datetime.date.fromisoformat(body["data_month"]) if body["data_month"] else None


# ------------------------------------------------------------------------------
# Reading a plan once
# ------------------------------------------------------------------------------
@dataclass
class Report:
    pk: int
    item_id: int
    month: datetime.date
    reviewed_at: datetime.datetime | None
    totals: dict = field(default_factory=dict)  # indicator id -> district total


class PlanInputs:
    """Everything the arithmetic needs of one plan, in six queries."""

    def __init__(self, plan):
        self.plan = plan
        self.items = list(
            model("Item")
            .objects.filter(plan=plan)
            # The pages' reading order: roll-ups add up their items in it, as the pages did.
            .order_by("domain__number", "order", "code")
            .only("pk", "plan_id", "domain_id", "lead_unit_id", "weight")
        )
        for item in self.items:
            item.plan = plan
        self.indicators = defaultdict(list)
        for indicator in (
            model("Indicator")
            .objects.filter(item__plan=plan)
            .order_by("number")
            .prefetch_related("planned_values")
        ):
            self.indicators[indicator.item_id].append(indicator)
        self.milestones = defaultdict(list)
        for milestone in (
            model("Milestone")
            .objects.filter(item__plan=plan)
            .order_by("planned_on", "number")
            .only("pk", "item_id", "planned_on", "done_on", "reported_in_id")
        ):
            self.milestones[milestone.item_id].append(milestone)
        self.reports = {
            pk: Report(pk, item_id, month, reviewed_at)
            for pk, item_id, month, reviewed_at in model("MonthlyReport")
            .objects.filter(item__plan=plan, state=APPROVED)
            .order_by("month", "pk")
            .values_list("pk", "item_id", "month", "reviewed_at")
        }
        for report_id, indicator_id, value in (
            model("Figure")
            .objects.filter(report__in=list(self.reports), street__isnull=True)
            .order_by()
            .values_list("report_id", "indicator_id", "value")
        ):
            self.reports[report_id].totals[indicator_id] = value
        self.by_item = defaultdict(list)  # item id -> approved reports, oldest first
        for report in self.reports.values():
            self.by_item[report.item_id].append(report)
        # Street -> the reports with a figure for it (an item is in a street's roll-up once an
        # approved report gives a figure for that street).
        self.street_reports = defaultdict(set)
        for report_id, street_id in (
            model("Figure")
            .objects.filter(report__in=list(self.reports), street__isnull=False)
            .order_by()
            .values_list("report_id", "street_id")
            .distinct()
        ):
            self.street_reports[street_id].add(report_id)

    def data_month(self, published_by=None) -> datetime.date | None:
        """progress.selectors.data_month, from what was read."""
        months = [r.month for r in self.reports.values() if _published(r, published_by)]
        return max(months, default=None)


def _published(report, published_by) -> bool:
    if published_by is None:
        return True
    return report.reviewed_at is not None and report.reviewed_at <= published_by


# ------------------------------------------------------------------------------
# One view of the plan
# ------------------------------------------------------------------------------
def measure_view(inputs: PlanInputs, as_of, published_by=None, today=None):
    """{item id: (ItemProgress, values shown)} for the plan measured at data month `as_of`
    counting what was approved by `published_by`: what `with_progress(as_of,
    published_by=…)` gives, the overdue flag left False. With no data month (nothing
    approved) the schedule is read at `today`'s month, as `with_progress()` does."""
    plan = inputs.plan

    def counts(report):
        return (as_of is None or report.month <= as_of) and _published(report, published_by)

    measured_at = as_of
    if measured_at is None:
        today = today or timezone.localdate()
        measured_at = min(max(today.replace(day=1), plan.first_month), plan.last_month)
    result = {}
    for item in inputs.items:
        reports = [r for r in inputs.by_item[item.pk] if counts(r)]
        indicators = inputs.indicators[item.pk]
        milestones = inputs.milestones[item.pk]
        values = {}
        for indicator in indicators:
            for report in reversed(reports):
                if indicator.pk in report.totals:
                    values[indicator.pk] = (report.totals[indicator.pk], report.month)
                    break
        counted = {r.pk for r in reports}
        done = sum(1 for m in milestones if m.done_on is not None and m.reported_in_id in counted)
        snapshot = item_measure(
            item,
            [indicator_input(i, values.get(i.pk, (None, None))[0]) for i in indicators],
            milestones,
            done,
            as_of=measured_at,
            has_approved=bool(reports),
            overdue=False,
        )
        result[item.pk] = (snapshot, values)
    return result


def rollups(inputs: PlanInputs, measured: dict, as_of, published_by=None):
    """{(scope, key): Rollup} of the view: the plan, each domain, lead unit and street."""
    groups = defaultdict(list)
    for item in inputs.items:
        pair = (measured[item.pk][0], item.weight)
        groups[(Scope.PLAN, inputs.plan.pk)].append(pair)
        groups[(Scope.DOMAIN, item.domain_id)].append(pair)
        groups[(Scope.UNIT, item.lead_unit_id)].append(pair)
    for street_id, report_ids in inputs.street_reports.items():
        items = set()
        for report_id in report_ids:
            report = inputs.reports[report_id]
            if (as_of is None or report.month <= as_of) and _published(report, published_by):
                items.add(report.item_id)
        for item in inputs.items:
            if item.pk in items:
                groups[(Scope.STREET, street_id)].append((measured[item.pk][0], item.weight))
    return {key: progress.rollup(pairs) for key, pairs in groups.items()}


def views(inputs: PlanInputs):
    """Every view the snapshot stores: (view, month, data month measured at, published_by,
    today)."""
    plan = inputs.plan
    data_month = inputs.data_month()
    if data_month is not None:
        earliest = min(r.month for r in inputs.reports.values())
        month = min(earliest, plan.first_month)
        while month <= data_month:
            yield View.AS_OF, month, month, None, None
            month = progress.add_months(month, 1)
    month = plan.first_month
    while month <= plan.last_month:
        moment = month_end_moment(month)
        yield View.PUBLISHED, month, inputs.data_month(moment), moment, moment.date()
        month = progress.add_months(month, 1)


def compute(plan):
    """The plan's snapshot rows, unsaved: (data month, [ItemSnapshot], [RollupSnapshot])."""
    inputs = PlanInputs(plan)
    item_rows, rollup_rows = [], []
    for view, month, as_of, published_by, today in views(inputs):
        measured = measure_view(inputs, as_of, published_by, today)
        for item_id, (snapshot, values) in measured.items():
            item_rows.append(
                ItemSnapshot(
                    plan_id=plan.pk,
                    item_id=item_id,
                    view=view,
                    month=month,
                    status=snapshot.status.value,
                    body=encode_item(snapshot, values),
                )
            )
        for (scope, key), rollup in rollups(inputs, measured, as_of, published_by).items():
            rollup_rows.append(
                RollupSnapshot(
                    plan_id=plan.pk,
                    view=view,
                    month=month,
                    scope=scope,
                    key=key,
                    body=encode_rollup(rollup, as_of),
                )
            )
    return inputs.data_month(), item_rows, rollup_rows


def write(plan, using: str = DEFAULT_DB_ALIAS) -> int:
    """Replace the plan's stored snapshot with a fresh one, in the caller's transaction (one
    of its own outside one). Returns the number of rows written."""
    data_month, item_rows, rollup_rows = compute(plan)
    with transaction.atomic(using=using):
        ItemSnapshot.objects.using(using).filter(plan_id=plan.pk).delete()
        RollupSnapshot.objects.using(using).filter(plan_id=plan.pk).delete()
        ItemSnapshot.objects.using(using).bulk_create(item_rows, batch_size=1000)
        RollupSnapshot.objects.using(using).bulk_create(rollup_rows, batch_size=1000)
        SnapshotBuild.objects.using(using).update_or_create(
            plan_id=plan.pk, defaults={"data_month": data_month, "built_at": timezone.now()}
        )
        _pending(using).discard(plan.pk)
    return len(item_rows) + len(rollup_rows)


def rebuild(plans=None, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Write the snapshot of every plan (or of `plans`), each in its own transaction (a
    deleted plan's rows went with it: CASCADE). {plan: rows}."""
    plans = list(model("Plan").objects.using(using).order_by("year") if plans is None else plans)
    written = {}
    for plan in plans:
        written[plan] = write(plan, using)
    return written


# ------------------------------------------------------------------------------
# Which plans changed in this transaction
# ------------------------------------------------------------------------------
class _Pending(set):
    """The plans changed on a connection and not yet written: an on-commit callback, so that
    Django drops it with a transaction that rolls back, and writes what is left when the
    transaction commits."""

    def __init__(self, using):
        super().__init__()
        self.using = using
        self.memo = {}  # (model name, id) -> plan id, for this transaction's signals

    def __call__(self):
        if self:
            logger.info("进度快照在提交后补写：计划 %s", sorted(self))
            _write_all(self, self.using)


def _pending(using, create=False) -> set:
    connection = connections[using]
    for entry in connection.run_on_commit:
        if isinstance(entry[1], _Pending):
            return entry[1]
    if not create:
        return set()
    pending = _Pending(using)
    if connection.in_atomic_block:
        transaction.on_commit(pending, using=using)
    return pending


def mark(plan_id, using: str = DEFAULT_DB_ALIAS) -> None:
    """Note that `plan_id`'s snapshot must be written again. Outside a transaction it is
    written at once (autocommit: the change is already committed)."""
    if plan_id is None:
        return
    if not connections[using].in_atomic_block:
        plan = model("Plan").objects.using(using).filter(pk=plan_id).first()
        if plan is not None:
            write(plan, using)
        return
    _pending(using, create=True).add(plan_id)


def is_pending(plan_id, using: str = DEFAULT_DB_ALIAS) -> bool:
    """This connection has changed the plan and not written its snapshot yet: readers must
    compute its progress afresh."""
    return plan_id in _pending(using)


def write_pending(using: str = DEFAULT_DB_ALIAS) -> None:
    """Write the snapshot of every plan changed so far in this transaction: the services call
    it before their transaction commits, so the snapshot is published with the change."""
    pending = _pending(using)
    if pending:
        _write_all(pending, using)


def _write_all(pending: set, using) -> None:
    plans = list(model("Plan").objects.using(using).filter(pk__in=list(pending)))
    pending.clear()
    for plan in plans:
        write(plan, using)


# ------------------------------------------------------------------------------
# The signals that mark plans
# ------------------------------------------------------------------------------
def _plan_of(instance, memo: dict) -> int | None:
    """The plan whose snapshot a change to `instance` may change, or None when it cannot
    change it: by the cheapest path, one query at most, none for a parent already seen in
    this transaction."""
    name = type(instance)._meta.model_name
    if name == "plan":
        return instance.pk
    if name == "item":
        return instance.plan_id
    if name == "monthlyreport":
        # Only an approved report counts, or one that was approved until this save (reopened).
        if instance.state != APPROVED and not getattr(instance, "_snapshot_was_approved", False):
            return None
        return _parent(memo, "Item", instance.item_id, "plan_id")
    if name in ("indicator", "milestone"):
        return _parent(memo, "Item", instance.item_id, "plan_id")
    if name == "plannedvalue":
        return _parent(memo, "Indicator", instance.indicator_id, "item__plan_id")
    if name == "figure":
        # A draft's figures count for nothing until the report is approved, which marks it.
        plan_id, state = _parent(
            memo, "MonthlyReport", instance.report_id, "item__plan_id", "state"
        )
        return plan_id if state == APPROVED else None
    return None


def _parent(memo, parent, pk, *paths):
    if pk is None:
        return None if len(paths) == 1 else (None,) * len(paths)
    key = (parent, pk)
    if key not in memo:
        rows = model(parent).objects.filter(pk=pk).values_list(*paths)
        memo[key] = rows.first() or (None,) * len(paths)
    return memo[key][0] if len(paths) == 1 else memo[key]


# What the arithmetic reads. Deleting a plan or an item cascades to its stored rows.
TRACKED = ("Plan", "Item", "Indicator", "PlannedValue", "MonthlyReport", "Figure", "Milestone")
DISPATCH_PREFIX = "livelihood.snapshots"


def changed(sender, instance, using=None, **kwargs):
    using = using or DEFAULT_DB_ALIAS
    if kwargs.get("signal") is post_delete and type(instance)._meta.model_name == "plan":
        return  # its stored rows go with it (CASCADE)
    pending = _pending(using, create=True)
    mark(_plan_of(instance, getattr(pending, "memo", {})), using)


def _report_before(sender, instance, raw=False, using=None, **kwargs):
    """Whether the report being saved was approved until now: reopening one changes what
    residents see although it is no longer approved."""
    if instance.pk is None or raw:
        instance._snapshot_was_approved = False
        return
    before = sender.objects.using(using).filter(pk=instance.pk).values_list("state", flat=True)
    instance._snapshot_was_approved = before.first() == APPROVED


def connect():
    for name in TRACKED:
        sender = model(name)
        post_save.connect(changed, sender=sender, dispatch_uid=f"{DISPATCH_PREFIX}.save.{name}")
        post_delete.connect(changed, sender=sender, dispatch_uid=f"{DISPATCH_PREFIX}.delete.{name}")
    pre_save.connect(
        _report_before, sender=model("MonthlyReport"), dispatch_uid=f"{DISPATCH_PREFIX}.report"
    )
