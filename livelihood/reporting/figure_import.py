"""
What a spreadsheet import of figures writes (livelihood/data/figures.py calls it once per
file): `reports_import_figures`, the workflow's report_open() and report_save(figures=…) for
many items' reports of one month at once, under the same rules (livelihood/reporting/services.py).
"""

import datetime
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from livelihood.accounts.roles import is_coordinator
from livelihood.operations.publication import publication_bump
from livelihood.plan.models import Item, first_of_month
from livelihood.reporting.figures import (
    Earlier,
    FigureInput,
    figure_problems,
    figures_write,
    previous_approved_for,
)
from livelihood.reporting.models import MonthlyReport
from livelihood.reporting.services import (
    LOCKED_MESSAGE,
    SUBMITTED_MESSAGE,
    ConcurrentEditError,
    TransitionError,
    editable_states,
    moment_label,
    require_entry,
    user_label,
    validation_message,
)
from livelihood.snapshots import build as snapshots

State = MonthlyReport.State


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
                require_entry(user, item)
            except TransitionError as error:
                raise ItemError(item, error.message) from None
    editable = editable_states(coordinator)
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
        figures_write(batches, user)
        MonthlyReport.history.bulk_history_create(
            list(reports.values()), update=True, default_user=user, default_change_reason="保存"
        )
        for plan in {item.plan_id for item in items.values()}:
            publication_bump(plan=plan)
        # Drafts' figures count for nothing yet; a stored snapshot the import made stale (a
        # plan edited in the same transaction) is written with it all the same.
        snapshots.write_pending()
    return reports
