"""
The open data of corrections: each change to a published figure made by reopening its report,
read from the history django-simple-history keeps.
"""

from collections import defaultdict

from django.db.models import F

from livelihood.data.resources.fields import (
    DATE,
    INTEGER,
    MONTH,
    NUMBER,
    PublicField,
    PublicResource,
    demo_field,
    local_date,
    month_text,
)
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import APPROVED
from livelihood.reporting.models import Figure, MonthlyReport

CHANGES = {
    "changed": "数值更正",
    "added": "补充数值",
    "removed": "删去数值",
}
REOPEN_PREFIX = "重新打开："
_UNRECORDED = object()  # a figure's value before a change the history does not hold


class PublicCorrectionResource(PublicResource):
    """Every change to a published figure: what it was when its report was approved, what it
    became when the report, reopened by the office (services.report_reopen), was approved
    again, when and why. A report reopened and not yet approved again corrects nothing
    residents can see, so it is not here yet.

    Read from the history django-simple-history keeps of reports and figures, in three queries
    whatever their number: the reports ever reopened, their history rows, their figures'
    history rows. In a report's history, a row whose `reopened_at` is new is a reopening (its
    `reviewed_at` is still the approval it withdrew); the next row in the approved state is
    the approval of the correction. A figure whose history rows fall between the two changed
    in that correction: its value before is the one in force at the reopening, its value
    after the last one before the approval."""

    slug = "corrections"
    label = "更正记录"
    summary = "已公开的数值经区民生办重新打开报告更正的记录：更正前后的数值、公开日期和原因"

    plan_year = PublicField("年度", type=INTEGER)
    item_code = PublicField("事项编号")
    item_title = PublicField("事项")
    month = PublicField("月份", type=MONTH, help="被更正的报告所属月份。")
    indicator_number = PublicField("指标序号", type=INTEGER)
    indicator_name = PublicField("指标")
    street_code = PublicField("街镇代码", help="空字符串表示全区合计。")
    street_name = PublicField("街镇", help="空字符串表示全区合计。")
    change = PublicField(
        "更正类型代码",
        enum=tuple(CHANGES),
        help="changed 数值更正：原已公开的数值改为新数值；added 补充数值：原报告没有这个数值，"
        "更正时补上；removed 删去数值：原已公开的数值在更正时删去。",
    )
    value_before = PublicField(
        "更正前数值（基本单位）",
        type=NUMBER,
        nullable=True,
        help="更正前公开的数值，按基本单位。added 时为空；"
        "系统没有留存更正前数值的（只见于批量生成、未经填报流程的演示数据）也为空。",
    )
    value_after = PublicField(
        "更正后数值（基本单位）",
        type=NUMBER,
        nullable=True,
        help="更正后公开的数值，按基本单位；removed 时为空。"
        "报告之后没有再次更正的，它就是“月度审核数值”数据集中的数值。",
    )
    plain_unit = PublicField("基本单位", help="如“人”“%”。")
    published_before_on = PublicField(
        "原数值公开日期",
        type=DATE,
        nullable=True,
        help="更正前的报告审核公开的日期（北京时间）；系统未记录时为空。",
    )
    corrected_on = PublicField(
        "更正公开日期",
        type=DATE,
        help="重新打开的报告更正后再次审核公开的日期（北京时间）：从这一日起公开的是更正后数值。"
        "从重新打开到这一日，这份报告的全部数值暂不公开。",
    )
    reason = PublicField(
        "更正原因",
        help="区民生办重新打开报告时写明的原因；牵头单位在这次更正中为该数值填写了新的备注"
        "（更正说明）的，以“；”接在其后。",
    )
    is_demo = demo_field()

    def get_queryset(self):
        reports = MonthlyReport.objects.filter(
            reopened_at__isnull=False, item__plan__published=True
        )
        if self.plan is not None:
            reports = reports.filter(item__plan=self.plan)
        return reports

    def objects(self):
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        reports = list(
            queryset.select_related("item__plan").order_by(
                "item__plan__year", "item__domain__number", "item__order", "item__code", "month"
            )
        )
        # Subqueries rather than lists of keys: the same three queries with no report as
        # with many (an empty IN list would skip the query).
        keys = queryset.values("pk")
        states = defaultdict(list)
        for row in (
            MonthlyReport.history.filter(id__in=keys)
            .order_by("history_date", "history_id")
            .values("id", "history_date", "state", "reviewed_at", "reopened_at", "return_reason")
        ):
            states[row["id"]].append(row)
        figures = defaultdict(lambda: defaultdict(list))
        for row in (
            Figure.history.filter(report_id__in=keys)
            .order_by("history_date", "history_id")
            .values(
                "report_id",
                "indicator_id",
                "street_id",
                "value",
                "note",
                "history_date",
                "history_type",
                indicator_number=F("indicator__number"),
                indicator_name=F("indicator__name"),
                indicator_unit=F("indicator__unit"),
                street_code=F("street__code"),
                street_name=F("street__name"),
                street_order=F("street__order"),
            )
        ):
            figures[row["report_id"]][row["indicator_id"], row["street_id"]].append(row)
        corrections = []
        for report in reports:
            for reopening, approval in _corrections_of(states[report.pk]):
                found = []
                for history in figures[report.pk].values():
                    change = _figure_change(
                        history, reopening["history_date"], approval["history_date"]
                    )
                    figure = history[-1]
                    if change is not None and figure["indicator_number"] is not None:
                        order = (
                            figure["indicator_number"],
                            figure["street_id"] is not None,
                            figure["street_order"] or 0,
                            figure["street_code"] or "",
                        )
                        found.append(
                            (order, _correction(report, reopening, approval, figure, *change))
                        )
                corrections.extend(row for _, row in sorted(found, key=lambda pair: pair[0]))
        return corrections

    def _getters(self):
        return [lambda row, name=name: row[name] for name, _ in self.columns()]


def _corrections_of(states):
    """(the reopening, the approval of the correction) each time a report, reopened by the
    office, was approved again, from its history rows in order. A reopening is the row
    where `reopened_at` takes a new value (report_reopen alone sets it); a report whose
    history starts with it (created without history rows) has no row before."""
    found, reopening, previous = [], None, None
    for row in states:
        if row["reopened_at"] is not None and (
            row["reopened_at"] != previous["reopened_at"]
            if previous is not None
            else row["state"] == MonthlyReport.State.RETURNED
        ):
            reopening = row
        elif reopening is not None and row["state"] == APPROVED:
            found.append((reopening, row))
            reopening = None
        previous = row
    return found


def _figure_change(history, start, end):
    """(before, after, kind) of one figure (its history rows, in order) between the reopening
    at `start` and the approval at `end`; None when it did not change. `before` and `after`
    are history rows, None where the figure did not exist, `before` _UNRECORDED when it
    existed without a history row before its first change (rows written by bulk_create)."""
    changes = [row for row in history if start < row["history_date"] <= end]
    if not changes:
        return None
    after = None if changes[-1]["history_type"] == "-" else changes[-1]
    earlier = [row for row in history if row["history_date"] <= start]
    if earlier:
        before = None if earlier[-1]["history_type"] == "-" else earlier[-1]
    else:
        first = changes[0]["history_type"]
        before = None if first == "+" else changes[0] if first == "-" else _UNRECORDED
    if before is None and after is None:
        return None
    if before is None:
        return before, after, "added"
    if after is None:
        return before, after, "removed"
    if before is not _UNRECORDED and before["value"] == after["value"]:
        return None
    return before, after, "changed"


def _correction(report, reopening, approval, figure, before, after, kind) -> dict:
    known = before if isinstance(before, dict) else None
    reasons = [(reopening["return_reason"] or "").strip().removeprefix(REOPEN_PREFIX).strip()]
    note = (after or {}).get("note", "").strip()
    if note and note != (known or {}).get("note", "").strip():
        reasons.append(note)
    return {
        "plan_year": report.item.plan.year,
        "item_code": report.item.code,
        "item_title": report.item.title,
        "month": month_text(report.month),
        "indicator_number": figure["indicator_number"],
        "indicator_name": figure["indicator_name"],
        "street_code": figure["street_code"] or "",
        "street_name": figure["street_name"] or "",
        "change": kind,
        "value_before": None if known is None else known["value"],
        "value_after": None if after is None else after["value"],
        "plain_unit": progress.plain_unit(figure["indicator_unit"]),
        "published_before_on": local_date(reopening["reviewed_at"]),
        "corrected_on": local_date(approval["reviewed_at"] or approval["history_date"]),
        "reason": "；".join(part for part in reasons if part),
        "is_demo": report.is_demo,
    }
