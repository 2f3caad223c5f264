"""
The monthly report's life, one function per transition; the admin and the commands call the
same functions.

    draft ──submit──▶ submitted ──approve──▶ approved (public, locked)
      ▲                  │                       │
      └──── (edit) ◀── returned ◀──return───┘ ◀──reopen (coordinator, with a reason)

Who may do what: the coordinating office (区民生办: a superuser, a staff profile without a
unit, or the coordinator group) approves, returns and reopens; lead-unit staff open, edit and
submit their own unit's reports only. An approved report is locked for everyone, whatever the
path: every write first locks and reads the report's current database row
(`ensure_editable`), never the object in memory.

Every write is optimistic-locked on `MonthlyReport.version`: the caller passes the version it
showed, the write is a conditional `UPDATE … WHERE version = shown`, and when another save came
first nothing is written and `ConcurrentEditError` says who saved and when. The row is then
saved the ordinary way in the same transaction, so that django-simple-history records it.

Refusals raise `TransitionError` with a message a clerk can act on (the admin shows it with
`messages.error`).
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.models import (
    Figure,
    Item,
    Milestone,
    MonthlyReport,
    first_of_month,
)
from livelihood.operations.publication import publication_bump
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import snapshot_from_annotations

State = MonthlyReport.State

# simple-history keeps a change reason of at most 100 characters.
CHANGE_REASON_LENGTH = 100

# Rows per INSERT … SELECT of history rows: within SQLite's oldest limit of 999 parameters.
HISTORY_BATCH = 900


class TransitionError(Exception):
    """A write the workflow refuses; `message` is for the person who asked for it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConcurrentEditError(TransitionError):
    """Someone else saved the report after it was opened; nothing was written."""


# ------------------------------------------------------------------------------
# Who may do what
# ------------------------------------------------------------------------------
def may_enter(user, item) -> bool:
    """Enter and submit figures for the item: its lead unit's staff, or the office."""
    if is_coordinator(user):
        return True
    unit = unit_of(user)
    return unit is not None and unit.pk == item.lead_unit_id


def _require_entry(user, item):
    if not may_enter(user, item):
        raise TransitionError("只能填报本单位牵头的事项。")


def _require_coordinator(user, action: str):
    if not is_coordinator(user):
        raise TransitionError(f"只有区民生办可以{action}报告。")


def user_label(user) -> str:
    if user is None:
        return "他人"
    return user.get_full_name() or user.get_username()


def moment_label(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "稍早"
    return f"{timezone.localtime(moment):%Y年%-m月%-d日 %H:%M}"


# ------------------------------------------------------------------------------
# The lock
# ------------------------------------------------------------------------------
LOCKED_MESSAGE = (
    "该报告已审核通过并公开，已锁定，不能修改或删除；如需更正，请联系区民生办重新打开。"
)


def _report_pk(target) -> int | None:
    if isinstance(target, MonthlyReport):
        return target.pk
    if isinstance(target, Figure):
        return target.report_id
    if isinstance(target, Milestone):
        return target.reported_in_id
    return target


def ensure_editable(target) -> MonthlyReport | None:
    """Lock and return the current database row of a report, or refuse when it is approved.

    `target` is a report, a figure (its report), a milestone (the report that marked it
    done; None when no report did) or a report's primary key. Call it inside
    `transaction.atomic()`: the row lock (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
    serialises writers) then holds until your write commits, so an approval cannot slip in
    between the check and the write.
    """
    pk = _report_pk(target)
    if pk is None:
        return None
    with transaction.atomic():
        row = MonthlyReport.objects.select_for_update().filter(pk=pk).first()
    if row is not None and row.state == State.APPROVED:
        raise TransitionError(LOCKED_MESSAGE)
    return row


def is_locked(target) -> bool:
    """Read-only answer for permission checks: the report behind `target` is approved now."""
    pk = _report_pk(target)
    return pk is not None and MonthlyReport.objects.filter(pk=pk, state=State.APPROVED).exists()


SUBMITTED_MESSAGE = "报告已报送，正在审核，不能修改；如需修改，请联系区民生办退回。"


def _editable_states(coordinator: bool) -> tuple[str, ...]:
    """The states in which a report's content may be changed: by lead-unit staff, drafts and
    returned reports; by the office (`coordinator`), also a submitted one, before approving it."""
    if coordinator:
        return (State.DRAFT, State.RETURNED, State.SUBMITTED)
    return (State.DRAFT, State.RETURNED)


def _claim(report, *, user, version: int | None, states: Iterable[str], refusal: str):
    """Lock the report's row, check its state, and take the next version with a conditional
    UPDATE; returns the row as now stored (version raised, `updated_*` set).

    `version` is the version the caller showed; None (a command) means "whatever is current".
    """
    row = MonthlyReport.objects.select_for_update().select_related("item").get(pk=report.pk)
    if row.state == State.APPROVED and State.APPROVED not in states:
        raise TransitionError(LOCKED_MESSAGE)
    expected = row.version if version is None else version
    now = timezone.now()
    written = MonthlyReport.objects.filter(pk=row.pk, version=expected).update(
        version=F("version") + 1, updated_at=now, updated_by=user
    )
    if not written:
        saver = MonthlyReport.objects.select_related("updated_by").get(pk=row.pk)
        raise ConcurrentEditError(
            f"{user_label(saver.updated_by)}已于{moment_label(saver.updated_at)}保存了这份报告"
            f"（第 {saver.version} 版），您的修改没有保存，以免覆盖对方的内容。"
            "请复制需要保留的内容，刷新页面查看最新版本后再修改。"
        )
    if row.state not in states:
        raise TransitionError(refusal)
    row.version, row.updated_at, row.updated_by = expected + 1, now, user
    row._history_user = user
    return row


def _save(row, reason: str = ""):
    """The ordinary save after the conditional UPDATE: signals and a history row."""
    if reason:
        row._change_reason = reason[:CHANGE_REASON_LENGTH]
    row.save()


# ------------------------------------------------------------------------------
# Open a month
# ------------------------------------------------------------------------------
def report_open(*, item: Item, month: datetime.date, user) -> MonthlyReport:
    """The item's report for the month, created as a draft when there is none yet.

    Refuses a month before the plan was issued, in the future or outside the plan's year
    (as `ValidationError` on `month`, for the form)."""
    _require_entry(user, item)
    month = first_of_month(month)
    with transaction.atomic():
        existing = MonthlyReport.objects.filter(item=item, month=month).first()
        if existing is not None:
            return existing
        report = MonthlyReport(item=item, month=month, created_by=user)
        report.clean()
        report.updated_at, report.updated_by = timezone.now(), user
        report._history_user = user
        _save(report, "新建草稿")
        return report


# ------------------------------------------------------------------------------
# Edit: figures, narrative, delay, milestones
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureInput:
    """One row of the form: an indicator's district total (street None) or a street's figure,
    in plain units. `value` None removes the row."""

    indicator_id: int
    street_id: int | None
    value: Decimal | None
    note: str = ""
    # An import's row already holds the new figure it validated (full_clean): written as it
    # is rather than built again (5,000 model instances in a 5,000-row file).
    unsaved: Figure | None = field(default=None, compare=False, repr=False)


class Earlier(NamedTuple):
    """An approved figure of an earlier month: its value (plain units) and month."""

    value: Decimal
    month: datetime.date


def previous_approved(report) -> dict[tuple[int, int | None], Earlier]:
    """The latest approved figure of each (indicator, street) in an earlier month. Read as
    plain rows: a year of street figures is hundreds per item."""
    return previous_approved_for([report.item_id], report.month).get(report.item_id, {})


def previous_approved_for(
    item_ids: Iterable[int],
    month: datetime.date,
    wanted: Mapping[int, Iterable[tuple[int, int | None]]] | None = None,
) -> dict[int, dict[tuple[int, int | None], Earlier]]:
    """previous_approved() of many items' reports of one month ({item id: {(indicator,
    street): Earlier}}): an import asks for every report of its file at once.

    `wanted` ({item id: the (indicator, street) pairs it writes}), when given, narrows the
    answer to what the caller will look up, and the reading to match: the figures of each
    item's latest approved report first, then the older reports only of items with a wanted
    pair that report lacks. A month's import of a whole year's plan reads one month of figures
    instead of eleven."""
    item_ids = list(item_ids)
    reports = {
        pk: (item, when)
        for pk, item, when in MonthlyReport.objects.filter(
            item_id__in=item_ids, state=State.APPROVED, month__lt=month
        ).values_list("pk", "item_id", "month")
    }
    if wanted is None:
        read = list(reports)
    else:
        latest: dict[int, tuple[datetime.date, int]] = {}
        for pk, (item, when) in reports.items():
            if item not in latest or when > latest[item][0]:
                latest[item] = (when, pk)
        read = [pk for _, pk in latest.values()]
    earlier: dict[int, dict[tuple[int, int | None], Earlier]] = {}

    def keep(report_ids):
        rows = Figure.objects.filter(report_id__in=report_ids).values_list(
            "report_id", "indicator_id", "street_id", "value"
        )
        for report, indicator, street, value in rows.order_by():
            item, when = reports[report]
            known = earlier.setdefault(item, {})
            before = known.get((indicator, street))
            if before is None or before.month < when:
                known[indicator, street] = Earlier(value, when)

    keep(read)
    if wanted is not None:
        short = {
            item
            for item, pairs in wanted.items()
            if any(pair not in earlier.get(item, {}) for pair in pairs)
        }
        if short:
            keep([pk for pk, (item, _) in reports.items() if item in short and pk not in read])
    return earlier


def figure_problems(
    report,
    rows: Iterable[FigureInput],
    earlier: Mapping[tuple[int, int | None], Earlier] | None = None,
) -> dict[int, dict[str, str]]:
    """What is wrong with each row (by position): {row index: {field: message}}.

    The rules: the indicator is the report item's own; a count is not negative and a rate
    within 0–100; a cumulative count lower than the latest approved figure of an earlier month
    carries a correction note (a correction is allowed, a slip is not). `earlier`: the
    report's previous_approved(), when the caller has read it already."""
    indicators = {i.pk: i for i in report.item.indicators.all()}
    if earlier is None:
        earlier = previous_approved(report)
    problems: dict[int, dict[str, str]] = {}
    seen = set()
    for index, row in enumerate(rows):
        errors = {}
        indicator = indicators.get(row.indicator_id)
        if indicator is None:
            errors["indicator"] = "该指标不属于本报告的事项。"
        elif (row.indicator_id, row.street_id) in seen:
            errors["indicator"] = "同一指标在本报告中只能填报一次。"
        elif row.value is not None:
            error = progress.value_error(indicator.kind, row.value)
            if error:
                errors["value"] = error
            before = earlier.get((row.indicator_id, row.street_id))
            if (
                not error
                and indicator.kind == indicator.Kind.COUNT
                and before is not None
                and row.value < before.value
                and not row.note.strip()
            ):
                errors["note"] = (
                    f"本月累计数低于{before.month:%-m}月已审核的"
                    f"{progress.format_plain(before.value, indicator.unit)}；"
                    "如属更正，请在此写明更正原因。"
                )
        seen.add((row.indicator_id, row.street_id))
        if errors:
            problems[index] = errors
    return problems


def milestone_problems(report, done: Mapping[int, datetime.date | None]) -> dict[int, str]:
    """What is wrong with each milestone update: {milestone id: message}."""
    milestones = {m.pk: m for m in report.item.milestones.select_related("reported_in")}
    last_day = min(progress.month_end(report.month), timezone.localdate())
    problems = {}
    for pk, day in done.items():
        milestone = milestones.get(pk)
        if milestone is None:
            problems[pk] = "该节点不属于本报告的事项。"
        elif milestone.reported_in_id not in (None, report.pk):
            if day != milestone.done_on:
                problems[pk] = (
                    f"该节点已在{milestone.reported_in.month:%Y年%-m月}的报告中填报完成，"
                    "不能在本月报告中修改。"
                )
        elif day is not None and day > last_day:
            problems[pk] = (
                f"完成日期不能晚于{last_day:%Y年%-m月%-d日}（本报告所属月份的月底或今天）。"
            )
    return problems


def report_save(
    *,
    report: MonthlyReport,
    user,
    version: int | None = None,
    figures: Iterable[FigureInput] | None = None,
    narrative: str | None = None,
    delay_reason: str | None = None,
    delay_note: str | None = None,
    confidence: int | None = None,
    milestones: Mapping[int, datetime.date | None] | None = None,
    earlier: Mapping[tuple[int, int | None], Earlier] | None = None,
) -> MonthlyReport:
    """Save what a unit entered; arguments left None stay as they are. `earlier`: the
    report's previous_approved(), when the caller has read it already (an import, for every
    report of its file in one query); the figures are checked against it all the same.

    Lead-unit staff edit drafts and returned reports; the office may also correct a
    submitted one before approving it. Nobody edits an approved report."""
    _require_entry(user, report.item)
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=_editable_states(is_coordinator(user)),
            refusal=SUBMITTED_MESSAGE,
        )
        if figures is not None:
            rows = list(figures)
            problems = figure_problems(row, rows, earlier)
            if problems:
                first = next(iter(problems.values()))
                raise TransitionError(next(iter(first.values())))
            _figures_write([(row, rows)], user)
        if milestones is not None:
            problems = milestone_problems(row, milestones)
            if problems:
                raise TransitionError(next(iter(problems.values())))
            _milestones_write(row, milestones, user)
        for name, value in (
            ("narrative", narrative),
            ("delay_reason", delay_reason),
            ("delay_note", delay_note),
        ):
            if value is not None:
                setattr(row, name, value.strip())
        if confidence is not None:
            row.confidence = confidence or None
        _save(row, "保存")
    return row


class ItemError(TransitionError):
    """A refusal that names the item it is about (reports_import_figures, for many items)."""

    def __init__(self, item, message: str):
        super().__init__(message)
        self.item = item


def reports_import_figures(
    *,
    month: datetime.date,
    user,
    figures: Mapping[Item, list[FigureInput]],
    versions: Mapping[int, int] | None = None,
    earlier: Mapping[int, Mapping[tuple[int, int | None], Earlier]] | None = None,
) -> dict[int, MonthlyReport]:
    """What an import writes: report_open() and report_save(figures=…) for the reports of many
    items in one month ({item: its figures}), under the same rules, with the same history rows
    ("新建草稿" for a report opened, "保存" for each report saved), and in a fixed number of
    statements whatever the number of reports: one per report, as a loop over report_save
    would, was most of an import's time on PostgreSQL. Returns {item id: report as saved}.

    `versions`: {item id: the report version the preview saw}; a report saved by someone else
    since then refuses the whole write (ConcurrentEditError). `earlier`: previous_approved_for()
    of the items, when the caller has read it. Refusals are ItemError (or ConcurrentEditError,
    with `item` set), naming the item; nothing is written then, as the caller's transaction
    rolls back."""
    month = first_of_month(month)
    items = {item.pk: item for item in figures}
    coordinator = is_coordinator(user)
    if not coordinator:
        for item in items.values():
            try:
                _require_entry(user, item)
            except TransitionError as error:
                raise ItemError(item, error.message) from None
    editable = _editable_states(coordinator)
    versions = versions or {}
    if earlier is None:
        earlier = previous_approved_for(
            items,
            month,
            {pk: [(r.indicator_id, r.street_id) for r in figures[items[pk]]] for pk in items},
        )
    now = timezone.now()
    with transaction.atomic():
        reports = {
            report.item_id: report
            for report in MonthlyReport.objects.select_for_update().filter(
                item_id__in=list(items), month=month
            )
        }
        opened = []
        for pk, item in items.items():
            if pk in reports:
                continue
            report = MonthlyReport(item=item, month=month, created_by=user)
            try:
                report.clean()
            except ValidationError as error:
                raise ItemError(item, validation_message(error)) from None
            report.updated_at, report.updated_by = now, user
            opened.append(report)
        if opened:
            created = bulk_create_with_history(
                opened, MonthlyReport, default_user=user, default_change_reason="新建草稿"
            )
            reports.update((report.item_id, report) for report in created)
        # The claim, as _claim() does for one report: a conditional UPDATE per version the
        # reports were read (or shown) at, so that a save in between is seen, not overwritten.
        by_version: dict[int, list[int]] = {}
        for pk, report in reports.items():
            item = report.item = items[pk]
            if report.state == State.APPROVED:
                raise ItemError(item, LOCKED_MESSAGE)
            if report.state not in editable:
                raise ItemError(item, SUBMITTED_MESSAGE)
            expected = versions.get(pk)
            if expected is None:  # a command, or no report when the preview was made
                expected = report.version
            by_version.setdefault(expected, []).append(report.pk)
        for expected, pks in by_version.items():
            written = MonthlyReport.objects.filter(pk__in=pks, version=expected).update(
                version=F("version") + 1, updated_at=now, updated_by=user
            )
            if written != len(pks):
                saver = (
                    MonthlyReport.objects.filter(pk__in=pks)
                    .exclude(version=expected)
                    .select_related("updated_by")
                    .first()
                )
                if saver is None:  # deleted meanwhile
                    raise ItemError(
                        items[next(r.item_id for r in reports.values() if r.pk in pks)],
                        "导入期间有报告被删除，没有导入；请刷新后重新导入。",
                    )
                error = ConcurrentEditError(
                    f"{user_label(saver.updated_by)}已于{moment_label(saver.updated_at)}"
                    f"保存了这份报告（第 {saver.version} 版），没有导入，以免覆盖对方的内容。"
                    "请核对后重新导入。"
                )
                error.item = items[saver.item_id]
                raise error
            for report in reports.values():
                if report.pk in pks:
                    report.version, report.updated_at, report.updated_by = expected + 1, now, user
        batches = []
        for item, rows in figures.items():
            report = reports[item.pk]
            rows = list(rows)
            problems = figure_problems(report, rows, earlier.get(item.pk, {}))
            if problems:
                first = next(iter(problems.values()))
                raise ItemError(report.item, next(iter(first.values())))
            batches.append((report, rows))
        _figures_write(batches, user)
        MonthlyReport.history.bulk_history_create(
            list(reports.values()), update=True, default_user=user, default_change_reason="保存"
        )
        publication_bump()
    return reports


def _figures_write(batches, user):
    """Write reports' figures, `batches` being (report, rows) pairs: removed ones one by one
    (rare), new and changed ones, whatever the number of reports, in two batched statements
    with their history rows (an import writes thousands at once; a save per figure, with its
    own history insert, cost most of the import's time: docs/performance.md). The triggers of
    migration 0002 check batched rows as they check single ones; the caller raises the
    publication version (report_save through the report's own save)."""
    reports = {report.pk: report for report, _ in batches}
    stored = {
        (f.report_id, f.indicator_id, f.street_id): f
        for f in Figure.objects.filter(report__in=list(reports))
    }
    new, changed = [], []
    for report, rows in batches:
        for row in rows:
            figure = stored.get((report.pk, row.indicator_id, row.street_id))
            if row.value is None:
                if figure is not None:
                    figure._history_user = user
                    figure.delete()
                continue
            if figure is None:
                figure = row.unsaved
                if figure is None or figure.pk is not None:
                    figure = Figure(indicator_id=row.indicator_id, street_id=row.street_id)
                figure.report, figure.value, figure.note = report, row.value, row.note.strip()
                new.append(figure)
            elif figure.value != row.value or figure.note != row.note.strip():
                figure.value, figure.note = row.value, row.note.strip()
                changed.append(figure)
    if new:
        created_with_history(new, Figure, user)
    if changed:
        bulk_update_with_history(changed, Figure, ["value", "note"], default_user=user)


def created_with_history(objects: list, model, user) -> None:
    """`bulk_create(objects)` and their history rows ("+", by `user`), as simple-history's
    bulk_create_with_history writes them, but copied inside the database by one
    `INSERT … SELECT` per batch of rows instead of built as model instances in Python and
    sent back (two thirds of the write time of a 5,000-row import: docs/performance.md).
    The columns copied are the history model's own tracked fields, so they follow the model.
    A database that does not return the new rows' keys gets simple-history's own path."""
    connection = connections[router.db_for_write(model)]
    if not connection.features.can_return_rows_from_bulk_insert:
        bulk_create_with_history(objects, model, default_user=user)
        return
    model.objects.bulk_create(objects)
    history = model.history.model
    name = connection.ops.quote_name
    columns = ", ".join(name(field.column) for field in history.tracked_fields)
    insert = (
        f"INSERT INTO {name(history._meta.db_table)} ({columns}, {name('history_date')}, "
        f"{name('history_change_reason')}, {name('history_type')}, {name('history_user_id')}) "
        f"SELECT {columns}, %s, NULL, '+', %s FROM {name(model._meta.db_table)} "
        f"WHERE {name(model._meta.pk.column)} IN "
    )
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    keys = [obj.pk for obj in objects]
    user_pk = getattr(user, "pk", None)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one statement, the keys as one array
            cursor.execute(f"{insert}(SELECT unnest(%s))", [when, user_pk, keys])
            return
        for start in range(0, len(keys), HISTORY_BATCH):
            batch = keys[start : start + HISTORY_BATCH]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(f"{insert}({marks})", [when, user_pk, *batch])


def _milestones_write(report, done, user):
    for milestone in report.item.milestones.filter(pk__in=list(done)):
        day = done[milestone.pk]
        if milestone.reported_in_id not in (None, report.pk):
            continue
        if day is None:
            if milestone.reported_in_id is None:
                continue
            milestone.done_on = milestone.reported_in = None
        elif milestone.done_on == day and milestone.reported_in_id == report.pk:
            continue
        else:
            milestone.done_on, milestone.reported_in = day, report
        milestone._history_user = user
        milestone.save()


# ------------------------------------------------------------------------------
# Behind schedule?
# ------------------------------------------------------------------------------
def projected_snapshot(
    report,
    values: Mapping[int, Decimal] | None = None,
    done: Iterable[int] | None = None,
) -> progress.ItemProgress:
    """The item's progress as it will stand once this report is approved: the report's
    district totals (or `values`) and milestones (or `done`) in place of what is approved.

    The same arithmetic as every page: `with_progress()` fetches the item as of the report's
    month, the report's own figures and milestones take the place of the approved ones in
    what it fetched (a copy made for this question alone), and `snapshot_from_annotations`
    computes the rest."""
    item = Item.objects.with_progress(report.month).get(pk=report.item_id)
    if values is None:
        values = {f.indicator_id: f.value for f in report.figures.all() if f.street_id is None}
    if done is None:
        done = report.milestones_done.filter(done_on__isnull=False).values_list("pk", flat=True)
    done = set(done)
    for indicator in item.indicators.all():
        if indicator.pk in values:
            indicator._latest_value = values[indicator.pk]
    for milestone in item.milestones.all():
        milestone._done = milestone._done or milestone.pk in done
    item._last_approved = item._last_approved or report.month
    return snapshot_from_annotations(item)


DELAY_MISSING = "按本月数据测算，该事项进度滞后于序时进度，请选择滞后原因。"
DELAY_NOTE_MISSING = "进度滞后时，请说明具体原因和下一步措施。"
CONFIDENCE_MISSING = "进度滞后时，请选择按期完成的把握。"
NARRATIVE_MISSING = "提交前请填写本月进展情况。"


def submission_problems(report, snapshot=None) -> dict[str, str]:
    """What a report still lacks before it can be submitted: {field: message}."""
    snapshot = snapshot or projected_snapshot(report)
    problems = {}
    if not report.narrative.strip():
        problems["narrative"] = NARRATIVE_MISSING
    if snapshot.status == progress.Status.BEHIND:
        if not report.delay_reason:
            problems["delay_reason"] = DELAY_MISSING
        if not report.delay_note.strip():
            problems["delay_note"] = DELAY_NOTE_MISSING
        if not report.confidence:
            problems["confidence"] = CONFIDENCE_MISSING
    return problems


# ------------------------------------------------------------------------------
# Transitions
# ------------------------------------------------------------------------------
def report_submit(*, report: MonthlyReport, user, version: int | None = None) -> MonthlyReport:
    """Draft or returned → submitted, for the office to review."""
    _require_entry(user, report.item)
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.DRAFT, State.RETURNED),
            refusal="只有草稿或被退回的报告可以提交审核。",
        )
        problems = submission_problems(row)
        if problems:
            raise TransitionError(next(iter(problems.values())))
        row.state = State.SUBMITTED
        if row.submitted_at is None:  # punctuality counts the first submission
            row.submitted_at, row.submitted_by = row.updated_at, user
        _save(row, "提交审核")
    return row


def report_approve(*, report: MonthlyReport, user, version: int | None = None) -> MonthlyReport:
    """Submitted → approved: the figures become public and the report is locked."""
    _require_coordinator(user, "审核通过")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.SUBMITTED,),
            refusal="只有已报送的报告可以审核通过。",
        )
        row.state = State.APPROVED
        row.reviewed_at, row.reviewed_by = row.updated_at, user
        row.return_reason = ""
        _save(row, "审核通过")
        publication_bump()
    return row


def _reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(f"{action}时必须填写原因。")
    return reason


def report_return(
    *, report: MonthlyReport, user, reason: str, version: int | None = None
) -> MonthlyReport:
    """Submitted → returned to the unit, with the reason it reads."""
    _require_coordinator(user, "退回")
    reason = _reason(reason, "退回")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.SUBMITTED,),
            refusal="只有已报送的报告可以退回。",
        )
        row.state = State.RETURNED
        row.return_reason = reason
        row.reviewed_at, row.reviewed_by = row.updated_at, user
        _save(row, f"退回：{reason}")
    return row


def report_reopen(
    *, report: MonthlyReport, user, reason: str, version: int | None = None
) -> MonthlyReport:
    """Approved → returned: withdrawn from the public pages and open to the unit again.

    Recorded in the report (`reopened_at`, `reopened_by`, the reason as the return reason
    the unit reads) and in its history (the change reason)."""
    _require_coordinator(user, "重新打开")
    reason = _reason(reason, "重新打开")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.APPROVED,),
            refusal="只有已审核通过的报告需要重新打开。",
        )
        row.state = State.RETURNED
        row.return_reason = f"重新打开：{reason}"
        row.reopened_at, row.reopened_by = row.updated_at, user
        _save(row, f"重新打开：{reason}")
        publication_bump()
    return row


def report_delete(*, report: MonthlyReport, user) -> None:
    """Delete a report that is not approved (the admin's delete view and bulk action)."""
    _require_entry(user, report.item)
    with transaction.atomic():
        row = ensure_editable(report)
        if row is None:
            return
        if row.milestones_done.exists():
            raise TransitionError("该报告填报了节点完成情况，请先在报告中取消后再删除。")
        row._history_user = user
        row.delete()


def validation_message(error: ValidationError) -> str:
    """A ValidationError's messages as one line."""
    return "；".join(error.messages)
