"""
The admin under the site's strict Content-Security-Policy (issue 7), in headless Chromium: a
lead-unit clerk and the coordinating office sign in through the login form and walk the pages
they use (changelists, change forms with inlines, the spreadsheet import from upload to
preview to confirmation, history, the reporting board, evaluation pages, the summary export).
Every page must load without one CSP violation (listened for from the first byte) and without
an error in the console: a blocked inline script or style would be both.

Shares the 2024 plan with demo progress, and Chromium, with tests/public/test_browser.py.
"""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from livelihood.data import import_templates
from livelihood.models import (
    EvaluationRound,
    Item,
    LeadUnit,
    MonthlyReport,
    Plan,
)
from livelihood.progress.selectors import month_end_moment
from tests.browser import Step, walk
from tests.public.test_browser import chromium, portal_data, transactional_db  # noqa: F401

pytestmark = pytest.mark.browser

PASSWORD = "浏览器测试口令-瑶海-2024"


@pytest.fixture(scope="module")
def accounts(portal_data, django_db_blocker):  # noqa: F811
    with django_db_blocker.unblock():
        for user in get_user_model().objects.filter(username__in=["demo-rsj", "demo-coordinator"]):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        plan = Plan.objects.get(year=2024)
        round_ = EvaluationRound.objects.filter(plan=plan).first()
        if round_ is None:
            june = datetime.date(2024, 6, 1)
            round_ = EvaluationRound.objects.create(
                plan=plan,
                kind="midyear",
                cutoff_month=june,
                cutoff_at=month_end_moment(datetime.date(2024, 7, 1)),
            )
        yield {"plan": plan, "round": round_}


def open_month(plan, unit):
    """An item of the unit and a month of the plan without an approved report: what an
    import may still write."""
    months = [datetime.date(plan.year, number, 1) for number in range(plan.issued_on.month, 13)]
    for item in Item.objects.filter(plan=plan, lead_unit=unit).order_by("code"):
        approved = set(item.reports.filter(state="approved").values_list("month", flat=True))
        for month in months:
            if month not in approved:
                return item, month
    # The demo approves every month of a past year: its last month of one item is removed,
    # as if the unit had not reported it yet.
    item = Item.objects.filter(plan=plan, lead_unit=unit).order_by("code").first()
    item.reports.filter(month=months[-1]).delete()
    return item, months[-1]


def filled_template(plan, unit, month, item):
    """The unit's template for the month, with a number in the item's 数值 cells."""
    data = import_templates.figure_template(plan=plan, month=month, unit=unit)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    header = next(row for row in sheet.iter_rows() if row[0].value == "事项编号")
    columns = {cell.value: cell.column for cell in header}
    for row in sheet.iter_rows(min_row=header[0].row + 1):
        if row[0].value == item.code:
            earlier = sheet.cell(row=row[0].row, column=columns["上期已审核数值"]).value
            value = earlier if isinstance(earlier, int | float) else 1
            sheet.cell(row=row[0].row, column=columns["数值（本月）"], value=value)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def upload(path, month_value, data):
    def action(page):
        page.set_input_files(
            "input[type=file]",
            files=[{"name": "填报.xlsx", "mimeType": imports_mime(), "buffer": data}],
        )
        month = page.query_selector("select[name=month]")
        if month is not None:
            page.select_option("select[name=month]", month_value)
        page.click("form.import-form [type=submit]")

    return action


def imports_mime():
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def confirm(page):
    button = page.query_selector("form.import-confirm button[name=confirm]")
    if button is None:
        raise AssertionError("no preview to confirm: " + page.inner_text("#content")[:800])
    button.click()


def report_in(unit, state=None):
    reports = MonthlyReport.objects.filter(item__lead_unit=unit)
    if state:
        reports = reports.filter(state=state)
    return reports.order_by("-month").first()


def assert_clean(results):
    problems = []
    for result in results:
        if result.status and result.status >= 400:
            problems.append(f"{result.label}: status {result.status} at {result.url}")
        for violation in result.csp_violations:
            problems.append(f"{result.label}: CSP {violation}")
        for error in result.console_errors:
            problems.append(f"{result.label}: console {error}")
    assert not problems, "\n".join(problems)


def test_clerk_walks_the_admin_without_csp_violations(live_server, chromium, accounts):  # noqa: F811
    unit = LeadUnit.objects.get(code="rsj")
    item = Item.objects.filter(lead_unit=unit, plan=accounts["plan"]).order_by("code").first()
    open_item, month = open_month(accounts["plan"], unit)
    report = report_in(unit)
    history = report.history.order_by("-history_id").first()
    template = filled_template(accounts["plan"], unit, month, open_item)
    steps = [
        Step("index", reverse("admin:index")),
        Step("items", reverse("admin:livelihood_item_changelist")),
        Step("item form with inlines", reverse("admin:livelihood_item_change", args=[item.pk])),
        Step("item history", reverse("admin:livelihood_item_history", args=[item.pk])),
        Step("report history", reverse("admin:livelihood_monthlyreport_history", args=[report.pk])),
        Step(
            "report history version",
            reverse(
                "admin:livelihood_monthlyreport_simple_history",
                args=[report.pk, history.history_id],
            ),
        ),
        Step("reports", reverse("admin:livelihood_monthlyreport_changelist")),
        Step(
            "report form",
            reverse("admin:livelihood_monthlyreport_change", args=[report.pk]),
        ),
        Step("board", reverse("admin:livelihood_monthlyreport_board")),
        Step("figures", reverse("admin:livelihood_figure_changelist")),
        Step("figure import", reverse("admin:livelihood_figure_import")),
        Step("import preview", action=upload(None, f"{month:%Y-%m}", template)),
        Step("import confirmed", action=confirm),
        Step("feedback", reverse("admin:livelihood_feedback_changelist")),
        Step("peer review", reverse("admin:livelihood_peerreview_rate")),
        # Enrolling a phone: the QR code is an <img> of a server-drawn SVG (issue 7).
        Step("two-factor enrolment", reverse("two-factor")),
    ]
    results = walk(chromium, live_server.url, "demo-rsj", PASSWORD, steps)
    print({r.label: (r.status, r.title) for r in results})
    assert_clean(results)


def test_coordinator_walks_the_admin_without_csp_violations(live_server, chromium, accounts):  # noqa: F811
    plan, round_ = accounts["plan"], accounts["round"]
    item = Item.objects.filter(plan=plan).order_by("code").first()
    report = (
        MonthlyReport.objects.filter(state="submitted").first() or MonthlyReport.objects.first()
    )
    steps = [
        Step("index", reverse("admin:index")),
        Step("plans", reverse("admin:livelihood_plan_changelist")),
        Step("plan form with domains", reverse("admin:livelihood_plan_change", args=[plan.pk])),
        Step("items", reverse("admin:livelihood_item_changelist")),
        Step("item add form", reverse("admin:livelihood_item_add")),
        Step("item form", reverse("admin:livelihood_item_change", args=[item.pk])),
        Step("item history", reverse("admin:livelihood_item_history", args=[item.pk])),
        Step("plan import", reverse("admin:livelihood_item_import")),
        Step("reports", reverse("admin:livelihood_monthlyreport_changelist")),
        Step("report form", reverse("admin:livelihood_monthlyreport_change", args=[report.pk])),
        Step("review queue", reverse("admin:livelihood_monthlyreport_review")),
        Step("board", reverse("admin:livelihood_monthlyreport_board")),
        Step("rounds", reverse("admin:livelihood_evaluationround_changelist")),
        Step("round add form", reverse("admin:livelihood_evaluationround_add")),
        Step("round form", reverse("admin:livelihood_evaluationround_change", args=[round_.pk])),
        Step(
            "round results", reverse("admin:livelihood_evaluationround_results", args=[round_.pk])
        ),
        Step("round scores", reverse("admin:livelihood_evaluationround_scores", args=[round_.pk])),
        Step("summary export", reverse("summary-export")),
        Step("feedback", reverse("admin:livelihood_feedback_changelist")),
        Step("lockouts", reverse("admin:axes_accessattempt_changelist")),
        Step("two-factor devices", reverse("admin:livelihood_twofactordevice_changelist")),
    ]
    results = walk(chromium, live_server.url, "demo-coordinator", PASSWORD, steps)
    print({r.label: (r.status, r.title) for r in results})
    assert_clean(results)


def test_the_walk_sees_an_inline_script_and_style(live_server, chromium, accounts, settings):  # noqa: F811
    """The listener works: a page with inline code is reported, twice."""
    settings.ROOT_URLCONF = "tests.urls_headers"
    steps = [Step("inline", "/__inline__/")]
    results = walk(chromium, live_server.url, "demo-rsj", PASSWORD, steps)
    violations = results[0].csp_violations
    assert any(v.startswith("script-src-elem") for v in violations), violations
    assert any(v.startswith("style-src-attr") for v in violations), violations
