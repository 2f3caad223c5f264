"""
The one definition of progress (design.md), as pure functions: no ORM, no settings.

Fractions are Decimals where 1 means 100%. Indicator progress is returned uncapped (an
over-complete count shows 112%); every roll-up caps each part at 100% first, and divides by
the total weight of the parts it averages (Decidim's accountability module does not).
"""

import calendar
import datetime
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

# Unit prefixes the source uses for large numbers: 1.15万人 is 11500 人.
UNIT_PREFIXES = {"万": 10_000, "亿": 100_000_000}

MEASURED_KINDS = ("count", "rate")
MILESTONE_KINDS = ("standard", "qualitative")


class Status(enum.Enum):
    NOT_STARTED = "not_started", "未启动"
    ON_TRACK = "on_track", "正常推进"
    BEHIND = "behind", "滞后"
    DONE = "done", "已完成"
    EXCEEDED = "exceeded", "超额完成"

    def __new__(cls, value, label):
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member

    def __str__(self):
        return self.label


STATUS_ORDER = (Status.DONE, Status.EXCEEDED, Status.ON_TRACK, Status.BEHIND, Status.NOT_STARTED)


# ------------------------------------------------------------------------------
# Units and display
# ------------------------------------------------------------------------------
def unit_scale(unit: str) -> int:
    """How many plain units one unit as written holds: 万人 → 10000, 人 → 1."""
    unit = (unit or "").strip()
    for prefix, scale in UNIT_PREFIXES.items():
        if unit.startswith(prefix) and len(unit) > len(prefix):
            return scale
    return 1


def plain_unit(unit: str) -> str:
    """The unit a figure is entered in: 万人 → 人; 人（次） stays 人（次）."""
    unit = (unit or "").strip()
    if unit_scale(unit) != 1:
        return unit[1:]
    return unit


def format_number(value: Decimal | None) -> str:
    """A Decimal without exponent or trailing zeros: 1.1500 → 1.15, 11500.0000 → 11500."""
    if value is None:
        return "—"
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


COMPARATOR_PREFIX = {"gte": "≥", "eq": "", "approx": "约", "lte": "≤", "": ""}


def format_target(comparator: str, target: Decimal | None, unit: str) -> str:
    """The target as the source writes it: ≥1.15万人, 65%, 约0.69万人."""
    if target is None:
        return "—"
    return f"{COMPARATOR_PREFIX.get(comparator, '')}{format_number(target)}{unit or ''}"


def format_value(value: Decimal | None, unit: str) -> str:
    """A plain-unit figure in the unit as written: 11500 with 万人 → 1.15万人."""
    if value is None:
        return "—"
    return f"{format_number(value / unit_scale(unit))}{unit or ''}"


def format_plain(value: Decimal | None, unit: str) -> str:
    """A figure in plain units, as residents count: 11500 with 万人 → 11500人."""
    if value is None:
        return "—"
    return f"{format_number(value)}{plain_unit(unit)}"


def percent(fraction: Decimal | None, places: int = 1) -> Decimal | None:
    """A fraction as the number of percent a page shows, rounded half up (四舍五入) as the
    published method says: 0.31304 → 31.3, 0.1225 → 12.3."""
    if fraction is None:
        return None
    return round_half_up(fraction * HUNDRED, places)


def round_half_up(value: Decimal, places: int = 1) -> Decimal:
    """`value` to `places` decimals, half up (四舍五入), the one rounding every number the
    portal publishes follows (Decimal's own default is half to even: 12.25 → 12.2)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_percent(fraction: Decimal | None, places: int = 1) -> str:
    if fraction is None:
        return "—"
    return f"{format_number(percent(fraction, places))}%"


def percent_change(now: Decimal | None, before: Decimal | None) -> Decimal | None:
    """The change between two progress fractions in percentage points, as the difference of
    the two numbers a page shows (each rounded to one decimal), so that 104% → 124% reads
    +20 points whatever the digits behind them; None when either is not measured."""
    if now is None or before is None:
        return None
    return percent(now) - percent(before)


# Figure.value holds 16 digits, 4 of them decimals: 12 before the point.
FIGURE_LIMIT = Decimal(10) ** 12
TOO_LARGE = "数值过大：折合基本单位后最多 12 位整数。"


def value_error(kind: str, value: Decimal | None) -> str | None:
    """Why a figure can never be stored for an indicator of this kind, or None."""
    if value is None:
        return None
    if abs(value) >= FIGURE_LIMIT:
        return TOO_LARGE
    if out_of_range(kind, value):
        return "累计数不能为负数。" if kind == "count" else "比率应在 0 到 100 之间。"
    return None


def out_of_range(kind: str, value: Decimal) -> bool:
    """A count below zero or a rate outside 0–100 (percent): never a figure, nor a target.
    The database's check constraints hold the same bounds."""
    if kind == "count":
        return value < 0
    if kind == "rate":
        return not ZERO <= value <= HUNDRED
    return False


# ------------------------------------------------------------------------------
# Indicator progress
# ------------------------------------------------------------------------------
def indicator_progress(
    *,
    kind: str,
    comparator: str,
    target_plain: Decimal | None,
    value: Decimal | None,
    milestones_done: int = 0,
    milestones_total: int = 0,
) -> Decimal | None:
    """Progress of one indicator, uncapped; None when it cannot be measured.

    count / rate with ≥ or =: value ÷ target. ≈: the same, complete at the target (capped).
    ≤: 1 while the value stays at or under the target, else 0. standard / qualitative:
    done milestones ÷ planned milestones. No approved figure yet counts as nothing achieved.
    """
    if kind in MILESTONE_KINDS:
        return milestone_progress(milestones_done, milestones_total)
    if target_plain is None:
        return None
    if value is None:
        return ZERO
    if comparator == "lte":
        return ONE if value <= target_plain else ZERO
    if target_plain == 0:
        return ONE
    ratio = value / target_plain
    if comparator == "approx":
        return min(ratio, ONE)
    return ratio


def milestone_progress(done: int, total: int) -> Decimal | None:
    if total <= 0:
        return None
    return Decimal(min(done, total)) / Decimal(total)


# ------------------------------------------------------------------------------
# Expected progress (序时进度)
# ------------------------------------------------------------------------------
def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def linear_expected(as_of: datetime.date, first_month: datetime.date) -> Decimal:
    """Even progress from the month of issue to December, counted at each month's end.

    A plan issued in April expects 1/9 at the end of April, 3/9 at the end of June and all
    of it at the end of December.
    """
    months = 12 - first_month.month + 1
    elapsed = (as_of.year - first_month.year) * 12 + as_of.month - first_month.month + 1
    elapsed = max(0, min(elapsed, months))
    return Decimal(elapsed) / Decimal(months)


def planned_expected(
    as_of: datetime.date,
    planned: Iterable[tuple[datetime.date, Decimal]],
    target_plain: Decimal,
) -> Decimal:
    """The share of the target the monthly plan says should be reached by the end of `as_of`:
    the latest planned cumulative value up to that month ÷ target."""
    reached = sorted((month, value) for month, value in planned if month <= as_of)
    if not reached or not target_plain:
        return ZERO
    return min(max(reached[-1][1], ZERO) / target_plain, ONE)


def milestone_expected(
    as_of: datetime.date, planned_dates: Sequence[datetime.date]
) -> Decimal | None:
    """The share of the item's milestones planned to be done by the end of `as_of`."""
    if not planned_dates:
        return None
    end = month_end(as_of)
    return Decimal(sum(1 for day in planned_dates if day <= end)) / Decimal(len(planned_dates))


# ------------------------------------------------------------------------------
# Roll-up, status and the overdue flag
# ------------------------------------------------------------------------------
def weighted_mean(
    parts: Iterable[tuple[Decimal | None, Decimal]], *, cap: bool = True
) -> Decimal | None:
    """Σ(progress × weight) ÷ Σ weight over the parts that can be measured."""
    total = ZERO
    weights = ZERO
    for value, weight in parts:
        if value is None:
            continue
        total += (min(value, ONE) if cap else value) * weight
        weights += weight
    if not weights:
        return None
    return total / weights


def status(
    *,
    progress: Decimal | None,
    progress_uncapped: Decimal | None,
    expected: Decimal | None,
    has_approved: bool,
    tolerance: Decimal,
) -> Status:
    """未启动 before any approved report; then 已完成 / 超额完成 at 100%, 滞后 when more than
    `tolerance` under the expected progress, else 正常推进 (also when nothing is measurable)."""
    if not has_approved:
        return Status.NOT_STARTED
    if progress is None:
        return Status.ON_TRACK
    if progress >= ONE:
        if progress_uncapped is not None and progress_uncapped > ONE:
            return Status.EXCEEDED
        return Status.DONE
    if expected is not None and progress < expected - tolerance:
        return Status.BEHIND
    return Status.ON_TRACK


def schedule_share(progress: Decimal | None, expected: Decimal | None) -> Decimal | None:
    """How much of 序时进度 is reached: progress ÷ expected, capped at 1 (at or ahead of
    schedule); 1 before anything is expected; None when nothing can be measured. Evaluation
    scores a unit's 推进进度 by it."""
    if progress is None:
        return None
    if not expected:
        return ONE
    return min(progress / expected, ONE)


def due_date(month: datetime.date, due_day: int) -> datetime.date:
    """A month's report is due by `due_day` of the following month."""
    return add_months(month, 1).replace(day=due_day)


def last_due_month(today: datetime.date, due_day: int) -> datetime.date:
    """The latest month whose report was due before `today`: on the due day itself the month
    before is not overdue yet."""
    month = today.replace(day=1)
    while due_date(month, due_day) >= today:
        month = add_months(month, -1)
    return month


def due_months(
    first_month: datetime.date, last_month: datetime.date, today: datetime.date, due_day: int
) -> list[datetime.date]:
    """The months from `first_month` to `last_month` whose report due date has passed by
    `today`."""
    last = min(last_month, last_due_month(today, due_day))
    months = []
    month = first_month
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def overdue(due: Sequence[datetime.date], reported: int) -> bool:
    """逾期未报: fewer of the `due` months (due_months) have a submitted or approved report
    than are due; `reported` counts the due months that have one. The public flag counts a
    whole plan year, the reporting board one month at a time."""
    return reported < len(due)


# ------------------------------------------------------------------------------
# One item, from what the database returned
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorInput:
    kind: str
    comparator: str
    target_plain: Decimal | None
    weight: Decimal
    value: Decimal | None
    planned: tuple[tuple[datetime.date, Decimal], ...] = ()


@dataclass(frozen=True)
class IndicatorProgress:
    progress: Decimal | None
    expected: Decimal | None


class _Shown:
    """How a progress is shown: its number, and the geometry of its bar (0–100, capped)."""

    @property
    def expected_display(self) -> str:
        return format_percent(self.expected)

    @property
    def bar_percent(self) -> str:
        return f"{float(min(max(self.progress or ZERO, ZERO), ONE)) * 100:.1f}"

    @property
    def expected_percent(self) -> str | None:
        if self.expected is None:
            return None
        return f"{float(min(max(self.expected, ZERO), ONE)) * 100:.1f}"


@dataclass(frozen=True)
class ItemProgress(_Shown):
    progress: Decimal | None
    progress_uncapped: Decimal | None
    expected: Decimal | None
    status: Status
    overdue: bool
    indicators: tuple[IndicatorProgress, ...] = field(default=())
    milestones_done: int = 0
    milestones_total: int = 0

    @property
    def progress_display(self) -> str:
        """An item shows its progress uncapped: 135% is news. Roll-ups cap it at 100%."""
        return format_percent(self.progress_uncapped)


def indicator_expected(
    spec: IndicatorInput,
    *,
    as_of: datetime.date,
    first_month: datetime.date,
    milestone_dates: Sequence[datetime.date],
) -> Decimal | None:
    if spec.kind in MILESTONE_KINDS:
        return milestone_expected(as_of, milestone_dates)
    if spec.planned and spec.target_plain:
        return planned_expected(as_of, spec.planned, spec.target_plain)
    return linear_expected(as_of, first_month)


def item_progress(
    *,
    indicators: Sequence[IndicatorInput],
    milestones_done: int,
    milestone_dates: Sequence[datetime.date],
    has_approved: bool,
    as_of: datetime.date,
    first_month: datetime.date,
    tolerance: Decimal,
    overdue: bool,
) -> ItemProgress:
    """An item's progress: the weight-normalised mean of its indicators. An item the source
    gives no indicator for is measured by its milestones alone."""
    if not indicators:
        indicators = (IndicatorInput("qualitative", "", None, ONE, None),)
    rows = []
    for spec in indicators:
        value = indicator_progress(
            kind=spec.kind,
            comparator=spec.comparator,
            target_plain=spec.target_plain,
            value=spec.value,
            milestones_done=milestones_done,
            milestones_total=len(milestone_dates),
        )
        expected = indicator_expected(
            spec, as_of=as_of, first_month=first_month, milestone_dates=milestone_dates
        )
        rows.append(IndicatorProgress(value, expected))
    weights = [spec.weight for spec in indicators]
    capped = weighted_mean(zip((r.progress for r in rows), weights, strict=True))
    uncapped = weighted_mean(zip((r.progress for r in rows), weights, strict=True), cap=False)
    # Expected progress only over the indicators that can be measured, so that an item with
    # no milestones yet is not held to a schedule it has none of.
    expected = weighted_mean(
        (r.expected if r.progress is not None else None, w)
        for r, w in zip(rows, weights, strict=True)
    )
    return ItemProgress(
        progress=capped,
        progress_uncapped=uncapped,
        expected=expected,
        status=status(
            progress=capped,
            progress_uncapped=uncapped,
            expected=expected,
            has_approved=has_approved,
            tolerance=tolerance,
        ),
        overdue=overdue,
        indicators=tuple(rows),
        milestones_done=min(milestones_done, len(milestone_dates)),
        milestones_total=len(milestone_dates),
    )


@dataclass(frozen=True)
class Rollup(_Shown):
    """A domain's or the plan's standing: weight-normalised mean of its items."""

    progress: Decimal | None
    expected: Decimal | None
    counts: dict
    overdue: int
    measured: int
    total: int

    @property
    def progress_display(self) -> str:
        return format_percent(self.progress)

    @property
    def status_counts(self) -> list[tuple[Status, int]]:
        return [(s, self.counts.get(s, 0)) for s in STATUS_ORDER]


def rollup(items: Iterable[tuple[ItemProgress, Decimal]]) -> Rollup:
    items = list(items)
    counts: dict[Status, int] = {}
    for snapshot, _ in items:
        counts[snapshot.status] = counts.get(snapshot.status, 0) + 1
    return Rollup(
        progress=weighted_mean((s.progress, w) for s, w in items),
        expected=weighted_mean(
            (s.expected if s.progress is not None else None, w) for s, w in items
        ),
        counts=counts,
        overdue=sum(1 for s, _ in items if s.overdue),
        measured=sum(1 for s, _ in items if s.progress is not None),
        total=len(items),
    )


# ------------------------------------------------------------------------------
# Reporting punctuality
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Punctuality:
    """How a unit's monthly reports arrived against their due days."""

    on_time: int
    late: int
    missing: int

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.missing

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.on_time) / Decimal(self.due) if self.due else None

    @property
    def rate_display(self) -> str:
        return format_percent(self.rate)

    def __add__(self, other: "Punctuality") -> "Punctuality":
        """Several items' punctuality together: a unit's is the sum of its items'."""
        return Punctuality(
            self.on_time + other.on_time, self.late + other.late, self.missing + other.missing
        )


NO_REPORTS_DUE = Punctuality(0, 0, 0)


def punctuality(
    submissions: Iterable[tuple[datetime.date, datetime.date | None]],
    due: Sequence[datetime.date],
    due_day: int,
) -> Punctuality:
    """Count each due month once: submitted by its due day, later, or not at all.

    `submissions` pairs a report's month with the local date it was first submitted (None if
    never). A report submitted on the due day is on time.
    """
    submitted = dict(submissions)
    on_time = late = missing = 0
    for month in due:
        day = submitted.get(month)
        if day is None:
            missing += 1
        elif day <= due_date(month, due_day):
            on_time += 1
        else:
            late += 1
    return Punctuality(on_time, late, missing)
