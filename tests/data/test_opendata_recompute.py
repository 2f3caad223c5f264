"""The datasets a resident needs to recompute every page (issue 14): monthly plans, milestones
with the report that recorded them, every submitted report's dates, and the corrections
history. Approved content only, no staff names, a fixed number of queries."""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from livelihood.models import PlannedValue
from livelihood.reporting import services
from livelihood.reporting.figures import FigureInput
from tests.data.downloads import body, rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(db):
    return User.objects.create_superuser("office-wang", first_name="王")


@pytest.fixture
def clerk(make_staff, unit):
    return make_staff("clerk-li", unit, first_name="李")


@pytest.fixture
def item(make_item, make_indicator):
    item = make_item("1-1", title="城镇新增就业")
    make_indicator(item, "100")
    return item


def submit_and_approve(report, clerk, office):
    services.report_submit(report=report, user=clerk)
    return services.report_approve(report=report, user=office)


def test_plans_publish_the_first_month_tolerance_and_due_day(client, plan, settings):
    settings.PROGRESS_TOLERANCE_POINTS = 8
    settings.REPORT_DUE_DAY = 6
    (record,) = rows(client, "plans")
    assert (record["first_month"], record["tolerance_points"], record["report_due_day"]) == (
        "2024-04",
        8,
        6,
    )


def test_monthly_plans_are_published_with_the_indicator_flag(client, item):
    indicator = item.indicators.get()
    PlannedValue.objects.create(indicator=indicator, month=datetime.date(2024, 6, 1), value=30)
    assert rows(client, "planned-values") == [
        {
            "plan_year": 2024,
            "item_code": "1-1",
            "indicator_number": 1,
            "month": "2024-06",
            "value": 30,
        }
    ]
    assert rows(client, "indicators")[0]["has_monthly_plan"] is True


def test_a_milestone_is_done_with_its_report_month_only_once_that_report_is_approved(
    client, make_item, report, milestone, clerk, office
):
    item = make_item("2-1")
    june = report(item, "2024-06", state="draft", narrative="完成节点")
    milestone(item, datetime.date(2024, 6, 30), done_in=june)
    (record,) = rows(client, "milestones")
    assert (record["done"], record["done_on"], record["reported_month"]) == (False, None, None)
    submit_and_approve(june, clerk, office)
    (record,) = rows(client, "milestones")
    assert record["done"] is True
    assert record["done_on"] == "2024-06-30"
    assert record["reported_month"] == "2024-06"
    assert record["approved_on"] == f"{datetime.date.today():%Y-%m-%d}"


def test_reports_publish_dates_and_approved_content_only(client, item, report, clerk, office):
    indicator = item.indicators.get()
    may = report(item, "2024-05", {indicator: "30"}, state="draft", narrative="五月进展")
    submit_and_approve(may, clerk, office)
    june = report(
        item,
        "2024-06",
        {indicator: "40"},
        state="draft",
        narrative="尚未审核的说明",
        delay_reason="funds",
        delay_note="未审核的滞后说明",
    )
    services.report_submit(report=june, user=clerk)
    report(item, "2024-07", state="draft", narrative="草稿")  # never submitted: not a row
    by_month = {r["month"]: r for r in rows(client, "reports")}
    assert set(by_month) == {"2024-05", "2024-06"}
    assert by_month["2024-05"]["state"] == "approved"
    assert by_month["2024-05"]["narrative"] == "五月进展"
    assert by_month["2024-05"]["due_on"] == "2024-06-05"
    assert by_month["2024-05"]["counts_as_reported"] is True
    pending = by_month["2024-06"]
    assert (pending["state"], pending["counts_as_reported"]) == ("submitted", True)
    assert pending["narrative"] == pending["delay_note"] == pending["delay_reason"] == ""
    assert pending["approved_on"] is None
    assert pending["submitted_on"] == f"{datetime.date.today():%Y-%m-%d}"
    assert pending["on_time"] is False  # submitted in 2026 for a June 2024 report
    text = body(client.get("/2024/data/reports.csv")).decode("utf-8-sig")
    for secret in ("尚未审核的说明", "未审核的滞后说明", "王", "李", "clerk-li", "office-wang"):
        assert secret not in text


def test_a_correction_is_published_once_the_reopened_report_is_approved_again(
    client, item, report, clerk, office
):
    indicator = item.indicators.get()
    june = report(item, "2024-06", {indicator: "40"}, state="draft", narrative="六月")
    submit_and_approve(june, clerk, office)
    assert rows(client, "corrections") == []
    services.report_reopen(report=june, user=office, reason="数值填报有误")
    june.refresh_from_db()
    services.report_save(
        report=june,
        user=clerk,
        figures=[FigureInput(indicator.pk, None, Decimal("35"), note="按台账核减重复人员")],
    )
    assert rows(client, "corrections") == []  # not public until approved again
    submit_and_approve(june, clerk, office)
    (record,) = rows(client, "corrections")
    today = f"{datetime.date.today():%Y-%m-%d}"
    assert record["item_code"] == "1-1"
    assert record["month"] == "2024-06"
    assert (record["value_before"], record["value_after"]) == (40, 35)
    assert record["published_before_on"] == record["corrected_on"] == today
    assert "数值填报有误" in record["reason"]
    assert "按台账核减重复人员" in record["reason"]
    api = json.loads(client.get("/api/v1/plans/2024/corrections").content)["data"]
    assert api == [record]


def test_corrections_take_the_same_queries_for_one_and_for_several(
    client, make_item, make_indicator, report, clerk, office
):
    def correct(code):
        item = make_item(code)
        indicator = make_indicator(item, "100")
        month = report(item, "2024-06", {indicator: "40"}, state="draft", narrative="六月")
        submit_and_approve(month, clerk, office)
        services.report_reopen(report=month, user=office, reason="更正")
        month.refresh_from_db()
        services.report_save(
            report=month,
            user=clerk,
            figures=[FigureInput(indicator.pk, None, Decimal("45"))],
        )
        submit_and_approve(month, clerk, office)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/2024/data/corrections.json").status_code == 200
        return len(captured)

    correct("1-1")
    one = queries()
    for code in ("1-2", "1-3", "1-4"):
        correct(code)
    assert queries() == one
    assert len(rows(client, "corrections")) == 4


def test_the_data_page_and_the_api_description_publish_the_method(client, plan):
    page = client.get("/data/").content.decode()
    description = json.loads(client.get("/api/v1/openapi.json").content)
    about = client.get("/about/").content.decode()
    rule = "按工作节点的计划完成日期：计划在数据截至月份月底前完成的节点数 ÷ 计划节点数。"
    assert rule in page
    assert rule in about
    assert rule in description["info"]["description"]
    for field in ("tolerance_points", "report_due_day", "reported_month", "counts_as_reported"):
        assert f"<code>{field}</code>" in page
    for dataset in ("planned-values", "milestones", "reports", "corrections"):
        assert f"/plans/{{year}}/{dataset}" in description["paths"]
        assert f"/2024/data/{dataset}.csv" in page
