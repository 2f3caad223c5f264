"""The corrections dataset (issue 14): each change to a published figure, once the reopened
report is approved again — what it was, what it became, when each was published and why —
read from the reports' and figures' history; nothing while the correction is not approved;
no staff name; the same queries whatever the number of corrections."""

import contextlib
import datetime
import json
import zoneinfo
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from livelihood.models import (
    Figure,
    MonthlyReport,
    Street,
)
from livelihood.reporting import services
from livelihood.reporting.figures import FigureInput
from tests.data.downloads import body, rows

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
JUNE = datetime.date(2024, 6, 1)


@contextlib.contextmanager
def at(month, day, hour=10):
    """Everything written inside happens at that moment (Beijing time), history rows too."""
    moment = datetime.datetime(2024, month, day, hour, tzinfo=BEIJING)
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def corrections(client, fmt="json"):
    return rows(client, "corrections", fmt)


@pytest.fixture
def world(make_item, make_indicator, street):
    item = make_item("1-1", title="城镇新增就业")
    return {
        "item": item,
        "jobs": make_indicator(item, "100", name="新增就业", has_street_breakdown=True),
        "trained": make_indicator(item, "50", name="培训人数"),
        "firms": make_indicator(item, "10", unit="家", name="帮扶企业"),
        "street": street,
    }


def approve(report, clerk, office, *, submitted, approved):
    with at(*submitted):
        services.report_submit(report=report, user=clerk)
    with at(*approved):
        services.report_approve(report=report, user=office)


def reopen(report, office, when, reason):
    with at(*when):
        services.report_reopen(report=report, user=office, reason=reason)
    report.refresh_from_db()


def save(report, user, when, *rows):
    with at(*when):
        services.report_save(report=report, user=user, figures=list(rows))
    report.refresh_from_db()


def shown(rows):
    return [
        (
            r["indicator_name"],
            r["street_code"],
            r["change"],
            r["value_before"],
            r["value_after"],
            r["published_before_on"],
            r["corrected_on"],
            r["reason"],
        )
        for r in rows
    ]


def test_each_changed_figure_once_the_correction_is_approved(client, world, clerk, office):
    jobs, trained, firms, street = world["jobs"], world["trained"], world["firms"], world["street"]
    with at(7, 2):
        june = services.report_open(item=world["item"], month=JUNE, user=clerk)
        services.report_save(
            report=june,
            user=clerk,
            narrative="六月进展",
            figures=[
                FigureInput(jobs.pk, None, Decimal("40")),
                FigureInput(jobs.pk, street.pk, Decimal("15")),
                FigureInput(trained.pk, None, Decimal("20"), note="含线上培训"),
            ],
        )
    approve(june, clerk, office, submitted=(7, 3), approved=(7, 4))
    assert corrections(client) == []

    reopen(june, office, (7, 20), "街道数据口径有误")
    save(
        june,
        clerk,
        (7, 21),
        FigureInput(jobs.pk, None, Decimal("40")),  # unchanged: not a correction
        FigureInput(jobs.pk, street.pk, Decimal("12"), note="按台账核减重复人员"),
        FigureInput(trained.pk, None, None),  # removed
        FigureInput(firms.pk, None, Decimal("5")),  # added
    )
    assert corrections(client) == []  # being corrected: nothing residents can see yet
    with at(7, 22):
        services.report_submit(report=june, user=clerk)
    assert corrections(client) == []  # submitted again, not approved yet
    with at(7, 23, hour=20):
        services.report_approve(report=june, user=office)

    rows = corrections(client)
    reason = "街道数据口径有误"
    street_reason = f"{reason}；按台账核减重复人员"  # with the unit's note on the figure
    assert shown(rows) == [  # by indicator, the district total before the streets
        ("新增就业", street.code, "changed", 15, 12, "2024-07-04", "2024-07-23", street_reason),
        ("培训人数", "", "removed", 20, None, "2024-07-04", "2024-07-23", reason),
        ("帮扶企业", "", "added", None, 5, "2024-07-04", "2024-07-23", reason),
    ]
    assert rows[0]["street_name"] == "明光路街道" and rows[0]["plain_unit"] == "人"
    assert rows[2]["plain_unit"] == "家"
    assert {(r["item_code"], r["item_title"], r["month"], r["is_demo"]) for r in rows} == {
        ("1-1", "城镇新增就业", "2024-06", False)
    }

    # A second correction of the same report: the values it replaces were published on the
    # day the first one was; the first correction stays as it was.
    reopen(june, office, (8, 1), "全区合计有误")
    save(
        june,
        clerk,
        (8, 1, 11),
        FigureInput(jobs.pk, None, Decimal("38"), note="剔除重复登记"),
        FigureInput(jobs.pk, street.pk, Decimal("12"), note="按台账核减重复人员"),
        FigureInput(firms.pk, None, Decimal("5")),
    )
    approve(june, clerk, office, submitted=(8, 2), approved=(8, 3))
    rows = corrections(client, "csv")
    assert len(rows) == 4
    assert (
        rows[3]["指标"],
        rows[3]["更正类型代码"],
        rows[3]["更正前数值（基本单位）"],
        rows[3]["更正后数值（基本单位）"],
        rows[3]["原数值公开日期"],
        rows[3]["更正公开日期"],
        rows[3]["更正原因"],
    ) == (
        "新增就业",
        "changed",
        "40",
        "38",
        "2024-07-23",
        "2024-08-03",
        "全区合计有误；剔除重复登记",
    )

    # What the figures dataset holds now is each correction's value after.
    figures = json.loads(body(client.get("/2024/data/figures.json")))["data"]
    assert [
        (f["indicator_name"], f["street_code"], f["value"], f["approved_on"]) for f in figures
    ] == [
        ("新增就业", "", 38, "2024-08-03"),
        ("新增就业", street.code, 12, "2024-08-03"),
        ("帮扶企业", "", 5, "2024-08-03"),
    ]
    text = body(client.get("/2024/data/corrections.csv")).decode("utf-8-sig")
    for name in ("张敏", "王芳", "clerk-zhang", "office-wang"):
        assert name not in text


def test_a_figure_written_without_history_is_still_a_correction(
    client, make_item, make_indicator, office
):
    """Demo and scale data are written with bulk_create, without history rows: a correction
    of one still says when and why, and leaves the value before empty rather than guess."""
    item = make_item("1-1")
    jobs = make_indicator(item, "100")
    june = MonthlyReport.objects.create(
        item=item,
        month=JUNE,
        state="approved",
        narrative="六月进展",
        is_demo=True,
        submitted_at=datetime.datetime(2024, 7, 3, 9, tzinfo=BEIJING),
        reviewed_at=datetime.datetime(2024, 7, 4, 9, tzinfo=BEIJING),
    )
    Figure.objects.bulk_create([Figure(report=june, indicator=jobs, value=Decimal("40"))])
    assert not Figure.history.exists()
    reopen(june, office, (7, 20), "口径有误")
    save(june, office, (7, 21), FigureInput(jobs.pk, None, Decimal("35")))
    approve(june, office, office, submitted=(7, 22), approved=(7, 23))
    (row,) = corrections(client)
    assert (row["change"], row["value_before"], row["value_after"]) == ("changed", None, 35)
    assert (row["published_before_on"], row["corrected_on"]) == ("2024-07-04", "2024-07-23")
    assert row["reason"] == "口径有误" and row["is_demo"] is True


def test_a_reopened_report_approved_again_unchanged_corrects_nothing(
    client, make_item, make_indicator, clerk, office
):
    item = make_item("1-1")
    jobs = make_indicator(item, "100")
    with at(7, 2):
        june = services.report_open(item=item, month=JUNE, user=clerk)
        services.report_save(
            report=june,
            user=clerk,
            narrative="六月",
            figures=[FigureInput(jobs.pk, None, Decimal("40"))],
        )
    approve(june, clerk, office, submitted=(7, 3), approved=(7, 4))
    reopen(june, office, (7, 20), "核对")
    save(june, clerk, (7, 21), FigureInput(jobs.pk, None, Decimal("41")))
    save(june, clerk, (7, 21, 11), FigureInput(jobs.pk, None, Decimal("40")))  # and back
    approve(june, clerk, office, submitted=(7, 22), approved=(7, 23))
    assert corrections(client) == []


def test_corrections_cost_the_same_queries_with_none_one_or_many(
    client, make_item, make_indicator, clerk, office
):
    def correct(code, day):
        item = make_item(code)
        indicators = [make_indicator(item, "100") for _ in range(2)]
        with at(7, 1):
            report = services.report_open(item=item, month=JUNE, user=clerk)
            services.report_save(
                report=report,
                user=clerk,
                narrative="六月",
                figures=[FigureInput(i.pk, None, Decimal("40")) for i in indicators],
            )
        approve(report, clerk, office, submitted=(7, 2), approved=(7, 3))
        reopen(report, office, (7, day), "更正")
        save(
            report,
            clerk,
            (7, day, 11),
            *(FigureInput(i.pk, None, Decimal("45")) for i in indicators),
        )
        approve(report, clerk, office, submitted=(7, day, 12), approved=(7, day, 13))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/2024/data/corrections.json").status_code == 200
        return len(captured)

    Street.objects.create(code="other", name="其他街道", kind="town")
    none = queries()
    correct("1-1", 10)
    one = queries()
    for day, code in enumerate(("1-2", "1-3", "1-4", "1-5"), start=11):
        correct(code, day)
    assert queries() == one == none
    assert len(corrections(client)) == 10
