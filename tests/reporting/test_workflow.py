"""The monthly report's transitions (livelihood/reporting/services.py): who may perform each, the
approval lock on the current database row, the version check and the history they leave."""

import datetime
from decimal import Decimal

import pytest

from livelihood.models import (
    Figure,
    MonthlyReport,
    PublicationVersion,
)
from livelihood.reporting import services
from livelihood.reporting.figures import FigureInput
from livelihood.reporting.services import TransitionError

pytestmark = pytest.mark.django_db

State = MonthlyReport.State
JUNE = datetime.date(2024, 6, 1)


@pytest.fixture
def indicator(item, make_indicator):
    return make_indicator(item, "100", unit="人")


@pytest.fixture
def colleague(make_staff, unit):
    return make_staff("colleague", unit, first_name="李强")


@pytest.fixture
def stranger(make_staff, other_unit):
    return make_staff("stranger", other_unit)


@pytest.fixture
def draft(item, clerk):
    return services.report_open(item=item, month=JUNE, user=clerk)


def fill(report, user, indicator, value="40", **fields):
    fields.setdefault("narrative", "本月新增就业40人。")
    return services.report_save(
        report=report,
        user=user,
        figures=[FigureInput(indicator.pk, None, Decimal(value))],
        **fields,
    )


def submitted(report, clerk, indicator):
    fill(report, clerk, indicator)
    return services.report_submit(report=report, user=clerk)


def version():
    row = PublicationVersion.objects.filter(pk=1).first()
    return row.counter if row else 0


# ------------------------------------------------------------------------------
# Opening and editing
# ------------------------------------------------------------------------------
def test_clerk_opens_a_draft_for_their_units_item(draft, clerk):
    assert draft.state == State.DRAFT
    assert draft.created_by == clerk
    assert draft.updated_by == clerk


def test_opening_an_existing_month_returns_the_same_report(draft, item, clerk):
    assert services.report_open(item=item, month=datetime.date(2024, 6, 15), user=clerk) == draft


def test_clerk_of_another_unit_cannot_open_or_edit(draft, item, indicator, stranger):
    with pytest.raises(TransitionError, match="只能填报本单位牵头的事项"):
        services.report_open(item=item, month=datetime.date(2024, 7, 1), user=stranger)
    with pytest.raises(TransitionError, match="只能填报本单位牵头的事项"):
        fill(draft, stranger, indicator)
    with pytest.raises(TransitionError, match="只能填报本单位牵头的事项"):
        services.report_submit(report=draft, user=stranger)


@pytest.mark.parametrize("month", [datetime.date(2024, 3, 1), datetime.date(2099, 1, 1)])
def test_months_before_the_plan_or_in_the_future_are_refused(item, clerk, month):
    with pytest.raises(services.ValidationError):
        services.report_open(item=item, month=month, user=clerk)


def test_save_stores_figures_narrative_and_delay(draft, clerk, indicator):
    saved = fill(
        draft,
        clerk,
        indicator,
        "40",
        delay_reason="funds",
        delay_note="资金下月到位。",
        confidence=2,
    )
    assert saved.version == 2
    row = MonthlyReport.objects.get(pk=draft.pk)
    assert (row.narrative, row.delay_reason, row.delay_note, row.confidence) == (
        "本月新增就业40人。",
        "funds",
        "资金下月到位。",
        2,
    )
    assert Figure.objects.get(report=draft).value == 40


def test_blank_value_removes_a_figure(draft, clerk, indicator):
    fill(draft, clerk, indicator, "40")
    services.report_save(report=draft, user=clerk, figures=[FigureInput(indicator.pk, None, None)])
    assert not Figure.objects.filter(report=draft).exists()


def test_figure_for_another_items_indicator_is_refused(draft, clerk, make_item, make_indicator):
    foreign = make_indicator(make_item(), "10")
    with pytest.raises(TransitionError, match="该指标不属于本报告的事项"):
        services.report_save(
            report=draft, user=clerk, figures=[FigureInput(foreign.pk, None, Decimal(1))]
        )
    assert not Figure.objects.exists()


def test_lower_cumulative_count_needs_a_correction_note(item, indicator, clerk, report, draft):
    report(item, "2024-05", {indicator: "50"})
    with pytest.raises(TransitionError, match="本月累计数低于5月已审核的50人"):
        fill(draft, clerk, indicator, "45")
    services.report_save(
        report=draft,
        user=clerk,
        figures=[FigureInput(indicator.pk, None, Decimal(45), "5月多计了5人，更正")],
    )
    assert Figure.objects.get(report=draft).note == "5月多计了5人，更正"


def test_milestone_marked_done_and_undone_in_the_report(draft, clerk, item, milestone):
    step = milestone(item, datetime.date(2024, 6, 20))
    services.report_save(report=draft, user=clerk, milestones={step.pk: datetime.date(2024, 6, 18)})
    step.refresh_from_db()
    assert (step.done_on, step.reported_in) == (datetime.date(2024, 6, 18), draft)
    services.report_save(report=draft, user=clerk, milestones={step.pk: None})
    step.refresh_from_db()
    assert (step.done_on, step.reported_in) == (None, None)


def test_milestone_done_after_the_report_month_is_refused(draft, clerk, item, milestone):
    step = milestone(item, datetime.date(2024, 7, 20))
    with pytest.raises(TransitionError, match="完成日期不能晚于2024年6月30日"):
        services.report_save(
            report=draft, user=clerk, milestones={step.pk: datetime.date(2024, 7, 2)}
        )


# ------------------------------------------------------------------------------
# Transitions and who may perform them
# ------------------------------------------------------------------------------
def test_clerk_submits_their_report(draft, clerk, indicator):
    row = submitted(draft, clerk, indicator)
    assert row.state == State.SUBMITTED
    assert row.submitted_by == clerk
    assert row.submitted_at is not None


def test_submit_needs_a_narrative(draft, clerk, indicator):
    fill(draft, clerk, indicator, narrative="")
    with pytest.raises(TransitionError, match="提交前请填写本月进展情况"):
        services.report_submit(report=draft, user=clerk)


def test_submit_behind_schedule_needs_reason_note_and_confidence(draft, clerk, indicator):
    # 10 of 100 at the end of June, with 33% expected: behind.
    fill(draft, clerk, indicator, "10")
    with pytest.raises(TransitionError, match="请选择滞后原因"):
        services.report_submit(report=draft, user=clerk)
    services.report_save(
        report=draft, user=clerk, delay_reason="funds", delay_note="资金未到位。", confidence=2
    )
    assert services.report_submit(report=draft, user=clerk).state == State.SUBMITTED


def test_submit_on_schedule_needs_no_delay_reason(draft, clerk, indicator):
    fill(draft, clerk, indicator, "40")
    assert services.submission_problems(MonthlyReport.objects.get(pk=draft.pk)) == {}


@pytest.mark.parametrize("who", ["clerk", "stranger"])
def test_only_the_office_approves_returns_and_reopens(draft, clerk, indicator, request, who):
    row = submitted(draft, clerk, indicator)
    user = request.getfixturevalue(who)
    with pytest.raises(TransitionError, match="只有区民生办可以审核通过报告"):
        services.report_approve(report=row, user=user)
    with pytest.raises(TransitionError, match="只有区民生办可以退回报告"):
        services.report_return(report=row, user=user, reason="数据有误")
    with pytest.raises(TransitionError, match="只有区民生办可以重新打开报告"):
        services.report_reopen(report=row, user=user, reason="数据有误")
    assert MonthlyReport.objects.get(pk=draft.pk).state == State.SUBMITTED


@pytest.mark.django_db(transaction=True)  # the publication version is raised on commit
def test_office_approves_a_submitted_report(draft, clerk, office, indicator):
    row = submitted(draft, clerk, indicator)
    july = services.report_open(item=draft.item, month=datetime.date(2024, 7, 1), user=clerk)
    with pytest.raises(TransitionError, match="只有已报送的报告可以审核通过"):
        services.report_approve(report=july, user=office)
    before = version()
    approved = services.report_approve(report=row, user=office)
    assert approved.state == State.APPROVED
    assert approved.reviewed_by == office
    assert version() > before


def test_office_returns_with_a_reason_and_the_unit_resubmits(draft, clerk, office, indicator):
    row = submitted(draft, clerk, indicator)
    with pytest.raises(TransitionError, match="退回时必须填写原因"):
        services.report_return(report=row, user=office, reason="  ")
    returned = services.report_return(report=row, user=office, reason="请补充分街镇数据")
    assert (returned.state, returned.return_reason) == (State.RETURNED, "请补充分街镇数据")
    fill(returned, clerk, indicator, "41")
    assert services.report_submit(report=returned, user=clerk).state == State.SUBMITTED


def test_clerk_cannot_edit_while_submitted(draft, clerk, indicator):
    row = submitted(draft, clerk, indicator)
    with pytest.raises(TransitionError, match="报告已报送，正在审核，不能修改"):
        fill(row, clerk, indicator, "42")


@pytest.mark.django_db(transaction=True)  # the publication version is raised on commit
def test_office_reopens_with_a_reason_recorded(draft, clerk, office, indicator):
    row = services.report_approve(report=submitted(draft, clerk, indicator), user=office)
    with pytest.raises(TransitionError, match="重新打开时必须填写原因"):
        services.report_reopen(report=row, user=office, reason="")
    before = version()
    reopened = services.report_reopen(report=row, user=office, reason="6月数据口径有误")
    assert reopened.state == State.RETURNED
    assert reopened.reopened_by == office and reopened.reopened_at is not None
    assert reopened.return_reason == "重新打开：6月数据口径有误"
    latest = MonthlyReport.history.filter(id=draft.pk).latest("history_date")
    assert latest.history_change_reason == "重新打开：6月数据口径有误"
    assert latest.history_user == office
    assert version() > before


def test_only_approved_reports_are_reopened(draft, office):
    with pytest.raises(TransitionError, match="只有已审核通过的报告需要重新打开"):
        services.report_reopen(report=draft, user=office, reason="误操作")


# ------------------------------------------------------------------------------
# The approval lock: on the database row, for everyone
# ------------------------------------------------------------------------------
def test_approved_report_is_locked_for_everyone_even_through_a_stale_object(
    draft, clerk, office, indicator
):
    stale = MonthlyReport.objects.get(pk=draft.pk)  # read before the approval
    services.report_approve(report=submitted(draft, clerk, indicator), user=office)
    assert stale.state == State.DRAFT
    for user in (clerk, office):
        with pytest.raises(TransitionError, match="已审核通过并公开，已锁定"):
            fill(stale, user, indicator, "99")
    with pytest.raises(TransitionError, match="已锁定"):
        services.report_delete(report=stale, user=office)
    assert Figure.objects.get(report=draft).value == 40


def test_ensure_editable_reads_the_row_for_reports_figures_and_milestones(
    draft, clerk, office, indicator, item, milestone
):
    step = milestone(item, datetime.date(2024, 6, 10))
    services.report_save(report=draft, user=clerk, milestones={step.pk: datetime.date(2024, 6, 9)})
    fill(draft, clerk, indicator)
    figure = Figure.objects.get(report=draft)
    step.refresh_from_db()
    assert services.ensure_editable(draft).pk == draft.pk
    services.report_approve(report=services.report_submit(report=draft, user=clerk), user=office)
    for target in (draft, draft.pk, figure, step):
        with pytest.raises(TransitionError, match="已锁定"):
            services.ensure_editable(target)
        assert services.is_locked(target)
    unreported = milestone(item, datetime.date(2024, 9, 1))
    assert services.ensure_editable(unreported) is None


# ------------------------------------------------------------------------------
# Two people, one report
# ------------------------------------------------------------------------------
def test_second_save_with_the_same_version_is_refused_and_names_the_first(
    draft, clerk, colleague, indicator
):
    shown = draft.version
    fill(draft, clerk, indicator, "40", version=shown)
    with pytest.raises(services.ConcurrentEditError) as refused:
        fill(draft, colleague, indicator, "55", version=shown, narrative="另一人填的")
    row = MonthlyReport.objects.get(pk=draft.pk)
    when = services.moment_label(row.updated_at)
    assert refused.value.message.startswith(f"张敏已于{when}保存了这份报告（第 2 版）")
    assert (row.narrative, row.version, row.updated_by) == ("本月新增就业40人。", 2, clerk)
    assert Figure.objects.get(report=draft).value == 40


def test_transitions_check_the_version_too(draft, clerk, office, indicator):
    row = submitted(draft, clerk, indicator)
    with pytest.raises(services.ConcurrentEditError):
        services.report_approve(report=row, user=office, version=row.version - 1)
    assert MonthlyReport.objects.get(pk=draft.pk).state == State.SUBMITTED


# ------------------------------------------------------------------------------
# History
# ------------------------------------------------------------------------------
def test_every_write_leaves_a_history_row_with_its_author(draft, clerk, office, indicator):
    fill(draft, clerk, indicator)
    services.report_submit(report=draft, user=clerk)
    services.report_approve(report=draft, user=office)
    rows = list(MonthlyReport.history.filter(id=draft.pk).order_by("history_date"))
    assert [(r.state, r.history_user, r.history_change_reason) for r in rows] == [
        ("draft", clerk, "新建草稿"),
        ("draft", clerk, "保存"),
        ("submitted", clerk, "提交审核"),
        ("approved", office, "审核通过"),
    ]
    assert [r.version for r in rows] == [1, 2, 3, 4]
    figure_rows = Figure.history.filter(report_id=draft.pk)
    assert [(r.history_type, r.history_user) for r in figure_rows] == [("+", clerk)]
