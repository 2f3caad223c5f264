"""The one progress arithmetic: pure functions first, then as the pages see it through the ORM."""

import datetime
from decimal import Decimal

import pytest

from livelihood.progress import arithmetic as progress
from livelihood.progress.arithmetic import Status
from tests.builders import fetch

D = Decimal
APRIL = datetime.date(2024, 4, 1)


# ------------------------------------------------------------------------------
# Indicator progress, one row per kind × comparator
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "comparator", "target", "value", "done", "total", "expected"),
    [
        # count, ≥: achieved ÷ target, uncapped
        ("count", "gte", "100", "50", 0, 0, D("0.5")),
        ("count", "gte", "100", "120", 0, 0, D("1.2")),
        # count, =
        ("count", "eq", "100", "100", 0, 0, D("1")),
        # count, ≈: complete at the target, never over
        ("count", "approx", "6900", "3450", 0, 0, D("0.5")),
        ("count", "approx", "6900", "7500", 0, 0, D("1")),
        # count, ≤: met while at or under the target
        ("count", "lte", "100", "80", 0, 0, D("1")),
        ("count", "lte", "100", "100", 0, 0, D("1")),
        ("count", "lte", "100", "101", 0, 0, D("0")),
        # rate, ≥ (参保率稳定在99%以上)
        ("rate", "gte", "99", "99", 0, 0, D("1")),
        ("rate", "gte", "98", "49", 0, 0, D("0.5")),
        # rate, = (公办园在园幼儿占比达65%)
        ("rate", "eq", "65", "52", 0, 0, D("0.8")),
        # rate, ≈
        ("rate", "approx", "22", "11", 0, 0, D("0.5")),
        ("rate", "approx", "22", "30", 0, 0, D("1")),
        # rate, ≤
        ("rate", "lte", "5", "4.9", 0, 0, D("1")),
        ("rate", "lte", "5", "5.1", 0, 0, D("0")),
        # standard and qualitative: done milestones ÷ planned milestones
        ("standard", "eq", "1500", None, 1, 4, D("0.25")),
        ("qualitative", "", None, None, 3, 3, D("1")),
        ("qualitative", "", None, None, 0, 0, None),
        # nothing approved yet: nothing achieved
        ("count", "gte", "100", None, 0, 0, D("0")),
        ("rate", "gte", "99", None, 0, 0, D("0")),
    ],
)
def test_indicator_progress_table(kind, comparator, target, value, done, total, expected):
    result = progress.indicator_progress(
        kind=kind,
        comparator=comparator,
        target_plain=None if target is None else D(target),
        value=None if value is None else D(value),
        milestones_done=done,
        milestones_total=total,
    )
    assert result == expected


def test_rate_over_target_is_shown_uncapped():
    result = progress.indicator_progress(
        kind="rate", comparator="gte", target_plain=D("98"), value=D("98.98")
    )
    assert progress.format_percent(result) == "101%"


def test_wan_target_met_by_plain_figure_is_exactly_one_hundred_percent():
    target_plain = D("1.15") * progress.unit_scale("万人")
    result = progress.indicator_progress(
        kind="count", comparator="gte", target_plain=target_plain, value=D("11500")
    )
    assert result == D(1)
    assert progress.format_percent(result) == "100%"


@pytest.mark.parametrize(
    ("unit", "scale", "plain"),
    [
        ("万人", 10000, "人"),
        ("万个", 10000, "个"),
        ("人（次）", 1, "人（次）"),
        ("%", 1, "%"),
        ("万", 1, "万"),
    ],
)
def test_unit_scale_reads_the_wan_prefix(unit, scale, plain):
    assert progress.unit_scale(unit) == scale
    assert progress.plain_unit(unit) == plain


@pytest.mark.parametrize(
    ("comparator", "target", "unit", "shown"),
    [
        ("gte", "1.1500", "万人", "≥1.15万人"),
        ("gte", "0.2586", "万个", "≥0.2586万个"),
        ("gte", "99", "%", "≥99%"),
        ("approx", "0.69", "万人", "约0.69万人"),
        ("eq", "65.0000", "%", "65%"),
        ("lte", "5", "%", "≤5%"),
    ],
)
def test_target_is_shown_as_written(comparator, target, unit, shown):
    assert progress.format_target(comparator, D(target), unit) == shown


def test_figure_in_plain_units_is_shown_in_the_unit_as_written():
    assert progress.format_value(D("11500.0000"), "万人") == "1.15万人"
    assert progress.format_value(D("612"), "名") == "612名"


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("count", "-1", "累计数不能为负数。"),
        ("rate", "100.5", "比率应在 0 到 100 之间。"),
        ("rate", "-0.1", "比率应在 0 到 100 之间。"),
        ("count", "0", None),
        ("rate", "100", None),
    ],
)
def test_value_error_names_what_may_never_be_stored(kind, value, error):
    assert progress.value_error(kind, D(value)) == error


# ------------------------------------------------------------------------------
# Expected progress (序时进度)
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("month", "expected"),
    [
        ((2024, 3), D(0)),
        ((2024, 4), D(1) / 9),
        ((2024, 6), D(3) / 9),
        ((2024, 12), D(1)),
        ((2025, 2), D(1)),
    ],
)
def test_linear_expected_runs_from_issue_month_to_december(month, expected):
    assert progress.linear_expected(datetime.date(*month, 1), APRIL) == expected


def test_monthly_plan_overrides_the_linear_schedule():
    planned = [(datetime.date(2024, 6, 1), D("50")), (datetime.date(2024, 9, 1), D("90"))]
    assert progress.planned_expected(datetime.date(2024, 5, 1), planned, D("100")) == 0
    assert progress.planned_expected(datetime.date(2024, 7, 1), planned, D("100")) == D("0.5")
    assert progress.planned_expected(datetime.date(2024, 12, 1), planned, D("100")) == D("0.9")


def test_milestone_schedule_counts_milestones_planned_by_month_end():
    dates = [datetime.date(2024, 5, 31), datetime.date(2024, 6, 30), datetime.date(2024, 11, 1)]
    assert progress.milestone_expected(datetime.date(2024, 6, 1), dates) == D(2) / 3


# ------------------------------------------------------------------------------
# Roll-up and status
# ------------------------------------------------------------------------------
def test_weights_are_normalised_by_their_total():
    # Decidim's accountability module would report 3 × 1 + 1 × 0 = 300%.
    assert progress.weighted_mean([(D(1), D(3)), (D(0), D(1))]) == D("0.75")


def test_over_completion_is_capped_when_rolled_up():
    assert progress.weighted_mean([(D("1.2"), D(1)), (D("0.5"), D(1))]) == D("0.75")
    assert progress.weighted_mean([(D("1.2"), D(1)), (D("0.5"), D(1))], cap=False) == D("0.85")


def test_unmeasurable_parts_are_left_out_of_the_mean():
    assert progress.weighted_mean([(None, D(5)), (D("0.4"), D(1))]) == D("0.4")
    assert progress.weighted_mean([(None, D(1))]) is None


@pytest.mark.parametrize(
    ("progress_value", "uncapped", "expected", "approved", "status"),
    [
        (D("0.5"), D("0.5"), D("0.5"), False, Status.NOT_STARTED),
        (D("0.5"), D("0.5"), D("0.5"), True, Status.ON_TRACK),
        (D("0.41"), D("0.41"), D("0.5"), True, Status.ON_TRACK),  # within 10 points
        (D("0.39"), D("0.39"), D("0.5"), True, Status.BEHIND),
        (D("1"), D("1"), D("1"), True, Status.DONE),
        (D("1"), D("1.1"), D("1"), True, Status.EXCEEDED),
        (None, None, None, True, Status.ON_TRACK),
    ],
)
def test_status_is_computed(progress_value, uncapped, expected, approved, status):
    assert (
        progress.status(
            progress=progress_value,
            progress_uncapped=uncapped,
            expected=expected,
            has_approved=approved,
            tolerance=D("0.1"),
        )
        is status
    )


def test_due_date_is_the_configured_day_of_the_next_month():
    assert progress.due_date(datetime.date(2024, 12, 1), 5) == datetime.date(2025, 1, 5)


def test_overdue_only_after_the_due_day():
    june = datetime.date(2024, 6, 1)
    on_due_day = progress.due_months(
        APRIL, datetime.date(2024, 12, 1), datetime.date(2024, 7, 5), 5
    )
    after = progress.due_months(APRIL, datetime.date(2024, 12, 1), datetime.date(2024, 7, 6), 5)
    assert june not in on_due_day
    assert june in after
    # April and May reported: two of the due months.
    assert progress.overdue(on_due_day, 2) is False
    assert progress.overdue(after, 2) is True


# ------------------------------------------------------------------------------
# Through the ORM, as pages, admin and exports see it
# ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_wan_target_and_plain_figure_round_trip_the_database(make_item, make_indicator, report):
    item = make_item()
    indicator = make_indicator(item, "1.15", unit="万人")
    report(item, "2024-06", {indicator: "11500"})
    item = fetch(item)
    assert item.indicators.get().scale == 10000
    assert item.progress == D(1)
    assert item.snapshot.progress_display == "100%"


@pytest.mark.django_db
def test_item_without_approved_report_has_not_started(make_item, make_indicator, report):
    item = make_item()
    indicator = make_indicator(item, "100")
    report(item, "2024-06", {indicator: "90"}, state="draft")
    report(item, "2024-07", {indicator: "95"}, state="returned")
    report(item, "2024-08", {indicator: "99"}, state="submitted")
    item = fetch(item)
    assert item.status is Status.NOT_STARTED
    assert item.progress == 0


@pytest.mark.django_db
def test_drafts_after_an_approved_report_do_not_change_the_figure(
    make_item, make_indicator, report
):
    item = make_item()
    indicator = make_indicator(item, "100")
    report(item, "2024-06", {indicator: "40"})
    report(item, "2024-07", {indicator: "100"}, state="draft")
    item = fetch(item)
    assert item.indicators.get().latest_value == D(40)
    assert item.progress == D("0.4")


@pytest.mark.django_db
def test_item_rolls_up_indicators_with_normalised_weights(make_item, make_indicator, report):
    item = make_item()
    first = make_indicator(item, "100", weight=D(3))
    second = make_indicator(item, "100", weight=D(1))
    report(item, "2024-12", {first: "150", second: "0"})
    item = fetch(item)
    assert item.progress == D("0.75")  # 150% counts as 100% in the roll-up
    assert item.snapshot.progress_uncapped == D("1.125")


@pytest.mark.django_db
def test_over_complete_item_is_exceeded(make_item, make_indicator, report):
    item = make_item()
    indicator = make_indicator(item, "200", unit="批次")
    report(item, "2024-12", {indicator: "260"})
    item = fetch(item)
    assert item.status is Status.EXCEEDED
    assert item.snapshot.indicators[0].progress == D("1.3")
    assert item.snapshot.progress_display == "130%"  # the item shows it; roll-ups cap it
    assert progress.rollup([(item.snapshot, D(1))]).progress_display == "100%"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("month", "value", "status"),
    [
        ("2024-04", "11", Status.ON_TRACK),
        ("2024-06", "34", Status.ON_TRACK),
        ("2024-06", "20", Status.BEHIND),
        ("2024-12", "95", Status.ON_TRACK),
        ("2024-12", "80", Status.BEHIND),
    ],
)
def test_expected_progress_in_april_june_and_december(
    make_item, make_indicator, report, month, value, status
):
    item = make_item()
    indicator = make_indicator(item, "100")
    report(item, month, {indicator: value})
    item = fetch(item)
    months = int(month.split("-")[1]) - 3
    assert item.expected == D(months) / 9
    assert item.status is status


@pytest.mark.django_db
def test_monthly_plan_sets_the_expected_progress(make_item, make_indicator, report):
    item = make_item()
    indicator = make_indicator(item, "100")
    indicator.planned_values.create(month=datetime.date(2024, 6, 1), value=D("80"))
    report(item, "2024-06", {indicator: "50"})
    item = fetch(item)
    assert item.expected == D("0.8")
    assert item.status is Status.BEHIND


@pytest.mark.django_db
def test_qualitative_item_progress_counts_approved_milestones(make_item, report, milestone):
    item = make_item()
    june = report(item, "2024-06")
    draft = report(item, "2024-07", state="draft")
    milestone(item, datetime.date(2024, 5, 31), done_in=june)
    milestone(item, datetime.date(2024, 7, 31), done_in=draft)  # not approved: not done
    milestone(item, datetime.date(2024, 10, 31))
    milestone(item, datetime.date(2024, 12, 31))
    item = fetch(item)
    assert item.progress == D("0.25")
    assert [m.is_done for m in item.milestones.all()] == [True, False, False, False]


@pytest.mark.django_db
def test_as_of_a_month_ignores_later_approved_figures(make_item, make_indicator, report):
    item = make_item()
    indicator = make_indicator(item, "100")
    report(item, "2024-06", {indicator: "30"})
    report(item, "2024-09", {indicator: "70"})
    assert fetch(item, as_of=datetime.date(2024, 7, 1)).progress == D("0.3")
    assert fetch(item).progress == D("0.7")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "overdue"),
    [(datetime.date(2024, 6, 5), False), (datetime.date(2024, 6, 6), True)],
)
def test_overdue_flag_before_and_after_the_due_day(make_item, report, today, overdue, settings):
    settings.REPORT_DUE_DAY = 5
    item = make_item()
    report(item, "2024-04")  # May's report, due 5 June, is missing
    assert fetch(item, today=today).overdue is overdue


@pytest.mark.django_db
def test_submitted_report_is_not_overdue_but_a_returned_one_is(make_item, report):
    item = make_item()
    report(item, "2024-04", state="submitted")
    assert fetch(item, today=datetime.date(2024, 5, 20)).overdue is False
    item.reports.update(state="returned", return_reason="数值有误")
    assert fetch(item, today=datetime.date(2024, 5, 20)).overdue is True


@pytest.mark.django_db
def test_domain_rollup_is_the_weighted_mean_of_items(make_item, make_indicator, report):
    heavy = make_item(weight=D(2))
    light = make_item(weight=D(1))
    report(heavy, "2024-06", {make_indicator(heavy, "100"): "50"})
    report(light, "2024-06", {make_indicator(light, "100"): "300"})
    items = list(type(heavy).objects.with_progress())
    rolled = progress.rollup((i.snapshot, i.weight) for i in items)
    assert rolled.progress == (D("0.5") * 2 + D(1)) / 3
    assert rolled.counts == {Status.ON_TRACK: 1, Status.EXCEEDED: 1}


@pytest.mark.django_db
def test_a_report_from_before_the_plan_does_not_hide_a_missing_month(make_item, report):
    item = make_item()
    report(item, "2024-03")  # before the plan was issued: not one of its months
    report(item, "2024-04")
    assert fetch(item, today=datetime.date(2024, 6, 6)).overdue is True  # May is missing
