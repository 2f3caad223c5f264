"""
The coordinating office's monthly summary (汇总表): the month it holds, and its rows and totals.

The summary for month M holds the data of month M, as the public pages' 数据截至 names it:
the plan measured at data month M (`with_progress(as_of=M)`), exactly what the home page
shows while its 数据截至 is M. Each indicator's latest figure is the district total of the
latest approved report for a month up to M, milestones count when an approved report for a
month up to M confirmed them, and 序时进度 and status are judged at M. Everything approved by
the moment of export counts, whenever it was approved: a month's reports are approved in the
month after, and one sent back, corrected and approved later is in. The subtitle says how
many items have an approved report for M itself, and how many stand on an earlier month's.

逾期未报 (and the ranking's punctuality) counts the months up to M whose report was due before
the day it is judged on: the export day, but never later than the day after M's due date
(`progress.due_date(M) + 1`), so that no month after M counts. Whether a month was reported
is judged on the export day. For the home page's data month the flag is the home page's until
the next month's report falls due (the home page then counts that month as well); for an
earlier month it lists the months up to M still unreported on the export day.

A summary can be chosen for any month from the plan's month of issue to December of its year
that has begun; the year-end summary is December's, exportable in January and any time after.

Every figure is read through the stored snapshot's reader (livelihood/snapshots/read.py:
`as_of`), and nothing here does progress arithmetic of its own. "The plan measured at data
month M with everything approved so far" is the snapshot's `as_of` view of month M, stored
for every month up to the plan's data month, so a summary for such a month reads the stored
items and roll-ups (domains, lead units, the plan). Two summaries are computed afresh through
`with_progress(as_of=M)` instead, because no stored view holds them:

- a month after the plan's data month (chosen while none of its reports is approved yet):
  its 序时进度 and status are judged at M, and every stored view is judged at a month that
  has an approved report (`as_of` views up to the data month; `published` views at the data
  month of a past moment);
- a plan with nothing approved, or one changed and not yet written (`is_pending`), as for
  residents' pages.

What the snapshot does not hold is read beside it, the same way on both paths: 逾期未报 (it
depends on the day), each item's latest approved month up to M, the latest approved report's
texts, punctuality.

The sheets and the CSV are written by livelihood/data/summary_sheets.py.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from livelihood.data.exports import ExportError, plain_number
from livelihood.plan.models import LeadUnit, Milestone, Plan
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import approved_q
from livelihood.progress.selectors import Submissions
from livelihood.reporting.models import MonthlyReport
from livelihood.snapshots import read as snapshots

Scope = snapshots.Scope


# ------------------------------------------------------------------------------
# Which month
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SummaryMonth:
    plan: Plan
    month: datetime.date  # the data month: the summary holds the data for months up to it
    today: datetime.date  # the day 逾期未报 is judged on (see the module docstring)
    items: int
    reported: int  # items with an approved report for `month` itself
    earlier: int  # items whose latest approved report up to `month` is of an earlier month
    demo: bool
    generated_at: datetime.datetime

    @property
    def month_words(self) -> str:
        return f"数据截至{self.month:%Y年%-m月}"

    @property
    def title(self) -> str:
        mark = "【演示数据】" if self.demo else ""
        return f"{mark}{self.plan.title}进展情况汇总表（{self.month_words}）"

    @property
    def coverage(self) -> str:
        """How many items have an approved report for the month, and what the rest stand on."""
        total, reported, earlier = self.items, self.reported, self.earlier
        none = total - reported - earlier
        if total == 0:
            return "计划尚无事项"
        if reported == total:
            return f"{total} 项均已审核公开该月报告"
        if reported == 0:
            head = f"{total} 项均尚无该月审核公开的报告"
        else:
            head = f"{total} 项中 {reported} 项已审核公开该月报告"
        rest = []
        if earlier:
            other = "其余 " if reported and not none else ""
            rest.append(f"{other}{earlier} 项按此前最近一次审核公开的数据")
        if none:
            other = "其余 " if reported and not earlier else ""
            rest.append(f"{other}{none} 项尚无审核公开的数据")
        return "，".join([head, *rest])

    @property
    def subtitle(self) -> str:
        generated = timezone.localtime(self.generated_at)
        return (
            f"{self.month_words}：{self.coverage}；按生成时已审核公开的数据统计"
            f"　　生成时间：{generated:%Y年%-m月%-d日 %H:%M}"
        )

    @property
    def filename(self) -> str:
        return f"{self.plan.year}年民生实事进展情况汇总表-数据截至{self.month:%Y-%m}"


def parse_month(value: str) -> datetime.date:
    """`2024-06` (or `2024-6`) → 1 June 2024."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value or "")
    if not match or not 1 <= int(match[2]) <= 12:
        raise ExportError(f"月份“{value}”格式不对，应为 YYYY-MM，例如 2024-06。")
    return datetime.date(int(match[1]), int(match[2]), 1)


def find_plan(year) -> Plan:
    plan = Plan.objects.filter(year=year).first()
    if plan is None:
        years = "、".join(
            str(y) for y in Plan.objects.order_by("year").values_list("year", flat=True)
        )
        known = f"现有年度：{years}。" if years else "系统中还没有任何年度计划。"
        raise ExportError(f"没有{year}年度的民生实事计划。{known}")
    return plan


def month_choices(plan: Plan, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last month one can choose: from the month of issue to December, and not
    a month still to come (the last is before the first while the plan has not begun)."""
    return plan.first_month, min(plan.last_month, today.replace(day=1))


def default_month(plan: Plan, today: datetime.date | None = None) -> datetime.date:
    """The plan's current data month (what the home page's 数据截至 names), within the months
    one can choose; this month (clamped to the plan's year) while nothing is approved."""
    today = today or timezone.localdate()
    first, last = month_choices(plan, today)
    latest = snapshots.plan_data_month(plan)
    if latest is None:
        latest = today.replace(day=1)
    return max(min(latest, last), first)


def judged_on(month: datetime.date, today: datetime.date) -> datetime.date:
    """The day 逾期未报 is judged on in the summary for `month`: `today`, but no later than the
    day after the month's due date, so that only months up to `month` can fall due."""
    due = progress.due_date(month, settings.REPORT_DUE_DAY)
    return min(today, due + datetime.timedelta(days=1))


def summary_month(plan: Plan, month: datetime.date, *, now=None) -> SummaryMonth:
    """The summary of `plan` for data month `month`; ExportError for a month outside the plan
    or to come."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = month.replace(day=1)
    first, last = month_choices(plan, today)
    if not plan.first_month <= month <= plan.last_month:
        if last >= first:
            allowed = f"{plan.year}年度计划的汇总表可选{first:%Y年%-m月}至{last:%Y年%-m月}"
        else:
            allowed = f"{plan.year}年度计划的汇总表自{first:%Y年%-m月}起可选"
        if month > plan.last_month:
            allowed += f"，全年情况请选{plan.last_month:%Y年%-m月}"
        raise ExportError(f"{month:%Y年%-m月}不在{plan.year}年度计划期内。{allowed}。")
    if month > last:
        raise ExportError(f"{month:%Y年%-m月}尚未到来，不能导出该月汇总表。")
    counts = MonthlyReport.objects.filter(approved_q("", month), item__plan=plan).aggregate(
        reported=Count("item", distinct=True, filter=Q(month=month)),
        any=Count("item", distinct=True),
    )
    demo = (
        MonthlyReport.objects.filter(item__plan=plan, is_demo=True).exists()
        or Milestone.objects.filter(item__plan=plan, is_demo=True).exists()
    )
    return SummaryMonth(
        plan=plan,
        month=month,
        today=judged_on(month, today),
        items=plan.items.count(),
        reported=counts["reported"],
        earlier=counts["any"] - counts["reported"],
        demo=demo,
        generated_at=now,
    )


# ------------------------------------------------------------------------------
# The rows, item by item
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorLine:
    name: str
    target: str
    value: Decimal | int | None  # in the unit as written
    unit: str
    month: datetime.date | None


@dataclass(frozen=True)
class ItemLine:
    item_id: int
    domain_number: int
    domain_name: str
    code: str
    title: str
    snapshot: progress.ItemProgress
    weight: Decimal
    lead_unit_id: int
    lead_unit: str
    delay_reason: str
    delay_note: str
    narrative: str
    demo: bool
    lines: tuple[IndicatorLine, ...]

    @property
    def progress(self) -> Decimal | None:
        """As the item page shows it: uncapped."""
        return self.snapshot.progress_uncapped

    @property
    def expected(self) -> Decimal | None:
        return self.snapshot.expected


def standing(summary: SummaryMonth) -> snapshots.Standing:
    """The plan's items measured at the summary's month, in reading order (the module
    docstring says when they are stored and when computed), each with the texts of its
    latest approved report up to the month."""
    latest = MonthlyReport.objects.filter(
        approved_q("", summary.month), item=OuterRef("pk")
    ).order_by("-month")
    items = summary.plan.items.annotate(
        _narrative=Subquery(latest.values("narrative")[:1]),
        _delay_reason=Subquery(latest.values("delay_reason")[:1]),
        _delay_note=Subquery(latest.values("delay_note")[:1]),
        _report_demo=Subquery(latest.values("is_demo")[:1]),
    )
    return snapshots.as_of(
        summary.plan, summary.month, today=summary.today, items=items, last_approved=True
    )


def item_lines(summary: SummaryMonth, read: snapshots.Standing | None = None):
    """One ItemLine per item of the plan, in reading order (of `read`, the summary's
    standing, when already read)."""
    reasons = dict(MonthlyReport.DelayReason.choices)
    for item in (read or standing(summary)).items:
        snapshot = item.snapshot
        indicators = list(item.indicators.all())
        lines = tuple(
            IndicatorLine(
                name=indicator.name,
                target=indicator.target_display,
                value=None
                if indicator._latest_value is None
                else plain_number(indicator._latest_value / indicator.scale),
                unit=indicator.unit,
                month=indicator._latest_month,
            )
            for indicator in indicators
        )
        if not lines:
            # Measured by its milestones alone (progress.item_progress).
            total = snapshot.milestones_total
            lines = (
                IndicatorLine(
                    name="按节点计",
                    target=f"{total}个节点" if total else "—",
                    value=snapshot.milestones_done if total else None,
                    unit="个节点" if total else "",
                    month=item._last_approved if total else None,
                ),
            )
        unit = item.lead_unit
        provisional = item.lead_unit_provisional or unit.provisional
        yield ItemLine(
            item_id=item.pk,
            domain_number=item.domain.number,
            domain_name=item.domain.name,
            code=item.code,
            title=item.title,
            snapshot=snapshot,
            weight=item.weight,
            lead_unit_id=unit.pk,
            lead_unit=f"{unit.name}（暂定）" if provisional else unit.name,
            delay_reason=reasons.get(item._delay_reason or "", ""),
            delay_note=item._delay_note or "",
            narrative=item._narrative or "",
            demo=bool(item._report_demo),
            lines=lines,
        )


@dataclass
class Totals:
    """What the totals and the ranking need, gathered while the items pass: one (snapshot,
    weight) per item, by domain and by lead unit, and punctuality by unit; and the standing
    they were read from, whose stored roll-ups the totals read (`Standing.rollup_of`)."""

    by_domain: dict = field(default_factory=lambda: defaultdict(list))
    by_unit: dict = field(default_factory=lambda: defaultdict(list))
    punctual: dict = field(default_factory=dict)
    everything: list = field(default_factory=list)
    read: snapshots.Standing | None = None

    def add(self, line: ItemLine, punctuality: progress.Punctuality):
        part = (line.snapshot, line.weight)
        self.by_domain[line.domain_number].append(part)
        self.by_unit[line.lead_unit_id].append(part)
        self.everything.append(part)
        unit = line.lead_unit_id
        self.punctual[unit] = self.punctual.get(unit, progress.NO_REPORTS_DUE) + punctuality

    def _rollup(self, parts, scope, key=None) -> progress.Rollup:
        if self.read is None:
            return progress.rollup(parts)
        return self.read.rollup_of(parts, scope, key)

    def domain(self, domain) -> progress.Rollup:
        return self._rollup(self.by_domain.get(domain.number, []), Scope.DOMAIN, domain.pk)

    def unit(self, unit_id) -> progress.Rollup:
        return self._rollup(self.by_unit.get(unit_id, []), Scope.UNIT, unit_id)

    def plan(self) -> progress.Rollup:
        return self._rollup(self.everything, Scope.PLAN)


def lines_with_totals(summary: SummaryMonth, totals: Totals):
    """item_lines(), recording each item in `totals` as it passes. Punctuality counts the
    months up to the summary's month due by its `today`, and the reports submitted by the
    export (as the unit page counts them)."""
    plan = summary.plan
    due = progress.due_months(
        plan.first_month, plan.last_month, summary.today, settings.REPORT_DUE_DAY
    )
    submissions = Submissions(MonthlyReport.objects.filter(item__plan=plan))
    totals.read = standing(summary)
    for line in item_lines(summary, totals.read):
        totals.add(line, submissions.punctuality(line.item_id, due))
        yield line


@dataclass(frozen=True)
class UnitRank:
    rank: int
    unit: LeadUnit
    items: int
    punctuality: progress.Punctuality
    rollup: progress.Rollup


def unit_ranking(totals: Totals) -> list[UnitRank]:
    """Lead units by on-time reporting rate, then by the roll-up of their items' progress
    (highest first; a unit with nothing measurable last); equal on both, equal rank."""
    units = LeadUnit.objects.in_bulk(list(totals.by_unit))
    rows = []
    for unit_id in totals.by_unit:
        rows.append((units[unit_id], totals.punctual[unit_id], totals.unit(unit_id)))

    def key(row):
        _unit, punctual, rolled = row
        return (
            -(punctual.rate if punctual.rate is not None else Decimal(-1)),
            -(rolled.progress if rolled.progress is not None else Decimal(-1)),
        )

    rows.sort(key=lambda row: (*key(row), row[0].order, row[0].code))
    ranked, previous, rank = [], None, 0
    for position, row in enumerate(rows, 1):
        if key(row) != previous:
            rank, previous = position, key(row)
        ranked.append(UnitRank(rank, row[0], row[2].total, row[1], row[2]))
    return ranked
