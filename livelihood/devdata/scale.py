"""
Scale data: many plan years of approved monthly figures, to measure the portal at a size the
district will reach after a decade (`manage.py generate_scale_data`, bench/, tests/test_scale.py).

By default ten plan years (2000–2009) × 50 items × 3 indicators × 12 months, each indicator
with a district total and a row for each of 13 streets: 6,000 reports and 252,000 figures.
The years never meet a real plan (the portal opens on the latest year, so a real 2024 plan
stays the front page); domains, lead units and streets are its own (codes `scale-…`), except
that the district's real streets are used when they exist. Every report and milestone is
marked as demo, so the public pages show the 演示数据 banner while scale data is present, and
`remove_demo` would take the reports away too.

The same seed and options give the same data. Rows are written with `bulk_create` in batches,
which sends no signals: the publication version is raised once at the end.
"""

import datetime
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from livelihood.operations.publication import publication_bump
from livelihood.plan.models import (
    Domain,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    Plan,
    PlannedValue,
    Street,
)
from livelihood.progress import arithmetic as progress
from livelihood.reporting.models import Figure, MonthlyReport
from livelihood.snapshots import build as snapshots
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild

DOCUMENT = "规模测试数据（非真实文件）"
CODE_PREFIX = "scale-"
UNIT_COUNT = 18
DOMAIN_COUNT = 10
BATCH = 2000
DEFAULT_SEED = 2000

# Indicator number → (kind, unit as written); the cycle repeats past four.
INDICATOR_KINDS = (
    (Indicator.Kind.COUNT, "人"),
    (Indicator.Kind.RATE, "%"),
    (Indicator.Kind.COUNT, "个"),
    (Indicator.Kind.COUNT, "万人"),
)


class ScaleError(Exception):
    """The scale data cannot be generated or removed; the message says why, in Chinese."""


@dataclass(frozen=True)
class Spec:
    years: int = 10
    items: int = 50
    indicators: int = 3
    months: int = 12
    streets: int = 13
    first_year: int = 2000
    seed: int = DEFAULT_SEED

    @property
    def last_year(self) -> int:
        return self.first_year + self.years - 1

    def check(self):
        limits = {
            "years": (self.years, 1, 50),
            "items": (self.items, 1, 500),
            "indicators": (self.indicators, 1, 9),
            "months": (self.months, 1, 12),
            "streets": (self.streets, 0, 50),
        }
        for name, (value, low, high) in limits.items():
            if not low <= value <= high:
                raise ScaleError(f"--{name} 应在 {low} 到 {high} 之间，实际为 {value}。")
        if self.first_year < 2000 or self.last_year > 2100:
            raise ScaleError(
                f"年度应在 2000 到 2100 之间，实际为 {self.first_year}–{self.last_year}。"
            )


@dataclass
class Result:
    spec: Spec
    counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    real_streets: int = 0


def scale_plans():
    return Plan.objects.filter(document_number=DOCUMENT)


def scale_exists() -> bool:
    return scale_plans().exists() or LeadUnit.objects.filter(code__startswith=CODE_PREFIX).exists()


def scale_generate(spec: Spec) -> Result:
    """Create the scale data `spec` describes, in one transaction; refuse if some exists."""
    spec.check()
    started = time.monotonic()
    with transaction.atomic():
        years = sorted(scale_plans().values_list("year", flat=True))
        if years or LeadUnit.objects.filter(code__startswith=CODE_PREFIX).exists():
            shown = f"（{years[0]}–{years[-1]} 年）" if years else ""
            raise ScaleError(
                f"数据库中已有规模测试数据{shown}，未做任何修改。"
                "如需按新的参数重新生成，请先运行 manage.py generate_scale_data --remove。"
            )
        taken = list(
            Plan.objects.filter(year__range=(spec.first_year, spec.last_year)).values_list(
                "year", flat=True
            )
        )
        if taken:
            raise ScaleError(
                f"{'、'.join(map(str, sorted(taken)))} 年已有计划，规模测试数据不能占用；"
                "请用 --first-year 另选年度。"
            )
        result = Result(spec)
        ScaleBuilder(spec, result).build()
        # Written in bulk (no signals): each plan's stored progress snapshot, written here.
        snapshots.rebuild(Plan.objects.filter(year__range=(spec.first_year, spec.last_year)))
        publication_bump()
    analyze()
    result.seconds = time.monotonic() - started
    return result


def analyze():
    """Refresh the planner's statistics of the tables the generator fills. A quarter of a
    million rows written at once would otherwise be planned for as the empty tables they were
    (PostgreSQL analyses them some time later; SQLite only when told): seconds per page instead
    of milliseconds, which no real database that grew month by month would show."""
    from django.db import connection

    models = (Plan, Domain, LeadUnit, Street, Item, Indicator, PlannedValue)
    models += (MonthlyReport, Figure, Milestone)
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    tables.append(connection.ops.quote_name(Item.partner_units.through._meta.db_table))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")


def scale_remove() -> Counter:
    """Delete every row the generator made, in one transaction, with plain DELETEs (the ORM
    would load a quarter of a million figures to send their signals), then raise the
    publication version once."""
    counts = Counter()
    with transaction.atomic():
        plans = scale_plans()
        items = Item.objects.filter(plan__in=plans)
        steps = (
            # The stored snapshots first: plain DELETEs do not cascade.
            ("snapshots", ItemSnapshot.objects.filter(plan__in=plans)),
            ("snapshot_rollups", RollupSnapshot.objects.filter(plan__in=plans)),
            ("snapshot_builds", SnapshotBuild.objects.filter(plan__in=plans)),
            ("figures", Figure.objects.filter(report__item__in=items)),
            ("milestones", Milestone.objects.filter(item__in=items)),
            ("reports", MonthlyReport.objects.filter(item__in=items)),
            ("planned_values", PlannedValue.objects.filter(indicator__item__in=items)),
            ("indicators", Indicator.objects.filter(item__in=items)),
            ("partners", Item.partner_units.through.objects.filter(item__in=items)),
            ("items", items),
            ("domains", Domain.objects.filter(plan__in=plans)),
            ("plans", plans),
            ("lead_units", LeadUnit.objects.filter(code__startswith=CODE_PREFIX)),
            ("streets", Street.objects.filter(code__startswith=CODE_PREFIX)),
        )
        for name, queryset in steps:
            counts[name] = queryset._raw_delete(queryset.db)
        if any(counts.values()):
            publication_bump()
    if any(counts.values()):
        analyze()
    return counts


class ScaleBuilder:
    def __init__(self, spec: Spec, result: Result):
        self.spec = spec
        self.result = result
        self.counts = result.counts
        self.rng = random.Random(spec.seed)
        self.tz = timezone.get_current_timezone()

    def build(self):
        self.units = self._units()
        self.streets = self._streets()
        for year in range(self.spec.first_year, self.spec.last_year + 1):
            self._year(year)

    # -- shared rows -------------------------------------------------------------
    def _units(self) -> list[LeadUnit]:
        units = LeadUnit.objects.bulk_create(
            LeadUnit(
                code=f"{CODE_PREFIX}u{n:02d}",
                name=f"规模测试单位{n:02d}",
                short_name=f"测试单位{n:02d}",
                order=900 + n,
            )
            for n in range(1, UNIT_COUNT + 1)
        )
        self.counts["lead_units"] = len(units)
        return units

    def _streets(self) -> list[Street]:
        real = list(
            Street.objects.exclude(code__startswith=CODE_PREFIX).order_by("order", "code")[
                : self.spec.streets
            ]
        )
        self.result.real_streets = len(real)
        made = Street.objects.bulk_create(
            Street(
                code=f"{CODE_PREFIX}s{n:02d}",
                name=f"规模测试街镇{n:02d}",
                kind=Street.Kind.SUBDISTRICT,
                order=900 + n,
            )
            for n in range(len(real) + 1, self.spec.streets + 1)
        )
        self.counts["streets"] = len(made)
        return real + made

    # -- one plan year -----------------------------------------------------------
    def _year(self, year: int):
        spec, rng = self.spec, self.rng
        plan = Plan.objects.create(
            year=year,
            title=f"{year}年规模测试计划（生成数据）",
            document_number=DOCUMENT,
            issued_on=datetime.date(year, 1, 10),
            declared_item_count=spec.items,
            summary="由 manage.py generate_scale_data 生成，只用于性能测试，不是真实计划。",
        )
        self.counts["plans"] += 1
        domain_count = min(DOMAIN_COUNT, spec.items)
        domains = Domain.objects.bulk_create(
            Domain(plan=plan, number=n, name=f"规模测试领域{n}") for n in range(1, domain_count + 1)
        )
        self.counts["domains"] += len(domains)

        items = []
        for index in range(spec.items):
            domain = domains[index % domain_count]
            number = index // domain_count + 1
            items.append(
                Item(
                    plan=plan,
                    domain=domain,
                    code=f"{domain.number}-{number}",
                    title=f"规模测试事项{domain.number}-{number}：第{index + 1}项民生实事",
                    source_text=f"（生成数据）{year}年第{index + 1}项。",
                    lead_unit=self.units[index % len(self.units)],
                    order=number,
                )
            )
        items = Item.objects.bulk_create(items)
        self.counts["items"] += len(items)
        partners = [
            Item.partner_units.through(item=item, leadunit=self.units[(i + k) % len(self.units)])
            for i, item in enumerate(items)
            if i % 3 == 0
            for k in (1, 2)
        ]
        Item.partner_units.through.objects.bulk_create(partners)
        self.counts["partners"] += len(partners)

        indicators = []
        for item in items:
            for number in range(1, spec.indicators + 1):
                kind, unit = INDICATOR_KINDS[(number - 1) % len(INDICATOR_KINDS)]
                if kind == Indicator.Kind.RATE:
                    target = Decimal(rng.randint(900, 990)) / 10
                elif unit.startswith("万"):
                    target = Decimal(rng.randint(5, 30)) / 10
                else:
                    target = Decimal(rng.randint(20, 2000) * (10 if unit == "人" else 1))
                indicators.append(
                    Indicator(
                        item=item,
                        number=number,
                        name=f"指标{number}",
                        kind=kind,
                        comparator=Indicator.Comparator.GTE,
                        target=target,
                        unit=unit,
                        scale=progress.unit_scale(unit),
                        has_street_breakdown=bool(self.streets),
                    )
                )
        indicators = Indicator.objects.bulk_create(indicators, batch_size=BATCH)
        self.counts["indicators"] += len(indicators)

        planned = [
            PlannedValue(
                indicator=indicator,
                month=datetime.date(year, m, 1),
                value=(indicator.target * indicator.scale * m / 12).quantize(Decimal("0.0001")),
            )
            for i, indicator in enumerate(indicators)
            if indicator.number == 1 and i % (5 * spec.indicators) == 0
            for m in range(1, 13)
        ]
        PlannedValue.objects.bulk_create(planned, batch_size=BATCH)
        self.counts["planned_values"] += len(planned)

        reports = MonthlyReport.objects.bulk_create(
            (
                self._report(item, datetime.date(year, m, 1))
                for item in items
                for m in range(1, spec.months + 1)
            ),
            batch_size=BATCH,
        )
        self.counts["reports"] += len(reports)
        by_item = {}
        for report in reports:
            by_item.setdefault(report.item_id, {})[report.month.month] = report

        by_item_indicators = {}
        for indicator in indicators:
            by_item_indicators.setdefault(indicator.item_id, []).append(indicator)
        figures = []
        for item in items:
            pace = rng.uniform(0.75, 1.25)  # behind, on schedule, over-completed
            for indicator in by_item_indicators[item.pk]:
                weights = [rng.uniform(0.5, 1.5) for _ in self.streets]
                offsets = [Decimal(rng.randint(-30, 30)) / 10 for _ in self.streets]
                for m, report in sorted(by_item[item.pk].items()):
                    share = min(Decimal("1.3"), Decimal(str(round(pace * m / 12, 4))))
                    total = self._value(indicator, share)
                    figures.append(Figure(report=report, indicator=indicator, value=total))
                    figures.extend(
                        Figure(report=report, indicator=indicator, street=street, value=value)
                        for street, value in zip(
                            self.streets,
                            self._split(indicator, total, weights, offsets),
                            strict=True,
                        )
                    )
            if len(figures) >= BATCH * 5:
                self._figures(figures)
                figures = []
        self._figures(figures)

        milestones = []
        for item in items:
            june = by_item[item.pk].get(6)
            milestones.append(
                Milestone(
                    item=item,
                    number=1,
                    title="完成年中阶段任务",
                    planned_on=datetime.date(year, 6, 30),
                    done_on=datetime.date(year, 6, 28) if june else None,
                    reported_in=june,
                    is_demo=True,
                )
            )
            milestones.append(
                Milestone(
                    item=item,
                    number=2,
                    title="完成年度任务",
                    planned_on=datetime.date(year, 12, 20),
                    is_demo=True,
                )
            )
        Milestone.objects.bulk_create(milestones, batch_size=BATCH)
        self.counts["milestones"] += len(milestones)

    def _report(self, item, month: datetime.date) -> MonthlyReport:
        next_month = progress.add_months(month, 1)
        submitted = datetime.datetime.combine(
            next_month.replace(day=3), datetime.time(10, 0), tzinfo=self.tz
        )
        return MonthlyReport(
            item=item,
            month=month,
            state=MonthlyReport.State.APPROVED,
            narrative=f"{month.year}年{month.month}月按计划推进（规模测试生成数据）。",
            is_demo=True,
            created_at=submitted - datetime.timedelta(days=1),
            submitted_at=submitted,
            reviewed_at=submitted + datetime.timedelta(days=1),
        )

    @staticmethod
    def _value(indicator, share: Decimal) -> Decimal:
        target = indicator.target * indicator.scale
        if indicator.kind == Indicator.Kind.RATE:
            start = target - 8
            value = start + (target - start) * min(share, Decimal(1))
            return min(value, Decimal(100)).quantize(Decimal("0.1"))
        return (target * share).quantize(Decimal(1))

    @staticmethod
    def _split(indicator, total: Decimal, weights, offsets) -> list[Decimal]:
        """Street rows: counts that add up to the total, rates around it."""
        if indicator.kind == Indicator.Kind.RATE:
            return [min(max(total + o, Decimal(0)), Decimal(100)) for o in offsets]
        whole = sum(weights)
        parts = [Decimal(int(total * Decimal(w / whole))) for w in weights]
        if parts:
            parts[-1] += total - sum(parts)
        return parts

    def _figures(self, figures):
        Figure.objects.bulk_create(figures, batch_size=BATCH)
        self.counts["figures"] += len(figures)
        self.counts["street_figures"] += sum(1 for f in figures if f.street is not None)
