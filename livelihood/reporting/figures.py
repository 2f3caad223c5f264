"""
A monthly report's figures: the row a form or an import hands in (`FigureInput`), the approved
figures of earlier months it is checked against (`previous_approved`, `previous_approved_for`),
what is wrong with it (`figure_problems`), how a report's figures are written with their
history rows (`figures_write`), and the item's progress as the report would make it
(`projected_snapshot`).

Below the workflow (livelihood/reporting/services.py: report_save) and the import's write
(livelihood/reporting/figure_import.py: reports_import_figures), which both call it: nothing
here checks who asks or locks a report; the callers do, in their transaction.
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connections, router
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from livelihood.plan.models import Item
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import snapshot_from_annotations
from livelihood.reporting.models import Figure, MonthlyReport

State = MonthlyReport.State

# Rows per INSERT … SELECT of history rows: within SQLite's oldest limit of 999 parameters.
HISTORY_BATCH = 900


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


def figures_write(batches, user):
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


# ------------------------------------------------------------------------------
# The item's progress as the report would make it
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
