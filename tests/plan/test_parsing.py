"""The figure and month parser (livelihood/plan/parsing.py): what people type, read strictly."""

import datetime
from decimal import Decimal

import pytest
from openpyxl.worksheet.formula import ArrayFormula

from livelihood.plan.parsing import (
    ParseError,
    parse_decimal,
    parse_figure,
    parse_month,
)


@pytest.mark.parametrize(
    ("typed", "unit", "expected"),
    [
        ("11500", "万人", "11500"),
        ("1.15万", "万人", "11500"),
        ("1.15万人", "万人", "11500"),
        ("11500人", "万人", "11500"),
        ("１１５００", "万人", "11500"),  # full-width digits
        ("１．１５万", "万人", "11500"),  # full-width point
        ("11,500", "万人", "11500"),
        ("１１，５００", "万人", "11500"),  # full-width comma
        ("1,234,567.5", "人", "1234567.5"),
        ("  2300 ", "人", "2300"),
        ("2300\u3000", "人", "2300"),  # an ideographic space
        (11500, "万人", "11500"),  # a numeric cell
        (11500.0, "万人", "11500"),
        (0.1, "个", "0.1"),
        (Decimal("7"), "个", "7"),
        ("0", "个", "0"),
        ("+12", "个", "12"),
        ("3亿", "元", "300000000"),
    ],
)
def test_counts_in_every_form_people_type(typed, unit, expected):
    assert parse_figure(typed, kind="count", unit=unit) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "percent_cell", "expected"),
    [
        ("98%", False, "98"),
        ("98", False, "98"),
        ("0.98", False, "98"),
        ("９８％", False, "98"),
        (98, False, "98"),
        (0.98, False, "98"),
        (0.98, True, "98"),  # a cell formatted as a percentage holds the fraction
        (1, True, "100"),
        ("100%", False, "100"),
        ("0%", False, "0"),
        ("0", False, "0"),
        ("1%", False, "1"),
        ("99.5", False, "99.5"),
    ],
)
def test_rates_as_percent_whole_number_or_fraction(typed, percent_cell, expected):
    assert parse_figure(typed, kind="rate", percent_cell=percent_cell) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "kind", "message"),
    [
        ("=SUM(A1:A3)", "count", "公式"),
        ("=5", "count", "公式"),
        ("@A1", "count", "公式"),
        (ArrayFormula("B2", "=SUM(A1:A3)"), "count", "公式"),
        ("-5", "count", "不能为负数"),
        (-5, "count", "不能为负数"),
        ("-0.5万", "count", "不能为负数"),
        ("101%", "rate", "0 到 100"),
        ("150", "rate", "0 到 100"),
        ("-1%", "rate", "0 到 100"),
        ("1", "rate", "1% 还是 100%"),
        ("约2300", "count", "不是数值"),
        ("2300元", "count", "不是数值"),  # not the indicator's unit
        ("1,23", "count", "不是数值"),  # not a thousands separator
        ("12.3.4", "count", "不是数值"),
        ("", "count", "为空"),
        ("  ", "count", "为空"),
        (True, "count", "应填写数值"),
        (None, "count", "应填写数值"),
        ("98%", "count", "不是数值"),
    ],
)
def test_what_is_refused_and_why(typed, kind, message):
    with pytest.raises(ParseError, match=message):
        parse_figure(typed, kind=kind, unit="人")


def test_decimal_keeps_what_was_typed():
    assert parse_decimal("0.10") == Decimal("0.10")
    assert parse_decimal(0.1) == Decimal("0.1")


@pytest.mark.parametrize(
    "typed",
    [
        "2024-06",
        "2024-6",
        "2024/6",
        "2024.06",
        "202406",
        "2024年6月",
        "2024年06月",
        "2024 年 6 月",
        "２０２４年６月",
        "2024年6月份",
        "2024-06-15",
        datetime.date(2024, 6, 15),
        datetime.datetime(2024, 6, 30, 12, 0),
        45444,  # Excel's serial day number for 2024-06-01
        45473.0,  # 2024-06-30
    ],
)
def test_months_in_every_form(typed):
    assert parse_month(typed) == datetime.date(2024, 6, 1)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2024年13月", "1 到 12"),
        ("2024-00", "1 到 12"),
        ("六月", "不是月份"),
        ("06/2024", "不是月份"),
        ("", "为空"),
        (None, "为空"),
        (12, "不是月份"),
        (45444.5, "不是月份"),
    ],
)
def test_months_refused(typed, message):
    with pytest.raises(ParseError, match=message):
        parse_month(typed)
