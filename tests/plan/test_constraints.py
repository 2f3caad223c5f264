"""What must never be stored is refused by the database itself, on SQLite and on PostgreSQL,
whatever path the write takes (no full_clean here: these writes skip model validation)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from livelihood.models import (
    Figure,
    Indicator,
    Milestone,
    MonthlyReport,
)

pytestmark = pytest.mark.django_db


def refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def count_indicator(make_item, make_indicator):
    return make_indicator(make_item(), "856", unit="名")


@pytest.fixture
def rate_indicator(make_item, make_indicator):
    return make_indicator(make_item(), "99", kind="rate", unit="%")


def test_negative_count_is_refused(count_indicator, report):
    created = report(count_indicator.item, "2024-06")
    refused(lambda: Figure.objects.create(report=created, indicator=count_indicator, value=-1))


def test_count_cannot_be_updated_to_negative(count_indicator, report):
    created = report(count_indicator.item, "2024-06", {count_indicator: "10"})
    refused(lambda: Figure.objects.filter(report=created).update(value=Decimal("-5")))
    assert Figure.objects.get(report=created).value == 10


@pytest.mark.parametrize("value", ["100.01", "-0.5"])
def test_rate_outside_0_to_100_is_refused(rate_indicator, report, value):
    created = report(rate_indicator.item, "2024-06")
    refused(
        lambda: Figure.objects.create(
            report=created, indicator=rate_indicator, value=Decimal(value)
        )
    )


def test_rate_of_100_and_0_are_stored(rate_indicator, report):
    created = report(rate_indicator.item, "2024-06", {rate_indicator: "100"})
    Figure.objects.filter(report=created).update(value=Decimal("0"))
    assert Figure.objects.get(report=created).value == 0


def test_two_reports_for_one_item_and_month_are_refused(make_item, report):
    item = make_item()
    report(item, "2024-06", state="draft")
    refused(lambda: report(item, "2024-06", state="draft"))


def test_figure_for_an_indicator_of_another_item_is_refused(count_indicator, make_item, report):
    other_report = report(make_item(), "2024-06")
    refused(lambda: Figure.objects.create(report=other_report, indicator=count_indicator, value=1))


def test_figure_cannot_be_moved_to_another_items_report(count_indicator, make_item, report):
    report(count_indicator.item, "2024-06", {count_indicator: "5"})
    other_report = report(make_item(), "2024-06")
    refused(lambda: Figure.objects.update(report=other_report))


def test_indicator_with_figures_cannot_move_to_another_item(count_indicator, make_item, report):
    report(count_indicator.item, "2024-06", {count_indicator: "5"})
    other = make_item()
    refused(lambda: Indicator.objects.filter(pk=count_indicator.pk).update(item=other))


def test_count_with_large_figures_cannot_become_a_rate(count_indicator, report):
    report(count_indicator.item, "2024-06", {count_indicator: "500"})
    refused(lambda: Indicator.objects.filter(pk=count_indicator.pk).update(kind="rate", target=99))


def test_report_with_figures_cannot_move_to_another_item(count_indicator, make_item, report):
    created = report(count_indicator.item, "2024-06", {count_indicator: "5"})
    other = make_item()
    refused(lambda: MonthlyReport.objects.filter(pk=created.pk).update(item=other))


def test_second_district_total_for_one_indicator_is_refused(count_indicator, report):
    created = report(count_indicator.item, "2024-06", {count_indicator: "5"})
    refused(lambda: Figure.objects.create(report=created, indicator=count_indicator, value=6))


def test_one_figure_per_street_and_indicator(count_indicator, report, street):
    created = report(count_indicator.item, "2024-06", streets={(count_indicator, street): "3"})
    refused(
        lambda: Figure.objects.create(
            report=created, indicator=count_indicator, street=street, value=4
        )
    )


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"kind": "rate", "target": Decimal("101"), "unit": "%"}, "rate target over 100"),
        ({"kind": "count", "target": Decimal("-1")}, "negative target"),
        ({"kind": "count", "target": None}, "count without target"),
        ({"kind": "count", "comparator": ""}, "count without comparator"),
        ({"kind": "grade"}, "unknown kind"),
        ({"weight": Decimal("0")}, "zero weight"),
    ],
)
def test_impossible_indicators_are_refused(make_item, fields, constraint):
    item = make_item()
    values = {
        "item": item,
        "name": constraint,
        "kind": "count",
        "comparator": "gte",
        "target": Decimal("10"),
        "unit": "人",
    } | fields
    refused(lambda: Indicator.objects.create(**values))


@pytest.mark.parametrize(
    "fields",
    [
        {"state": "published"},
        {"confidence": 4},
        {"state": "returned", "return_reason": ""},
        {"version": 0},
    ],
)
def test_impossible_reports_are_refused(make_item, fields):
    item = make_item()
    values = {"item": item, "month": datetime.date(2024, 6, 1)} | fields
    refused(lambda: MonthlyReport.objects.create(**values))


def test_milestone_done_without_a_report_is_refused(make_item):
    item = make_item()
    refused(
        lambda: Milestone.objects.create(
            item=item,
            title="完成招标",
            planned_on=datetime.date(2024, 6, 30),
            done_on=datetime.date(2024, 6, 20),
        )
    )


def test_full_clean_explains_a_figure_of_another_item_in_chinese(
    count_indicator, make_item, report
):
    other_report = report(make_item(), "2024-06")
    figure = Figure(report=other_report, indicator=count_indicator, value=Decimal(1))
    with pytest.raises(ValidationError) as error:
        figure.full_clean()
    assert error.value.message_dict["indicator"] == ["该指标不属于本报告的事项。"]


def test_full_clean_refuses_a_future_month(make_item):
    report = MonthlyReport(item=make_item(), month=datetime.date(2999, 1, 1))
    with pytest.raises(ValidationError) as error:
        report.full_clean()
    assert "month" in error.value.message_dict


def test_report_that_declared_a_milestone_done_cannot_be_deleted(make_item, report, milestone):
    from django.db.models import ProtectedError

    item = make_item()
    june = report(item, "2024-06")
    milestone(item, datetime.date(2024, 6, 30), done_in=june)
    with pytest.raises(ProtectedError), transaction.atomic():
        june.delete()
    assert Milestone.objects.get().reported_in == june
