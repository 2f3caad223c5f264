"""The monthly report form in the admin, as a clerk and the office use it: rows, units,
validation messages next to their fields, the buttons, the approval lock on every admin path,
two people on one report, and the approved figures on the public item page."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from livelihood.models import (
    Figure,
    Milestone,
    MonthlyReport,
)
from livelihood.reporting import services
from livelihood.reporting.forms import figure_rows
from tests.builders import login

pytestmark = pytest.mark.django_db

State = MonthlyReport.State
JUNE = datetime.date(2024, 6, 1)


@pytest.fixture
def jobs(item, make_indicator):
    """Target 1.15万人: figures may be typed in 万人 or in 人."""
    return make_indicator(item, "1.15", unit="万人", name="城镇新增就业人数")


@pytest.fixture
def office(make_staff):
    return make_staff("office", first_name="王芳")


@pytest.fixture
def draft(item, jobs, clerk):
    return services.report_open(item=item, month=JUNE, user=clerk)


def url(report):
    return reverse("admin:livelihood_monthlyreport_change", args=[report.pk])


def form_data(report, values=None, *, action="save", **fields):
    """The form as the page shows it, with `values` ({row index: (value, unit, note)})
    typed in and `fields` (narrative, delay_reason, …) set."""
    report.refresh_from_db()
    rows = figure_rows(report)
    data = {
        "version": report.version,
        "fig-TOTAL_FORMS": len(rows),
        "fig-INITIAL_FORMS": 0,
        "fig-MIN_NUM_FORMS": 0,
        "fig-MAX_NUM_FORMS": 1000,
        "narrative": "本月新增就业3600人。",
        "delay_reason": "",
        "delay_note": "",
        "confidence": "",
        "action": action,
    }
    for index, row in enumerate(rows):
        value, unit, note = (values or {}).get(index, (row["value"], row["input_unit"], ""))
        data.update(
            {
                f"fig-{index}-indicator": row["indicator"],
                f"fig-{index}-street": row["street"] or "",
                f"fig-{index}-value": value,
                f"fig-{index}-input_unit": unit,
                f"fig-{index}-note": note,
            }
        )
    data.update(fields)
    return data


def next_to(html: str, name: str, message: str) -> bool:
    """The message is shown in the same table row or form row as the field, before it."""
    at = html.index(f'name="{name}"')
    start = max(html.rfind("<tr", 0, at), html.rfind('<div class="form-row', 0, at))
    return message in html[start:at]


# ------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------
def test_form_has_a_row_per_indicator_and_street_and_a_unit_choice(
    item, jobs, make_indicator, draft, clerk, street
):
    jobs.has_street_breakdown = True
    jobs.save()
    make_indicator(item, "99", kind="rate", unit="%", name="参保率")
    make_indicator(item, None, kind="qualitative", comparator="", unit="", name="制度建设")
    html = login(clerk).get(url(draft)).content.decode()
    assert html.count('name="fig-') // 5 == 3  # 城镇新增就业人数 + 明光路街道, 参保率
    assert "城镇新增就业人数" in html and "明光路街道" in html and "参保率" in html
    assert "制度建设" not in html  # measured by milestones, not figures
    assert '<option value="written" selected>万人</option>' in html
    assert '<option value="plain">人</option>' in html
    assert "选“万人”时填 1.15 即 1.15万人（11500 人）" in html
    assert "js/report-draft.js" in html and 'data-draft-key="report-draft:' in html
    assert "<script>" not in html.split("</head>")[1] and " style=" not in html


@pytest.mark.parametrize(
    ("typed", "choice", "stored"),
    [("1.15", "written", 11500), ("11500", "plain", 11500), ("１，２００", "plain", 1200)],
)
def test_figures_are_stored_in_plain_units_by_the_rows_unit_choice(
    draft, jobs, clerk, typed, choice, stored
):
    response = login(clerk).post(url(draft), form_data(draft, {0: (typed, choice, "")}))
    assert response.status_code == 302
    assert response["Location"].endswith("?saved=1")
    assert Figure.objects.get(report=draft, indicator=jobs).value == stored


def test_a_clerk_enters_and_submits_a_month(draft, jobs, clerk):
    client = login(clerk)
    response = client.post(
        url(draft), form_data(draft, {0: ("0.36", "written", "")}, action="submit")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED and draft.submitted_by == clerk
    page = client.get(response["Location"]).content.decode()
    assert "已提交审核" in page and 'data-draft-saved="1"' in page
    assert 'name="action" value="save"' not in page  # read-only while under review


# ------------------------------------------------------------------------------
# Validation, in Chinese, next to the field
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({0: ("-1", "plain", "")}, "fig-0-value", "累计数不能为负数。"),
        ({0: ("abc", "plain", "")}, "fig-0-value", "请填写数字，例如 1.15 或 11500。"),
        ({0: ("1.123456789", "written", "")}, "fig-0-value", "小数位数过多"),
    ],
)
def test_figure_messages(draft, clerk, values, field, message):
    response = login(clerk).post(url(draft), form_data(draft, values))
    assert response.status_code == 200
    assert next_to(response.content.decode(), field, message)
    assert not Figure.objects.exists()


def test_rate_outside_0_to_100(item, make_indicator, clerk):
    rate = make_indicator(item, "99", kind="rate", unit="%")
    report = services.report_open(item=item, month=JUNE, user=clerk)
    response = login(clerk).post(url(report), form_data(report, {0: ("120", "plain", "")}))
    assert next_to(response.content.decode(), "fig-0-value", "比率应在 0 到 100 之间。")
    assert not Figure.objects.filter(indicator=rate).exists()


def test_lower_count_than_last_approved_needs_a_correction_note(item, jobs, clerk, report):
    report(item, "2024-05", {jobs: "3600"})
    june = services.report_open(item=item, month=JUNE, user=clerk)
    client = login(clerk)
    response = client.post(url(june), form_data(june, {0: ("3500", "plain", "")}))
    message = "本月累计数低于5月已审核的3600人；如属更正，请在此写明更正原因。"
    assert next_to(response.content.decode(), "fig-0-note", message)
    assert not Figure.objects.filter(report=june).exists()
    response = client.post(url(june), form_data(june, {0: ("3500", "plain", "5月重复统计100人")}))
    assert response.status_code == 302
    assert Figure.objects.get(report=june).value == 3500


def test_figure_for_another_items_indicator_is_refused(draft, clerk, make_item, make_indicator):
    foreign = make_indicator(make_item(), "10")
    data = form_data(draft, {0: ("5", "plain", "")})
    data["fig-0-indicator"] = foreign.pk
    response = login(clerk).post(url(draft), data)
    assert next_to(response.content.decode(), "fig-0-value", "该指标不属于本报告的事项。")
    assert not Figure.objects.exists()


def test_submit_behind_schedule_asks_for_reason_note_and_confidence(draft, clerk):
    # 1000 of 11500 by the end of June, with a third of the year expected: behind.
    data = form_data(draft, {0: ("1000", "plain", "")}, action="submit")
    html = login(clerk).post(url(draft), data).content.decode()
    assert next_to(
        html, "delay_reason", "按本月数据测算，该事项进度滞后于序时进度，请选择滞后原因。"
    )
    assert next_to(html, "delay_note", "进度滞后时，请说明具体原因和下一步措施。")
    assert next_to(html, "confidence", "进度滞后时，请选择按期完成的把握。")
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and not Figure.objects.exists()
    data.update(delay_reason="funds", delay_note="就业补贴资金7月到位。", confidence="2")
    assert login(clerk).post(url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.delay_reason) == (State.SUBMITTED, "funds")


def test_submit_without_narrative(draft, clerk):
    data = form_data(draft, {0: ("4000", "plain", "")}, action="submit", narrative="")
    html = login(clerk).post(url(draft), data).content.decode()
    assert next_to(html, "narrative", "提交前请填写本月进展情况。")


def test_milestone_done_after_the_month(draft, clerk, item, milestone):
    step = milestone(item, datetime.date(2024, 7, 10))
    data = form_data(draft, **{f"milestone_{step.pk}": "2024-07-02"})
    html = login(clerk).post(url(draft), data).content.decode()
    assert next_to(html, f"milestone_{step.pk}", "完成日期不能晚于2024年6月30日")
    data[f"milestone_{step.pk}"] = "2024-06-28"
    assert login(clerk).post(url(draft), data).status_code == 302
    step.refresh_from_db()
    assert (step.done_on, step.reported_in_id) == (datetime.date(2024, 6, 28), draft.pk)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2024-03", "计划于2024年4月24日印发，不能填报更早的月份。"),
        ("2099-01", "不能填报未来的月份。"),
    ],
)
def test_months_before_the_plan_or_in_the_future(item, clerk, month, message):
    response = login(clerk).post(
        reverse("admin:livelihood_monthlyreport_add"), {"item": item.pk, "month": month}
    )
    assert next_to(response.content.decode(), "month", message)
    assert not MonthlyReport.objects.exists()


def test_opening_a_month_creates_the_draft_and_opens_its_form(item, jobs, clerk):
    client = login(clerk)
    add = reverse("admin:livelihood_monthlyreport_add")
    page = client.get(f"{add}?item={item.pk}&month=2024-06").content.decode()
    assert f'<option value="{item.pk}" selected>' in page
    response = client.post(add, {"item": item.pk, "month": "2024-06"})
    report = MonthlyReport.objects.get(item=item, month=JUNE)
    assert response["Location"] == url(report)
    assert report.created_by == clerk


def test_a_clerk_cannot_open_another_units_item(item, make_item, other_unit, clerk):
    theirs = make_item(lead_unit=other_unit)
    response = login(clerk).post(
        reverse("admin:livelihood_monthlyreport_add"), {"item": theirs.pk, "month": "2024-06"}
    )
    assert next_to(response.content.decode(), "item", "请从列表中选择事项。")
    assert not MonthlyReport.objects.exists()


# ------------------------------------------------------------------------------
# The office's buttons
# ------------------------------------------------------------------------------
def submitted(draft, clerk):
    login(clerk).post(url(draft), form_data(draft, {0: ("4000", "plain", "")}, action="submit"))
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED
    return draft


def test_clerk_sees_no_review_buttons(draft, clerk):
    page = login(clerk).get(url(submitted(draft, clerk))).content.decode()
    assert "审核通过" not in page
    response = login(clerk).post(url(draft), {"action": "approve", "version": draft.version})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED


def test_office_returns_with_a_reason_and_approves(draft, clerk, office):
    submitted(draft, clerk)
    client = login(office)
    html = client.post(url(draft), {"action": "return", "version": draft.version}).content.decode()
    assert next_to(html, "reason", "请填写原因，填报单位会看到。")
    client.post(url(draft), {"action": "return", "version": draft.version, "reason": "请补充说明"})
    draft.refresh_from_db()
    assert (draft.state, draft.return_reason) == (State.RETURNED, "请补充说明")
    assert "原因：请补充说明" in login(clerk).get(url(draft)).content.decode()
    submitted(draft, clerk)
    response = client.post(url(draft), {"action": "approve", "version": draft.version})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.state, draft.reviewed_by) == (State.APPROVED, office)


def test_office_reopens_an_approved_report(draft, clerk, office):
    submitted(draft, clerk)
    client = login(office)
    client.post(url(draft), {"action": "approve", "version": draft.version})
    draft.refresh_from_db()
    client.post(url(draft), {"action": "reopen", "version": draft.version, "reason": "口径有误"})
    draft.refresh_from_db()
    assert (draft.state, draft.reopened_by) == (State.RETURNED, office)


# ------------------------------------------------------------------------------
# The approval lock, on every admin path
# ------------------------------------------------------------------------------
@pytest.fixture
def approved(draft, clerk, office, item, milestone):
    step = milestone(item, datetime.date(2024, 6, 5))
    data = form_data(draft, {0: ("4000", "plain", "")}, action="submit")
    data[f"milestone_{step.pk}"] = "2024-06-05"
    login(clerk).post(url(draft), data)
    draft.refresh_from_db()
    services.report_approve(report=draft, user=office)
    draft.refresh_from_db()
    return draft


def unchanged(report):
    report.refresh_from_db()
    assert report.state == State.APPROVED
    assert Figure.objects.get(report=report, street=None).value == 4000
    assert Milestone.objects.get(reported_in=report).done_on == datetime.date(2024, 6, 5)


@pytest.mark.parametrize("who", ["clerk", "office"])
def test_approved_report_form_is_read_only_and_refuses_a_post(approved, request, who):
    client = login(request.getfixturevalue(who))
    page = client.get(url(approved)).content.decode()
    assert "已锁定" in page and 'name="action" value="save"' not in page
    response = client.post(url(approved), form_data(approved, {0: ("9999", "plain", "")}))
    assert response.status_code == 302
    assert services.LOCKED_MESSAGE in client.get(response["Location"]).content.decode()
    unchanged(approved)


def test_approved_report_cannot_be_deleted_one_by_one_or_in_bulk(approved, make_staff):
    admin = make_staff("root")
    admin.is_superuser = True
    admin.save()
    client = login(admin)
    delete = reverse("admin:livelihood_monthlyreport_delete", args=[approved.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:livelihood_monthlyreport_changelist")
    client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [approved.pk], "post": "yes"},
    )
    unchanged(approved)


def test_approved_figures_and_milestones_cannot_be_changed_or_deleted(approved, office):
    client = login(office)
    figure = Figure.objects.get(report=approved)
    step = Milestone.objects.get(reported_in=approved)
    figure_url = reverse("admin:livelihood_figure_change", args=[figure.pk])
    response = client.post(figure_url, {"indicator": figure.indicator_id, "value": "1"})
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:livelihood_figure_delete", args=[figure.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    milestone_url = reverse("admin:livelihood_milestone_change", args=[step.pk])
    response = client.post(
        milestone_url, {"number": 1, "title": "改名", "planned_on": "2024-06-05"}
    )
    assert response.status_code == 403
    assert (
        client.post(
            reverse("admin:livelihood_milestone_delete", args=[step.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    unchanged(approved)


def test_approved_report_cannot_be_reverted_from_its_history(approved, office):
    client = login(office)
    first = MonthlyReport.history.filter(id=approved.pk).earliest("history_date")
    revert = reverse(
        "admin:livelihood_monthlyreport_simple_history", args=[approved.pk, first.history_id]
    )
    client.post(revert, {"narrative": "", "state": "draft"})
    unchanged(approved)


# ------------------------------------------------------------------------------
# Two people, one report
# ------------------------------------------------------------------------------
def test_second_of_two_forms_is_refused_and_names_the_first(draft, clerk, make_staff, unit):
    colleague = make_staff("colleague", unit, first_name="李强")
    first = form_data(draft, {0: ("3600", "plain", "")}, narrative="张敏填的")
    second = form_data(draft, {0: ("4800", "plain", "")}, narrative="李强填的")
    assert login(clerk).post(url(draft), first).status_code == 302
    response = login(colleague).post(url(draft), second)
    draft.refresh_from_db()
    when = services.moment_label(draft.updated_at)
    html = response.content.decode()
    assert f"张敏已于{when}保存了这份报告（第 2 版），您的修改没有保存" in html
    assert 'value="4800"' in html  # what the second person typed is still on the page
    assert (draft.narrative, draft.updated_by) == ("张敏填的", clerk)
    assert Figure.objects.get(report=draft).value == 3600


# ------------------------------------------------------------------------------
# Residents see approved figures, and the cached page changes with them
# ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_approval_puts_the_figures_on_the_public_page_and_renews_its_cache(
    make_item, make_indicator, make_staff, unit
):
    item = make_item(title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人")
    clerk, office = make_staff("clerk", unit), make_staff("office")
    report = services.report_open(item=item, month=JUNE, user=clerk)
    login(clerk).post(
        url(report), form_data(report, {0: ("0.3712", "written", "")}, action="submit")
    )
    resident = Client()
    public = item.get_absolute_url()
    before = resident.get(public)
    assert before.status_code == 200 and "0.3712万人" not in before.content.decode()
    assert resident.get(public)["X-Page-Cache"] == "hit"
    report.refresh_from_db()
    login(office).post(url(report), {"action": "approve", "version": report.version})
    after = resident.get(public)
    assert after["X-Page-Cache"] == "miss"
    assert "0.3712万人" in after.content.decode()
    assert Figure.objects.get(indicator=indicator).value == Decimal("3712")
