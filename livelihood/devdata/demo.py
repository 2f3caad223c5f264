"""
Demo progress for a first look at the portal: believable approved monthly reports for every
item of the 2024 plan, milestones for the items measured by milestones, and three demo staff
accounts.

Everything created here is marked as demo (MonthlyReport.is_demo, Milestone.is_demo,
StaffProfile.is_demo), so that every public page can say 演示数据 and `demo_remove()` can take
it all away again. Rows that are not demo are never changed: a month a lead unit has really
reported is skipped.

The outcome is set by a small table of per-item profiles (devdata/demo_profiles.py): most
items keep to schedule, a few fall behind with a coded reason, one over-completes, one misses
its last report. Figures are shaped against the expected progress (序时进度) that
progress/arithmetic.py computes, with the tolerance from settings (devdata/demo_progress.py),
so that the statuses the portal shows are the ones the profiles describe (for the default
--through, December). This module holds the entry points and the demo accounts.
"""

import datetime
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from livelihood.accounts.models import StaffProfile
from livelihood.accounts.roles import (
    COORDINATOR_GROUP,
    roles_ensure,
)
from livelihood.devdata.demo_profiles import YEAR
from livelihood.devdata.demo_progress import DemoBuilder
from livelihood.plan.models import Indicator, Item, LeadUnit, Milestone, Plan
from livelihood.reporting.models import Figure, MonthlyReport
from livelihood.snapshots import build as snapshots

DEFAULT_SEED = 2024

# (username, lead unit code or None for the coordinating office)
ACCOUNTS = (("demo-coordinator", None), ("demo-rsj", "rsj"), ("demo-cl", "cl"))

State = MonthlyReport.State


class DemoError(Exception):
    """The demo cannot be loaded or removed; the message says why, in Chinese."""


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
    builder = DemoBuilder(plan=plan, through=through, rng=random.Random(seed), users=users)
    builder.build()
    # The builder writes in bulk (no signals): the stored progress snapshot, written here.
    snapshots.write(plan)

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
    snapshots.write_pending()
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
