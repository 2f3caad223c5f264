"""
Demo progress for a first look at the portal: believable approved monthly reports for every
item of the 2024 plan, milestones for the items measured by milestones, and three demo staff
accounts.

Everything created here is marked as demo (MonthlyReport.is_demo, Milestone.is_demo,
StaffProfile.is_demo), so that every public page can say 演示数据 and `demo_remove()` can take
it all away again. Rows that are not demo are never changed: a month a lead unit has really
reported is skipped.

The outcome is set by a small table of per-item profiles (PROFILES): most items keep to
schedule, a few fall behind with a coded reason, one over-completes, one misses its last
report. Figures are shaped against the expected progress (序时进度) that progress.py computes,
with the tolerance from settings, so that the statuses the portal shows are the ones the
profiles describe (for the default --through, December).
"""

import datetime
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from livelihood.accounts.roles import (
    COORDINATOR_GROUP,
    roles_ensure,
)
from livelihood.models import (
    Figure,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    StaffProfile,
    Street,
)
from livelihood.progress import arithmetic as progress

YEAR = 2024
DEFAULT_SEED = 2024

# (username, lead unit code or None for the coordinating office)
ACCOUNTS = (("demo-coordinator", None), ("demo-rsj", "rsj"), ("demo-cl", "cl"))

Reason = MonthlyReport.DelayReason
Confidence = MonthlyReport.Confidence
State = MonthlyReport.State


class DemoError(Exception):
    """The demo cannot be loaded or removed; the message says why, in Chinese."""


# ------------------------------------------------------------------------------
# Profiles: how each item's year goes
# ------------------------------------------------------------------------------
ON_SCHEDULE, BEHIND, OVER, OVERDUE = "on_schedule", "behind", "over", "overdue"


@dataclass(frozen=True)
class Profile:
    kind: str = ON_SCHEDULE
    behind_from: tuple[int, int] | None = None  # (year, month) the item falls behind
    reason: str = ""
    note: str = ""
    measures: tuple[str, ...] = ()


PROFILES = {
    # Residents order the checks (你点我检) and order more than planned.
    "10-3": Profile(OVER),
    # Legal aid keeps to schedule, but December's report is still a draft: 逾期未报.
    "3-6": Profile(OVERDUE),
    "9-2": Profile(
        BEHIND,
        (YEAR, 6),
        Reason.PROCEDURES,
        "部分安置房项目竣工验收和不动产首次登记手续仍在办理，暂不具备交房条件。",
        (
            "已会同相关街道倒排交房计划，逐项目跟踪验收和登记进度。",
            "已提请区政府专题调度，协调不动产登记部门开辟绿色通道。",
        ),
    ),
    "9-4": Profile(
        BEHIND,
        (YEAR, 7),
        Reason.SEASONAL,
        "受梅雨季持续降雨和7—8月高温天气影响，户外健身场地硬化和器材安装施工进度放缓。",
        (
            "天气转好后增加施工班组，实行错峰施工。",
            "已倒排工期，每周调度各点位施工进度。",
        ),
    ),
    "9-1": Profile(
        BEHIND,
        (YEAR, 8),
        Reason.FUNDS,
        "部分充电桩点位由社会投资主体建设，建设资金未按计划到位，部分已建成点位待电力接入。",
        (
            "已督促投资主体落实建设资金，并协调供电部门加快电力接入。",
            "对资金仍未落实的点位，研究调整由区属国有企业承建。",
        ),
    ),
    "6-1": Profile(
        BEHIND,
        (YEAR, 9),
        Reason.OTHER,
        "部分餐饮商户需自筹资金改造油烟净化设施，改造意愿不强，需逐户上门做工作。",
        (
            "已对未整改商户下达限期整改通知，联合城管、市场监管部门开展联合检查。",
            "对改造确有困难的商户提供净化设施集中采购和技术指导。",
        ),
    ),
}
ON_TIME = Profile()

# Rates measured as coverage built up over the year rise from near zero; other rates are a
# level measured each month that moves a little towards the target.
RISING_RATES = {"5-1"}

# Count indicators broken down by street (their first count indicator).
STREET_BREAKDOWN = ("1-1", "3-2", "9-4")

# Items measured by milestones (no indicator, or a `standard` one): (month, day, title).
MILESTONES = {
    "1-2": (
        (5, 31, "发布2024年高校毕业生求职创业补贴申领公告"),
        (7, 31, "完成首批申领材料审核和公示"),
        (10, 31, "首批补贴按1500元/人标准发放到位"),
        (12, 20, "完成全年补贴发放和资金清算"),
    ),
    "1-3": (
        (5, 31, "制定家政服务人员培训计划"),
        (8, 31, "完成上半年家政服务技能培训班"),
        (11, 30, "举办家政服务供需对接会"),
        (12, 25, "完成年度培训和新增从业人员统计"),
    ),
    "2-1": (
        (6, 30, "按新标准发放城乡低保和特困人员生活保障金"),
        (9, 30, "完成低保对象年度动态复核"),
        (12, 20, "完成特困人员照料护理补贴年度发放"),
    ),
    "2-2": (
        (5, 31, "梳理办理事项清单和材料目录"),
        (7, 31, "线上办理专区上线试运行"),
        (9, 30, "街镇便民服务中心设立线下综合窗口"),
        (12, 15, "开展办理情况回访和效果评估"),
    ),
    "6-1": (
        (5, 31, "完成餐饮油烟、噪声、恶臭异味问题排查建档"),
        (7, 31, "完成重点点位油烟净化设施安装"),
        (9, 30, "开展夜间噪声专项执法检查"),
        (11, 30, "问题点位整改销号并回访群众"),
    ),
    "8-1": (
        (5, 31, "制定文化和旅游消费补助实施方案"),
        (6, 30, "发放第一批文旅消费券"),
        (9, 30, "发放第二批文旅消费券（国庆档）"),
        (12, 20, "完成补助资金核销和效果评估"),
    ),
    "9-5": (
        (6, 30, "完成辖区菜市场现状排查"),
        (9, 30, "完成重点菜市场提升改造"),
        (12, 20, "建立菜市场长效管理考核机制"),
    ),
    "10-2": (
        (5, 31, "开展反诈宣传进社区、进校园、进企业"),
        (8, 31, "开展暑期反诈专项行动"),
        (11, 30, "完成涉诈重点人员排查管控"),
        (12, 25, "完成年度反诈工作总结"),
    ),
}
GENERIC_MILESTONES = (
    (5, 31, "制定年度实施方案"),
    (8, 31, "完成阶段性任务"),
    (12, 20, "完成年度任务并总结"),
)

# A sentence on the month's work, one picked per report.
ACTIVITIES = {
    "1-1": (
        "开展“春风行动”“民营企业招聘月”等专项招聘活动。",
        "举办线上线下专场招聘会，帮扶重点群体就业。",
    ),
    "3-1": ("走访摸排困难职工家庭，及时落实救助。",),
    "3-2": ("为残疾儿童和成年残疾人提供康复训练、辅具适配等服务。",),
    "3-3": ("开设电商运营、手工编织等技能培训班。",),
    "3-4": ("依托街道阳光家园开展日间照料和托养服务。",),
    "3-5": ("入户评估后实施地面防滑、扶手安装等改造。",),
    "3-6": ("依托街镇公共法律服务工作站受理法律援助申请。",),
    "3-7": ("与民政部门开展数据比对，动态跟踪参保情况。",),
    "4-1": ("通过新建、回收治理等方式扩大公办学位供给。",),
    "4-2": ("按学期审核并发放资助资金。",),
    "4-3": ("老年学校开设书画、声乐、智能手机应用等课程。",),
    "4-4": ("依托社区开展家庭教育指导活动。",),
    "5-1": ("组织口腔医生进校园、进幼儿园开展涂氟和窝沟封闭。",),
    "5-2": ("辖区助产机构落实新生儿疾病筛查，对未筛查对象电话随访。",),
    "7-1": ("结合老旧小区改造和闲置地块利用挖潜增设泊位。",),
    "8-2": ("依托社区、商圈建设阅读空间。",),
    "9-1": ("在居住区、商圈和公共停车场布设充电设施。",),
    "9-3": ("推进退役军人服务站标准化建设。",),
    "10-1": ("组织商户开展放心消费承诺。",),
    "10-3": ("通过线上平台征集群众点单，按点单开展抽检。",),
}


# ------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------
@dataclass
class Account:
    username: str
    unit: str
    password: str = ""


@dataclass
class DemoResult:
    created: bool
    accounts: list[Account]
    through: datetime.date | None = None
    seed: int | None = None
    counts: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    overdue: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------
def demo_exists() -> bool:
    return (
        MonthlyReport.objects.filter(is_demo=True).exists()
        or Milestone.objects.filter(is_demo=True).exists()
        or StaffProfile.objects.filter(is_demo=True).exists()
    )


def demo_accounts() -> list[Account]:
    profiles = (
        StaffProfile.objects.filter(is_demo=True)
        .select_related("user", "lead_unit")
        .order_by(F("lead_unit").asc(nulls_first=True), "user__username")
    )
    return [Account(p.user.get_username(), unit_label(p.lead_unit)) for p in profiles]


def plan_2024() -> Plan:
    plan = Plan.objects.filter(year=YEAR).first()
    if plan is None or not plan.items.exists():
        raise DemoError(f"数据库中还没有{YEAR}年度计划，请先运行 manage.py load_plan {YEAR}。")
    return plan


@transaction.atomic
def demo_load(*, through: datetime.date | None = None, seed: int = DEFAULT_SEED) -> DemoResult:
    """Generate the demo for the 2024 plan from its month of issue through `through`.

    Does nothing (and says so in the result) when demo data already exists. The same seed and
    `through` give the same figures, milestones and timestamps; passwords are always new.
    """
    plan = plan_2024()
    if demo_exists():
        return DemoResult(created=False, accounts=demo_accounts())
    through = (through or plan.last_month).replace(day=1)
    if not plan.first_month <= through <= plan.last_month:
        raise DemoError(
            f"--through 应在 {plan.first_month:%Y-%m} 到 {plan.last_month:%Y-%m} 之间，"
            f"实际为 {through:%Y-%m}。"
        )
    taken = [
        name for name, _ in ACCOUNTS if get_user_model().objects.filter(username=name).exists()
    ]
    if taken:
        raise DemoError(f"用户名 {'、'.join(taken)} 已被非演示账号占用，无法创建演示账号。")

    accounts, users = _accounts_create()
    builder = _Builder(plan=plan, through=through, rng=random.Random(seed), users=users)
    builder.build()

    items = Item.objects.filter(plan=plan).with_progress()
    statuses = Counter(item.snapshot.status for item in items)
    overdue = [item.code for item in items if item.snapshot.overdue]
    return DemoResult(
        created=True,
        accounts=accounts,
        through=through,
        seed=seed,
        counts=builder.counts,
        statuses=statuses,
        overdue=overdue,
    )


@transaction.atomic
def demo_remove() -> Counter:
    """Delete every demo report (figures cascade), demo milestone and demo account, and turn
    the street breakdown off again on the indicators only the demo had broken down."""
    blocked = Milestone.objects.filter(
        is_demo=False, done_on__isnull=False, reported_in__is_demo=True
    ).select_related("item")
    if blocked.exists():
        names = "、".join(str(m) for m in blocked)
        raise DemoError(f"以下节点在演示报告中标记为完成，请先改为在正式报告中报告：{names}。")
    counts = Counter()
    broken_down = set(
        Figure.objects.filter(report__is_demo=True, street__isnull=False).values_list(
            "indicator", flat=True
        )
    )
    counts["figures"] = Figure.objects.filter(report__is_demo=True).count()
    counts["milestones"] = Milestone.objects.filter(is_demo=True).count()
    Milestone.objects.filter(is_demo=True).delete()
    counts["reports"] = MonthlyReport.objects.filter(is_demo=True).count()
    MonthlyReport.objects.filter(is_demo=True).delete()
    counts["indicators"] = (
        Indicator.objects.filter(pk__in=broken_down, has_street_breakdown=True)
        .exclude(pk__in=Figure.objects.filter(street__isnull=False).values("indicator"))
        .update(has_street_breakdown=False)
    )
    users = get_user_model().objects.filter(staff_profile__is_demo=True)
    counts["users"] = users.count()
    users.delete()
    return counts


@transaction.atomic
def demo_reset_passwords() -> list[Account]:
    """Give every demo account a new random password and return them, to be shown once."""
    accounts = demo_accounts()
    users = {
        u.get_username(): u for u in get_user_model().objects.filter(staff_profile__is_demo=True)
    }
    for account in accounts:
        account.password = secrets.token_urlsafe(12)
        user = users[account.username]
        user.set_password(account.password)
        user.save(update_fields=["password"])
    return accounts


def unit_label(unit) -> str:
    return unit.name if unit is not None else COORDINATOR_GROUP


# ------------------------------------------------------------------------------
# Accounts and groups
# ------------------------------------------------------------------------------
def _accounts_create() -> tuple[list[Account], dict]:
    """The demo accounts; returns them with their passwords and {unit id or None: user}."""
    office, unit_group = roles_ensure()
    accounts, users = [], {}
    for username, code in ACCOUNTS:
        unit = None
        if code is not None:
            unit = LeadUnit.objects.filter(code=code).first()
            if unit is None:
                continue
        password = secrets.token_urlsafe(12)
        user = get_user_model()(username=username, is_staff=True)
        user.set_password(password)
        user.save()
        user.groups.add(unit_group if unit else office)
        StaffProfile.objects.create(user=user, lead_unit=unit, is_demo=True)
        accounts.append(Account(username, unit_label(unit), password))
        users[unit.pk if unit else None] = user
    return accounts, users


# ------------------------------------------------------------------------------
# Figures and reports
# ------------------------------------------------------------------------------
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


class _Builder:
    """Builds the demo for one plan: reports and figures item by item, in plan order, from
    one random generator, so that a seed always gives the same demo."""

    def __init__(self, *, plan, through, rng, users):
        self.plan = plan
        self.through = through
        self.rng = rng
        self.users = users
        self.tolerance = settings.PROGRESS_TOLERANCE_POINTS / 100
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
        spec = progress.IndicatorInput(
            kind=indicator.kind,
            comparator=indicator.comparator,
            target_plain=indicator.target_plain,
            weight=indicator.weight,
            value=None,
            planned=tuple((p.month, p.value) for p in indicator.planned_values.all()),
        )
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
