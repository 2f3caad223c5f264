"""The monthly reports dataset (issue 14): every report submitted at least once, in a public
state a resident can act on (approved, submitted, returned, reopened for a correction), with
its due, submission, approval and reopening dates; what it says only while it is approved; no
staff name and no return reason, in the downloads and the API alike."""

import datetime
import json

import pytest

from livelihood.models import MonthlyReport
from livelihood.reporting import services
from tests.data.downloads import body

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
SECRETS = (
    "五月草稿说明",
    "退回前的说明",
    "请补充街道数据",  # a return reason
    "口径有误需更正",  # the reason the office gave for reopening
    "重新打开前的说明",  # approved once, withdrawn since
    "张敏",
    "王芳",
    "clerk-zhang",
    "office-wang",
)


def records(client, fmt="json"):
    response = client.get(f"/2024/data/reports.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        return json.loads(body(response))["data"]
    return body(response).decode("utf-8-sig")


@pytest.fixture
def milestones_only(make_item, milestone):
    """An item the source gives no indicator for: its reports carry no figure, only a
    narrative and milestones."""
    item = make_item("5-1", title="老旧小区改造")
    milestone(item, datetime.date(2024, 12, 15), title="完成改造")
    return item


def month(number):
    return datetime.date(2024, number, 1)


def write(item, number, user, narrative, **fields):
    report = services.report_open(item=item, month=month(number), user=user)
    return services.report_save(report=report, user=user, narrative=narrative, **fields)


def test_each_public_state_with_its_dates_and_approved_content_only(
    client, milestones_only, clerk, office
):
    item = milestones_only
    may = write(item, 5, clerk, "五月进展：完成方案编制。")
    services.report_submit(report=may, user=clerk)
    services.report_approve(report=may, user=office)

    june = write(item, 6, clerk, "退回前的说明")
    services.report_submit(report=june, user=clerk)
    services.report_return(report=june, user=office, reason="请补充街道数据")

    july = write(item, 7, clerk, "重新打开前的说明")
    services.report_submit(report=july, user=clerk)
    services.report_approve(report=july, user=office)
    services.report_reopen(report=july, user=office, reason="口径有误需更正")

    write(item, 8, clerk, "五月草稿说明")  # a draft, never submitted: not a row

    by_month = {r["month"]: r for r in records(client)}
    assert list(by_month) == ["2024-05", "2024-06", "2024-07"]
    assert [(r["state"], r["state_label"], r["counts_as_reported"]) for r in by_month.values()] == [
        ("approved", "已审核公开", True),
        ("returned", "已退回修改", False),
        ("reopened", "重新打开更正中", False),
    ]
    approved, returned, reopened = by_month.values()
    assert approved["narrative"] == "五月进展：完成方案编制。"  # a milestone-only item's approval
    assert approved["approved_on"] == approved["submitted_on"] == f"{TODAY}"
    assert approved["due_on"] == "2024-06-05" and approved["on_time"] is False
    assert approved["reopened_on"] is None
    for record in (returned, reopened):
        assert record["narrative"] == record["delay_note"] == record["delay_reason"] == ""
        assert record["approved_on"] is None and record["confidence"] is None
        assert record["submitted_on"] == f"{TODAY}"
    assert reopened["reopened_on"] == f"{TODAY}" and returned["reopened_on"] is None
    for fmt in ("json", "csv"):
        text = (
            records(client, fmt)
            if fmt == "csv"
            else json.dumps(records(client), ensure_ascii=False)
        )
        for secret in SECRETS:
            assert secret not in text, (fmt, secret)

    # Submitted again after the correction: reported, pending the office's review.
    services.report_submit(report=july, user=clerk)
    (record,) = [r for r in records(client) if r["month"] == "2024-07"]
    assert (record["state"], record["counts_as_reported"], record["narrative"]) == (
        "submitted",
        True,
        "",
    )
    assert record["reopened_on"] == f"{TODAY}"


def test_an_approved_reports_delay_reason_and_confidence_are_published_with_labels(
    client, make_item, report
):
    item = make_item("1-1")
    report(
        item,
        "2024-06",
        narrative="资金尚未拨付。",
        delay_reason="funds",
        delay_note="已协调财政部门，预计7月到位。",
        confidence=2,
        submitted_at=datetime.datetime(2024, 7, 5, 15, 30, tzinfo=datetime.UTC),  # 23:30 in Hefei
        reviewed_at=datetime.datetime(2024, 7, 5, 16, 30, tzinfo=datetime.UTC),  # 00:30, the 6th
    )
    (record,) = records(client)
    assert record["delay_reason"] == "funds" and record["delay_reason_label"] == "资金未到位"
    assert record["delay_note"] == "已协调财政部门，预计7月到位。"
    assert record["confidence"] == 2 and record["confidence_label"] == "基本有把握"
    # Dates are Beijing dates: submitted on the due day itself, approved the day after.
    assert record["submitted_on"] == "2024-07-05" and record["on_time"] is True
    assert record["approved_on"] == "2024-07-06"


def test_a_report_the_overdue_rule_counts_is_a_row_whatever_its_dates(client, make_item, report):
    """The 逾期未报 rule counts a submitted or approved report; a resident must find every one
    of them, even one recorded without a submission date."""
    item = make_item("1-1")
    report(item, "2024-05", state="submitted")
    report(item, "2024-06")
    report(item, "2024-07", state="draft")
    rows = records(client)
    assert [(r["month"], r["state"], r["submitted_on"], r["on_time"]) for r in rows] == [
        ("2024-05", "submitted", None, False),
        ("2024-06", "approved", None, False),
    ]
    assert MonthlyReport.objects.count() == 3
