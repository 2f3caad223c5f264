"""
The demo's reports, figures and milestones for one plan (devdata/demo.py loads them): item by
item, in plan order, from one random generator, so that a seed always gives the same demo.

Figures are shaped against the expected progress (序时进度) that progress/arithmetic.py
computes, with the tolerance from settings (progress/querysets.py), so that the statuses the
portal shows are the ones the profiles (devdata/demo_profiles.py) describe.
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.conf import settings
from django.utils import timezone

from livelihood.devdata.demo_profiles import (
    ACTIVITIES,
    BEHIND,
    GENERIC_MILESTONES,
    MILESTONES,
    ON_TIME,
    OVER,
    OVERDUE,
    PROFILES,
    RISING_RATES,
    STREET_BREAKDOWN,
)
from livelihood.plan.models import Indicator, Item, Milestone, Street
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import indicator_input, tolerance
from livelihood.reporting.models import Figure, MonthlyReport

Reason = MonthlyReport.DelayReason
Confidence = MonthlyReport.Confidence
State = MonthlyReport.State


def months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def month_of(year_month: tuple[int, int]) -> datetime.date:
    return datetime.date(*year_month, 1)


def day_label(day: datetime.date) -> str:
    return f"{day.month}月{day.day}日"


@dataclass
class _Series:
    """One indicator's figures, month by month, in plain units."""

    indicator: Indicator
    values: list[Decimal]
    streets: list[dict] | None = None


class DemoBuilder:
    """Builds the demo for one plan: reports and figures item by item, in plan order, from
    one random generator, so that a seed always gives the same demo."""

    def __init__(self, *, plan, through, rng, users):
        self.plan = plan
        self.through = through
        self.rng = rng
        self.users = users
        self.tolerance = float(tolerance())
        self.counts = Counter()
        self.streets = list(Street.objects.order_by("order", "code"))
        self.tz = timezone.get_default_timezone()
        self.months = []
        month = plan.first_month
        while month <= through:
            self.months.append(month)
            month = progress.add_months(month, 1)
        self.figures = []
        self.milestones = []

    # -- the whole plan --------------------------------------------------------
    def build(self):
        items = list(
            Item.objects.filter(plan=self.plan)
            .select_related("lead_unit")
            .prefetch_related("indicators__planned_values")
            .order_by("domain__number", "order", "code")
        )
        pending = self._pending_item(items)
        for item in items:
            self._item_build(item, extra_month=item == pending)
        Figure.objects.bulk_create(self.figures)
        Milestone.objects.bulk_create(self.milestones)
        self.counts["figures"] = len(self.figures)
        self.counts["street_figures"] = sum(1 for f in self.figures if f.street_id)
        self.counts["milestones"] = len(self.milestones)

    def _pending_item(self, items):
        """The item whose next month waits for review (state submitted): only when the demo
        stops before December, so that no December status depends on it."""
        if self.through >= self.plan.last_month:
            return None
        for item in items:
            if PROFILES.get(item.code, ON_TIME) is ON_TIME and any(
                i.measured for i in item.indicators.all()
            ):
                return item
        return None

    # -- one item --------------------------------------------------------------
    def _item_build(self, item, *, extra_month: bool):
        profile = PROFILES.get(item.code, ON_TIME)
        months = (
            [*self.months, progress.add_months(self.through, 1)] if extra_month else self.months
        )
        indicators = list(item.indicators.all())
        measured = [i for i in indicators if i.measured]
        series = []
        for indicator in measured:
            series.append(self._series(item, indicator, profile, months, series))
        milestones = []
        if not measured and not item.milestones.filter(is_demo=False).exists():
            milestones = self._milestone_plan(item, profile)

        real = set(item.reports.filter(is_demo=False).values_list("month", flat=True))
        reports = {}
        for index, month in enumerate(months):
            if month in real:
                self.counts["skipped"] += 1
                continue
            state = State.APPROVED
            if extra_month and month > self.through:
                state = State.SUBMITTED
            elif profile.kind == OVERDUE and month == self.through:
                state = State.DRAFT
            report = self._report(item, profile, month, state, index, series, milestones)
            reports[month] = report
            for one in series:
                self.figures.append(
                    Figure(report=report, indicator=one.indicator, value=one.values[index])
                )
                for street, value in (one.streets[index] if one.streets else {}).items():
                    self.figures.append(
                        Figure(report=report, indicator=one.indicator, street=street, value=value)
                    )
        self._milestones_add(item, milestones, reports)

    def _report(self, item, profile, month, state, index, series, milestones):
        rng = self.rng
        user = self.users.get(item.lead_unit_id)
        last_day = progress.month_end(month)
        report = MonthlyReport(
            item=item,
            month=month,
            state=state,
            is_demo=True,
            created_by=user,
            created_at=self._at(last_day - datetime.timedelta(days=rng.randint(0, 3))),
        )
        next_month = progress.add_months(month, 1)
        if state in (State.SUBMITTED, State.APPROVED):
            due = min(4, settings.REPORT_DUE_DAY)
            report.submitted_at = self._at(next_month.replace(day=rng.randint(1, due)))
            report.submitted_by = user
        if state == State.APPROVED:
            report.reviewed_at = self._at(
                report.submitted_at.date() + datetime.timedelta(days=rng.randint(1, 3))
            )
            report.reviewed_by = self.users.get(None)
        behind = (
            profile.kind == BEHIND
            and profile.behind_from is not None
            and month >= month_of(profile.behind_from)
        )
        parts = [self._figures_text(one, index) for one in series]
        if milestones:
            parts.append(self._milestones_text(milestones, month))
        if item.code in ACTIVITIES:
            parts.append(rng.choice(ACTIVITIES[item.code]))
        if behind:
            parts.append(f"进度滞后于序时进度（{Reason(profile.reason).label}）。")
            report.delay_reason = profile.reason
            measure = profile.measures[
                months_between(month_of(profile.behind_from), month) % len(profile.measures)
            ]
            report.delay_note = f"{profile.note}{measure}"
            if month >= self.plan.last_month:
                report.delay_note += "未完成部分结转至下一年度继续推进。"
            report.confidence = (
                Confidence.MEDIUM
                if month < progress.add_months(self.plan.last_month, -1)
                else Confidence.LOW
            )
        elif (
            profile.kind == OVER
            and series
            and all(one.values[index] > one.indicator.target_plain for one in series)
        ):
            parts.append("已超额完成年度目标，继续按群众需求开展。")
        report.narrative = "".join(parts)
        report.save()
        self.counts[f"reports_{state}"] += 1
        self.counts["reports"] += 1
        return report

    def _at(self, day: datetime.date) -> datetime.datetime:
        """A time in office hours on `day`, timezone-aware."""
        clock = datetime.time(self.rng.randint(8, 17), self.rng.randint(0, 59))
        return datetime.datetime.combine(day, clock, tzinfo=self.tz)

    # -- figures ---------------------------------------------------------------
    def _series(self, item, indicator, profile, months, earlier) -> _Series:
        spec = indicator_input(indicator, None)
        expected = [
            float(
                progress.indicator_expected(
                    spec, as_of=month, first_month=self.plan.first_month, milestone_dates=()
                )
            )
            for month in months
        ]
        fractions = self._fractions(profile, months, expected)
        down = profile.kind == BEHIND
        target = indicator.target_plain
        start = None
        if indicator.kind == Indicator.Kind.RATE and item.code not in RISING_RATES:
            start = max(Decimal(0), target - Decimal(str(round(self.rng.uniform(0.4, 1.5), 1))))
        values = [self._value(indicator, f, down=down, start=start) for f in fractions]
        if indicator.name.startswith("其中") and earlier:
            # A subset ("其中…") never exceeds the total it is part of.
            values = [min(v, total) for v, total in zip(values, earlier[0].values, strict=True)]
        one = _Series(indicator, values)
        if (
            item.code in STREET_BREAKDOWN
            and indicator.kind == Indicator.Kind.COUNT
            and not earlier
            and self.streets
            and not indicator.has_street_breakdown
        ):
            one.streets = self._streets_split(values)
            indicator.has_street_breakdown = True
            indicator.save(update_fields=["has_street_breakdown"])
            self.counts["indicators_broken_down"] += 1
        return one

    def _fractions(self, profile, months, expected) -> list[float]:
        """The share of the target reached by the end of each month (over 1 only for OVER)."""
        rng, tol = self.rng, self.tolerance
        finish = 1.0 if rng.random() < 0.7 else 1 - tol * rng.uniform(0.2, 0.6)
        ratio = rng.uniform(1.28, 1.4)
        final_gap = tol + rng.uniform(0.1, 0.2)
        year_end = self.plan.last_month
        fractions, previous = [], 0.0
        for month, due in zip(months, expected, strict=True):
            if profile.kind == OVER:
                share = (due + rng.uniform(-0.03, 0.03)) * ratio
            elif profile.kind == BEHIND:
                start = month_of(profile.behind_from)
                if month >= start:
                    # Clearly more than the tolerance under schedule, the gap widening.
                    span = max(1, months_between(start, year_end))
                    step = min(months_between(start, month), span) / span
                    gap = tol + 0.03 + (final_gap - tol - 0.03) * step
                    share = due - gap + rng.uniform(-0.015, 0.015)
                elif month == progress.add_months(start, -1):
                    share = due - tol * 0.5
                else:
                    share = due - tol * rng.uniform(0, 0.3)
            elif profile.kind == OVERDUE:
                # Ahead enough that November's figure still keeps pace with December.
                share = 1.0 if month == year_end else due + tol * rng.uniform(0.4, 0.6)
            elif month == year_end:
                share = finish
            else:
                share = due + rng.uniform(-0.35 * tol, 0.05)
            if profile.kind != OVER:
                share = min(share, 1.0)
            share = max(share, previous, 0.0)
            fractions.append(share)
            previous = share
        return fractions

    @staticmethod
    def _value(indicator, share: float, *, down: bool, start: Decimal | None) -> Decimal:
        """A figure in plain units: counts are whole numbers, rates have one decimal and
        stay within 0–100. Rounded down for an item behind schedule, else up."""
        target = indicator.target_plain
        fraction = Decimal(repr(share)).quantize(Decimal("0.000001"))
        rounding = ROUND_FLOOR if down else ROUND_CEILING
        if indicator.kind == Indicator.Kind.COUNT:
            return (
                (target * fraction)
                .quantize(Decimal("0.0001"))
                .quantize(Decimal(1), rounding=rounding)
            )
        if start is None:
            value = target * fraction
        else:
            value = target - (target - start) * (1 - fraction)
        value = value.quantize(Decimal("0.0001")).quantize(Decimal("0.1"), rounding=rounding)
        return min(max(value, Decimal(0)), Decimal(100))

    def _streets_split(self, totals: list[Decimal]) -> list[dict]:
        """Per-street cumulative figures that add up exactly to each month's total and never
        fall: each month's increase is shared out by fixed street weights (largest
        remainder)."""
        weights = [self.rng.uniform(0.4, 1.6) for _ in self.streets]
        whole = sum(weights)
        cumulative = [0] * len(self.streets)
        rows, previous = [], 0
        for total in totals:
            increase = int(total) - previous
            previous = int(total)
            shares = [increase * w / whole for w in weights]
            parts = [int(s) for s in shares]
            order = sorted(range(len(shares)), key=lambda i: (parts[i] - shares[i], i))
            for i in order[: increase - sum(parts)]:
                parts[i] += 1
            cumulative = [c + p for c, p in zip(cumulative, parts, strict=True)]
            rows.append(
                {street: Decimal(c) for street, c in zip(self.streets, cumulative, strict=True)}
            )
        return rows

    def _figures_text(self, one: _Series, index: int) -> str:
        indicator = one.indicator
        value = one.values[index]
        unit = indicator.plain_unit
        target = indicator.target_plain
        number = progress.format_number
        if indicator.kind == Indicator.Kind.RATE:
            text = f"{indicator.name}为{number(value)}%（目标{indicator.target_display}）"
            if index == 0:
                return text + "。"
            change = value - one.values[index - 1]
            if change > 0:
                return text + f"，较上月提高{number(change)}个百分点。"
            return text + "，与上月持平。"
        added = value - (one.values[index - 1] if index else Decimal(0))
        shown = progress.format_target(
            "approx" if indicator.comparator == "approx" else "", indicator.target, indicator.unit
        )
        month_part = f"本月新增{number(added)}{unit}" if added else "本月无新增"
        share = progress.format_percent(value / target) if target else "—"
        return (
            f"{indicator.name}累计{number(value)}{unit}（{month_part}），"
            f"为年度目标{shown}的{share}。"
        )

    # -- milestones ------------------------------------------------------------
    def _milestone_plan(self, item, profile) -> list[dict]:
        """The item's milestones with the day each is done (None: not done). Behind from a
        month: the first milestone planned from then on is done two months late, the rest
        not at all."""
        rows = MILESTONES.get(item.code, GENERIC_MILESTONES)
        behind = month_of(profile.behind_from) if profile.kind == BEHIND else None
        late_done = False
        plan = []
        for number, (month, day, title) in enumerate(rows, start=1):
            planned = datetime.date(self.plan.year, month, day)
            if behind is not None and planned.replace(day=1) >= behind:
                done = None
                if not late_done:
                    late = progress.add_months(planned.replace(day=1), 2)
                    done = late + datetime.timedelta(days=self.rng.randint(5, 25))
                    late_done = True
            else:
                done = planned - datetime.timedelta(days=self.rng.randint(0, min(9, day - 1)))
            if done is not None and done.replace(day=1) > min(self.through, self.plan.last_month):
                done = None
            plan.append({"number": number, "title": title, "planned_on": planned, "done": done})
        return plan

    def _milestones_text(self, milestones, month) -> str:
        finished = [m for m in milestones if m["done"] and m["done"].replace(day=1) == month]
        waiting = [m for m in milestones if not m["done"] or m["done"].replace(day=1) > month]
        parts = [f"完成“{m['title']}”。" for m in finished]
        if waiting:
            upcoming = waiting[0]
            if upcoming["planned_on"].replace(day=1) < month:
                parts.append(
                    f"“{upcoming['title']}”原计划{day_label(upcoming['planned_on'])}前完成，"
                    "目前尚未完成。"
                )
            elif finished:
                parts.append(
                    f"下一步推进“{upcoming['title']}”"
                    f"（计划{day_label(upcoming['planned_on'])}前完成）。"
                )
            else:
                parts.append(
                    f"持续推进“{upcoming['title']}”，"
                    f"计划{day_label(upcoming['planned_on'])}前完成。"
                )
        else:
            parts.append("年度节点任务已全部完成，转入常态化管理。")
        return "".join(parts)

    def _milestones_add(self, item, milestones, reports):
        """Milestones marked done in the approved report of the month they were done (or the
        next approved one); without one they stay open."""
        approved = sorted(
            (month, report) for month, report in reports.items() if report.state == State.APPROVED
        )
        for row in milestones:
            reported_in = None
            if row["done"] is not None:
                reported_in = next(
                    (r for month, r in approved if month >= row["done"].replace(day=1)), None
                )
            self.milestones.append(
                Milestone(
                    item=item,
                    number=row["number"],
                    title=row["title"],
                    planned_on=row["planned_on"],
                    done_on=row["done"] if reported_in else None,
                    reported_in=reported_in,
                    is_demo=True,
                )
            )
