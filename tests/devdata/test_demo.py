"""
`load_demo` fills the real 2024 plan with believable, approved, demo-marked progress whose
outcome the portal shows as promised (most items on schedule, a few 滞后 with reasons, one
超额完成, one 逾期未报); `remove_demo` takes all of it away again.

Statuses are read through `Item.objects.with_progress()` / `item.snapshot`, the path the
pages take. Today is after 2024, so every 2024 month is past its due date.
"""

import datetime
import io
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from simple_history.models import HistoricalChanges

from livelihood.devdata import demo
from livelihood.models import (
    Figure,
    Indicator,
    Item,
    Milestone,
    MonthlyReport,
    Plan,
    StaffProfile,
    Street,
)
from livelihood.progress.arithmetic import Status
from livelihood.snapshots import verify
from livelihood.snapshots.models import ItemSnapshot

FIXTURE = Path(django_settings.BASE_DIR) / "fixtures" / "plan_2024.json"
DECEMBER = datetime.date(2024, 12, 1)
NOVEMBER = datetime.date(2024, 11, 1)
MONTHS = [datetime.date(2024, month, 1) for month in range(4, 13)]
DEMO_USERNAMES = {"demo-coordinator", "demo-rsj", "demo-cl"}
PASSWORD_LINE = re.compile(r"账号 (\S+)\s+密码 (\S+)")


@pytest.fixture(autouse=True)
def development(settings):
    """The test runner turns DEBUG off; the demo is for development, where it is on. A fast
    password hasher: the demo hashes three passwords on every load."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def plan_2024(db):
    if not FIXTURE.is_file():
        pytest.skip("fixtures/plan_2024.json 不存在：演示数据只针对真实的2024年计划生成。")
    call_command("loaddata", str(FIXTURE), verbosity=0)
    return Plan.objects.get(year=2024)


def run(name, *args) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_output(plan_2024):
    return run("load_demo")


def snapshots(plan, **kwargs) -> dict[str, Item]:
    return {item.code: item for item in Item.objects.filter(plan=plan).with_progress(**kwargs)}


def data_models():
    """The app's data; history rows are left out: they record the demo's coming and going
    and, like every history row, are never deleted. So is the stored progress snapshot,
    rewritten from the rest on every change (its rows and times are new; what it says is
    checked by verify_snapshots in the tests that remove the demo)."""
    models = apps.get_app_config("livelihood").get_models()
    return [
        model
        for model in models
        if not issubclass(model, HistoricalChanges)
        and model._meta.model_name not in ("itemsnapshot", "rollupsnapshot", "snapshotbuild")
    ]


def row_counts() -> dict[str, int]:
    models = [*data_models(), get_user_model()]
    return {model._meta.label: model._default_manager.count() for model in models}


def database_dump() -> str:
    rows = []
    for model in data_models():
        rows.extend(model._default_manager.order_by("pk"))
    return serializers.serialize("json", rows)


def demo_state() -> tuple:
    """What a seed decides: every demo figure, report text and timestamp, and milestone."""
    figures = sorted(
        Figure.objects.filter(report__is_demo=True).values_list(
            "report__item__code", "indicator__number", "street__code", "report__month", "value"
        ),
        key=str,
    )
    reports = sorted(
        MonthlyReport.objects.filter(is_demo=True).values_list(
            "item__code",
            "month",
            "state",
            "narrative",
            "delay_reason",
            "delay_note",
            "confidence",
            "created_at",
            "submitted_at",
            "reviewed_at",
        ),
        key=str,
    )
    milestones = sorted(
        Milestone.objects.filter(is_demo=True).values_list(
            "item__code", "number", "title", "planned_on", "done_on", "reported_in__month"
        ),
        key=str,
    )
    return figures, reports, milestones


# ------------------------------------------------------------------------------
# The outcome
# ------------------------------------------------------------------------------
def test_only_the_overdue_items_december_draft_is_not_approved(demo_output, plan_2024):
    items = snapshots(plan_2024)
    overdue = [item for item in items.values() if item.snapshot.overdue]
    assert len(overdue) == 1
    late = overdue[0]

    unapproved = MonthlyReport.objects.exclude(state=MonthlyReport.State.APPROVED)
    assert list(unapproved.values_list("item__code", "month", "state")) == [
        (late.code, DECEMBER, MonthlyReport.State.DRAFT)
    ]
    # The public state comes from November: the draft's figures do not count.
    assert late._last_approved == NOVEMBER
    draft = unapproved.get()
    for figure in draft.figures.filter(street__isnull=True):
        november = Figure.objects.get(
            report__item=late,
            report__month=NOVEMBER,
            indicator=figure.indicator,
            street__isnull=True,
        )
        assert figure.indicator.latest_value == november.value != figure.value
    # Every other item has an approved December report.
    assert MonthlyReport.objects.filter(month=DECEMBER, state="approved").count() == len(items) - 1


def test_december_statuses_are_as_promised(demo_output, plan_2024):
    items = snapshots(plan_2024)
    statuses = {code: item.snapshot.status for code, item in items.items()}
    behind = [code for code, status in statuses.items() if status == Status.BEHIND]
    exceeded = [code for code, status in statuses.items() if status == Status.EXCEEDED]
    on_schedule = [
        code for code, status in statuses.items() if status in (Status.DONE, Status.ON_TRACK)
    ]
    assert 3 <= len(behind) <= 4
    assert exceeded == ["10-3"]
    assert items["10-3"].snapshot.progress_uncapped >= Decimal("1.2")  # clearly over
    assert len(on_schedule) == len(items) - len(behind) - 1
    assert Status.NOT_STARTED not in statuses.values()
    assert [code for code, item in items.items() if item.snapshot.overdue] == ["3-6"]
    # The overdue item's November figures still keep pace: late, not behind.
    assert statuses["3-6"] in (Status.DONE, Status.ON_TRACK)
    # The command's summary says the same.
    assert f"滞后 {len(behind)} 项" in demo_output
    assert "超额完成 1 项" in demo_output
    assert "逾期未报：3-6" in demo_output


def test_behind_items_explain_the_delay_from_the_month_they_fall_behind(demo_output, plan_2024):
    behind_months = defaultdict(list)
    for month in MONTHS:
        for code, item in snapshots(plan_2024, as_of=month).items():
            if item.snapshot.status == Status.BEHIND:
                behind_months[code].append(month)
    december = {c for c, months in behind_months.items() if DECEMBER in months}
    assert len(december) >= 3

    reasons = set(MonthlyReport.DelayReason.values)
    confidences = set(MonthlyReport.Confidence.values)
    for code, months in behind_months.items():
        # Once behind, an item stays behind to the year's end.
        assert months == MONTHS[MONTHS.index(months[0]) :], code
        for report in MonthlyReport.objects.filter(item__code=code, month__in=months):
            assert report.delay_reason in reasons, report
            assert len(report.delay_note) >= 10, report
            assert report.confidence in confidences, report
    explained = set(
        MonthlyReport.objects.exclude(delay_reason="").values_list("item__code", flat=True)
    )
    assert explained == december


def test_figures_are_cumulative_counts_and_moving_rates(demo_output, plan_2024):
    series = defaultdict(list)
    figures = (
        Figure.objects.filter(report__state="approved")
        .select_related("indicator", "report")
        .order_by("report__month")
    )
    for figure in figures:
        series[figure.indicator, figure.street_id].append(figure.value)
    measured = Indicator.objects.filter(item__plan=plan_2024, kind__in=["count", "rate"])
    assert {indicator for indicator, _ in series} == set(measured)
    for (indicator, street), values in series.items():
        if indicator.kind == "count":
            assert values == sorted(values), (indicator, street)
            assert all(v == v.to_integral_value() for v in values), indicator
        else:
            assert all(Decimal(0) <= v <= Decimal(100) for v in values), indicator
            assert all(v == v.quantize(Decimal("0.1")) for v in values), indicator
            assert values[-1] > values[0], f"{indicator} 比率没有变化"


def test_street_figures_add_up_to_the_district_total(demo_output, plan_2024):
    streets = Street.objects.count()
    totals = {
        (f.report_id, f.indicator_id): f.value for f in Figure.objects.filter(street__isnull=True)
    }
    sums = defaultdict(Decimal)
    rows = defaultdict(int)
    for figure in Figure.objects.filter(street__isnull=False):
        sums[figure.report_id, figure.indicator_id] += figure.value
        rows[figure.report_id, figure.indicator_id] += 1
    assert sums, "没有分街镇数值"
    for key, total in sums.items():
        assert total == totals[key]
        assert rows[key] == streets
    broken_down = set(Indicator.objects.filter(has_street_breakdown=True))
    assert broken_down == set(Indicator.objects.filter(figures__street__isnull=False).distinct())
    assert len(broken_down) >= 2


def test_items_without_numbers_progress_by_demo_milestones(demo_output, plan_2024):
    items = snapshots(plan_2024)
    for code, item in items.items():
        if any(indicator.measured for indicator in item.indicators.all()):
            assert not item.milestones.all(), code
            continue
        milestones = list(item.milestones.all())
        assert 3 <= len(milestones) <= 4, code
        assert all(m.is_demo for m in milestones)
        for milestone in milestones:
            if milestone.done_on is None:
                continue
            report = milestone.reported_in
            assert report.item_id == item.pk
            assert report.state == "approved"
            assert report.month == milestone.done_on.replace(day=1)
        if item.snapshot.status != Status.BEHIND:
            assert all(m.done_on for m in milestones), code
    assert {code for code in ("1-2", "2-1", "6-1", "10-2")} <= set(items)
    assert Milestone.objects.filter(item__code="1-2").count() >= 3


def test_everything_created_is_marked_demo(demo_output, plan_2024):
    assert not MonthlyReport.objects.filter(is_demo=False).exists()
    assert not Milestone.objects.filter(is_demo=False).exists()
    assert not StaffProfile.objects.filter(is_demo=False).exists()
    users = get_user_model().objects.all()
    assert {u.username for u in users} == DEMO_USERNAMES
    assert all(u.is_staff and not u.is_superuser for u in users)

    coordinator = users.get(username="demo-coordinator")
    assert coordinator.staff_profile.lead_unit is None
    assert list(coordinator.groups.values_list("name", flat=True)) == ["区民生办"]
    assert coordinator.has_perm("livelihood.delete_monthlyreport")
    staff = users.get(username="demo-rsj")
    assert staff.staff_profile.lead_unit.code == "rsj"
    assert list(staff.groups.values_list("name", flat=True)) == ["牵头单位填报员"]
    assert staff.has_perm("livelihood.change_figure")
    assert staff.has_perm("livelihood.view_plan")
    assert not staff.has_perm("livelihood.change_item")
    assert not staff.has_perm("livelihood.delete_monthlyreport")
    assert Group.objects.filter(name__in=["区民生办", "牵头单位填报员"]).count() == 2

    tz = timezone.get_default_timezone()
    for report in MonthlyReport.objects.filter(state="approved").select_related("item"):
        next_month = (report.month + datetime.timedelta(days=31)).replace(day=1)
        assert timezone.is_aware(report.submitted_at)
        assert report.submitted_at.astimezone(tz).date().replace(day=1) == next_month
        assert report.created_at < report.submitted_at < report.reviewed_at
        assert report.reviewed_by == coordinator
        assert report.narrative
        if report.item.lead_unit.code == "rsj":
            assert report.created_by == report.submitted_by == staff


# ------------------------------------------------------------------------------
# Running it again, removing it, refusing
# ------------------------------------------------------------------------------
def test_passwords_are_shown_once_and_can_be_reset(demo_output, plan_2024):
    shown = dict(PASSWORD_LINE.findall(demo_output))
    assert set(shown) == DEMO_USERNAMES
    User = get_user_model()
    for username, password in shown.items():
        assert User.objects.get(username=username).check_password(password)

    again = run("load_demo")
    assert "已存在" in again and "--reset-passwords" in again
    assert all(name in again for name in DEMO_USERNAMES)
    assert not any(password in again for password in shown.values())

    reset = dict(PASSWORD_LINE.findall(run("load_demo", "--reset-passwords")))
    assert set(reset) == DEMO_USERNAMES
    for username, password in reset.items():
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert not user.check_password(shown[username])


def test_running_twice_changes_nothing(demo_output, plan_2024):
    before = (row_counts(), database_dump())
    run("load_demo")
    run("load_demo", "--seed", "99", "--through", "2024-06")
    assert (row_counts(), database_dump()) == before


def test_remove_demo_restores_the_plan_as_loaded(plan_2024):
    before = (row_counts(), database_dump())
    run("load_demo")
    assert row_counts() != before[0]

    output = run("remove_demo")
    assert "月度报告 270 份" in output
    assert (row_counts(), database_dump()) == before
    # The stored progress is the plan's as loaded again: nothing approved, not a figure left.
    assert verify.differences(plan_2024) == []
    assert not ItemSnapshot.objects.filter(plan=plan_2024).exclude(status="not_started").exists()
    assert not get_user_model().objects.filter(username__in=DEMO_USERNAMES).exists()
    assert not Indicator.objects.filter(has_street_breakdown=True).exists()
    assert "没有演示数据" in run("remove_demo")
    # Loading again after removing works.
    assert "已生成演示数据" in run("load_demo")


def test_real_reports_are_never_touched(plan_2024):
    item = Item.objects.get(code="1-1")
    indicator = item.indicators.get()
    real = MonthlyReport.objects.create(
        item=item, month=datetime.date(2024, 5, 1), state="approved", narrative="正式报告"
    )
    Figure.objects.create(report=real, indicator=indicator, value=Decimal(1000))
    draft = MonthlyReport.objects.create(item=Item.objects.get(code="9-2"), month=DECEMBER)
    before = serializers.serialize("json", [real, draft, *real.figures.all()])

    output = run("load_demo")
    assert "2 个月份未生成演示报告" in output
    assert MonthlyReport.objects.filter(item=item, month=real.month).get() == real
    assert (
        serializers.serialize(
            "json", [*MonthlyReport.objects.filter(pk__in=[real.pk, draft.pk]), *real.figures.all()]
        )
        == before
    )

    run("remove_demo")
    assert set(MonthlyReport.objects.all()) == {real, draft}
    assert real.figures.get().value == Decimal(1000)


def test_refuses_with_debug_off_unless_forced(settings, plan_2024):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run("load_demo")
    assert not MonthlyReport.objects.exists()
    assert "已生成演示数据" in run("load_demo", "--force")


def test_refuses_without_the_2024_plan(db):
    with pytest.raises(CommandError, match="load_plan 2024"):
        run("load_demo")
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("month", ["2024-03", "2025-01", "2024-13"])
def test_refuses_a_month_outside_the_plan(plan_2024, month):
    with pytest.raises(CommandError):
        run("load_demo", "--through", month)
    assert not MonthlyReport.objects.exists()


def test_same_seed_gives_the_same_demo(plan_2024):
    run("load_demo", "--seed", "11")
    first = demo_state()
    run("remove_demo")
    run("load_demo", "--seed", "11")
    assert demo_state() == first
    run("remove_demo")
    run("load_demo", "--seed", "12")
    assert demo_state()[0] != first[0]


def test_through_an_earlier_month_leaves_the_next_month_awaiting_review(plan_2024):
    output = run("load_demo", "--through", "2024-08")
    august, september = datetime.date(2024, 8, 1), datetime.date(2024, 9, 1)
    assert "截至2024年8月" in output
    assert not MonthlyReport.objects.filter(month__gt=september).exists()
    pending = MonthlyReport.objects.get(state="submitted")
    assert pending.month == september
    assert pending.submitted_at and pending.reviewed_at is None
    assert MonthlyReport.objects.get(state="draft").month == august
    # Only approved data is public: the submitted September figure is not the latest value.
    figure = pending.figures.filter(street__isnull=True).first()
    august_figure = Figure.objects.get(
        report__item=pending.item,
        report__month=august,
        indicator=figure.indicator,
        street__isnull=True,
    )
    assert figure.indicator.latest_value == august_figure.value < figure.value
    items = snapshots(plan_2024)
    assert {item._as_of for item in items.values()} == {august}
    assert sum(item.snapshot.status == Status.BEHIND for item in items.values()) >= 3


def test_demo_functions_refuse_removal_that_would_orphan_a_real_milestone(plan_2024):
    run("load_demo")
    report = MonthlyReport.objects.filter(item__code="1-1", state="approved").first()
    Milestone.objects.create(
        item=report.item,
        number=9,
        title="正式节点",
        planned_on=report.month,
        done_on=report.month,
        reported_in=report,
    )
    with pytest.raises(demo.DemoError, match="正式节点"):
        demo.demo_remove()
    assert MonthlyReport.objects.filter(is_demo=True).exists()
