"""
The monthly report's life, one function per transition; the admin and the commands call the
same functions.

    draft ──submit──▶ submitted ──approve──▶ approved (public, locked)
      ▲                  │                       │
      └──── (edit) ◀── returned ◀──return───┘ ◀──reopen (coordinator, with a reason)

Who may do what: the coordinating office (区民生办: a superuser, a staff profile without a
unit, or the coordinator group) approves, returns and reopens; lead-unit staff open, edit and
submit their own unit's reports only. An approved report is locked for everyone, whatever the
path: every write first locks and reads the report's current database row
(`ensure_editable`), never the object in memory.

Every write is optimistic-locked on `MonthlyReport.version`: the caller passes the version it
showed, the write is a conditional `UPDATE … WHERE version = shown`, and when another save came
first nothing is written and `ConcurrentEditError` says who saved and when. The row is then
saved the ordinary way in the same transaction, so that django-simple-history records it.

Refusals raise `TransitionError` with a message a clerk can act on (the admin shows it with
`messages.error`).

A report's figures (the rows handed in, their checks, the batched writes with history rows,
the projected progress) are livelihood/reporting/figures.py; the import's one write, for many
reports at once, is livelihood/reporting/figure_import.py.
"""

import datetime
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.operations.publication import publication_bump
from livelihood.plan.models import Item, Milestone, first_of_month
from livelihood.progress import arithmetic as progress
from livelihood.reporting.figures import (
    Earlier,
    FigureInput,
    figure_problems,
    figures_write,
    projected_snapshot,
)
from livelihood.reporting.models import Figure, MonthlyReport
from livelihood.snapshots import build as snapshots

State = MonthlyReport.State

# simple-history keeps a change reason of at most 100 characters.
CHANGE_REASON_LENGTH = 100


class TransitionError(Exception):
    """A write the workflow refuses; `message` is for the person who asked for it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ConcurrentEditError(TransitionError):
    """Someone else saved the report after it was opened; nothing was written."""


# ------------------------------------------------------------------------------
# Who may do what
# ------------------------------------------------------------------------------
def may_enter(user, item) -> bool:
    """Enter and submit figures for the item: its lead unit's staff, or the office."""
    if is_coordinator(user):
        return True
    unit = unit_of(user)
    return unit is not None and unit.pk == item.lead_unit_id


def require_entry(user, item):
    if not may_enter(user, item):
        raise TransitionError("只能填报本单位牵头的事项。")


def _require_coordinator(user, action: str):
    if not is_coordinator(user):
        raise TransitionError(f"只有区民生办可以{action}报告。")


def user_label(user) -> str:
    if user is None:
        return "他人"
    return user.get_full_name() or user.get_username()


def moment_label(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "稍早"
    return f"{timezone.localtime(moment):%Y年%-m月%-d日 %H:%M}"


# ------------------------------------------------------------------------------
# The lock
# ------------------------------------------------------------------------------
LOCKED_MESSAGE = (
    "该报告已审核通过并公开，已锁定，不能修改或删除；如需更正，请联系区民生办重新打开。"
)


def _report_pk(target) -> int | None:
    if isinstance(target, MonthlyReport):
        return target.pk
    if isinstance(target, Figure):
        return target.report_id
    if isinstance(target, Milestone):
        return target.reported_in_id
    return target


def ensure_editable(target) -> MonthlyReport | None:
    """Lock and return the current database row of a report, or refuse when it is approved.

    `target` is a report, a figure (its report), a milestone (the report that marked it
    done; None when no report did) or a report's primary key. Call it inside
    `transaction.atomic()`: the row lock (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
    serialises writers) then holds until your write commits, so an approval cannot slip in
    between the check and the write.
    """
    pk = _report_pk(target)
    if pk is None:
        return None
    with transaction.atomic():
        row = MonthlyReport.objects.select_for_update().filter(pk=pk).first()
    if row is not None and row.state == State.APPROVED:
        raise TransitionError(LOCKED_MESSAGE)
    return row


def is_locked(target) -> bool:
    """Read-only answer for permission checks: the report behind `target` is approved now."""
    pk = _report_pk(target)
    return pk is not None and MonthlyReport.objects.filter(pk=pk, state=State.APPROVED).exists()


SUBMITTED_MESSAGE = "报告已报送，正在审核，不能修改；如需修改，请联系区民生办退回。"


def editable_states(coordinator: bool) -> tuple[str, ...]:
    """The states in which a report's content may be changed: by lead-unit staff, drafts and
    returned reports; by the office (`coordinator`), also a submitted one, before approving it."""
    if coordinator:
        return (State.DRAFT, State.RETURNED, State.SUBMITTED)
    return (State.DRAFT, State.RETURNED)


def _claim(report, *, user, version: int | None, states: Iterable[str], refusal: str):
    """Lock the report's row, check its state, and take the next version with a conditional
    UPDATE; returns the row as now stored (version raised, `updated_*` set).

    `version` is the version the caller showed; None (a command) means "whatever is current".
    """
    row = MonthlyReport.objects.select_for_update().select_related("item").get(pk=report.pk)
    if row.state == State.APPROVED and State.APPROVED not in states:
        raise TransitionError(LOCKED_MESSAGE)
    expected = row.version if version is None else version
    now = timezone.now()
    written = MonthlyReport.objects.filter(pk=row.pk, version=expected).update(
        version=F("version") + 1, updated_at=now, updated_by=user
    )
    if not written:
        saver = MonthlyReport.objects.select_related("updated_by").get(pk=row.pk)
        raise ConcurrentEditError(
            f"{user_label(saver.updated_by)}已于{moment_label(saver.updated_at)}保存了这份报告"
            f"（第 {saver.version} 版），您的修改没有保存，以免覆盖对方的内容。"
            "请复制需要保留的内容，刷新页面查看最新版本后再修改。"
        )
    if row.state not in states:
        raise TransitionError(refusal)
    row.version, row.updated_at, row.updated_by = expected + 1, now, user
    row._history_user = user
    return row


def _save(row, reason: str = ""):
    """The ordinary save after the conditional UPDATE: signals and a history row; and, in the
    same transaction, the stored progress snapshot of what the change touched (approving or
    reopening a report, a milestone or figure of an approved one)."""
    if reason:
        row._change_reason = reason[:CHANGE_REASON_LENGTH]
    row.save()
    snapshots.write_pending()


# ------------------------------------------------------------------------------
# Open a month
# ------------------------------------------------------------------------------
def report_open(*, item: Item, month: datetime.date, user) -> MonthlyReport:
    """The item's report for the month, created as a draft when there is none yet.

    Refuses a month before the plan was issued, in the future or outside the plan's year
    (as `ValidationError` on `month`, for the form)."""
    require_entry(user, item)
    month = first_of_month(month)
    with transaction.atomic():
        existing = MonthlyReport.objects.filter(item=item, month=month).first()
        if existing is not None:
            return existing
        report = MonthlyReport(item=item, month=month, created_by=user)
        report.clean()
        report.updated_at, report.updated_by = timezone.now(), user
        report._history_user = user
        _save(report, "新建草稿")
        return report


# ------------------------------------------------------------------------------
# Edit: figures, narrative, delay, milestones
# ------------------------------------------------------------------------------
def milestone_problems(report, done: Mapping[int, datetime.date | None]) -> dict[int, str]:
    """What is wrong with each milestone update: {milestone id: message}."""
    milestones = {m.pk: m for m in report.item.milestones.select_related("reported_in")}
    last_day = min(progress.month_end(report.month), timezone.localdate())
    problems = {}
    for pk, day in done.items():
        milestone = milestones.get(pk)
        if milestone is None:
            problems[pk] = "该节点不属于本报告的事项。"
        elif milestone.reported_in_id not in (None, report.pk):
            if day != milestone.done_on:
                problems[pk] = (
                    f"该节点已在{milestone.reported_in.month:%Y年%-m月}的报告中填报完成，"
                    "不能在本月报告中修改。"
                )
        elif day is not None and day > last_day:
            problems[pk] = (
                f"完成日期不能晚于{last_day:%Y年%-m月%-d日}（本报告所属月份的月底或今天）。"
            )
    return problems


def report_save(
    *,
    report: MonthlyReport,
    user,
    version: int | None = None,
    figures: Iterable[FigureInput] | None = None,
    narrative: str | None = None,
    delay_reason: str | None = None,
    delay_note: str | None = None,
    confidence: int | None = None,
    milestones: Mapping[int, datetime.date | None] | None = None,
    earlier: Mapping[tuple[int, int | None], Earlier] | None = None,
) -> MonthlyReport:
    """Save what a unit entered; arguments left None stay as they are. `earlier`: the
    report's previous_approved(), when the caller has read it already (an import, for every
    report of its file in one query); the figures are checked against it all the same.

    Lead-unit staff edit drafts and returned reports; the office may also correct a
    submitted one before approving it. Nobody edits an approved report."""
    require_entry(user, report.item)
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=editable_states(is_coordinator(user)),
            refusal=SUBMITTED_MESSAGE,
        )
        if figures is not None:
            rows = list(figures)
            problems = figure_problems(row, rows, earlier)
            if problems:
                first = next(iter(problems.values()))
                raise TransitionError(next(iter(first.values())))
            figures_write([(row, rows)], user)
        if milestones is not None:
            problems = milestone_problems(row, milestones)
            if problems:
                raise TransitionError(next(iter(problems.values())))
            _milestones_write(row, milestones, user)
        for name, value in (
            ("narrative", narrative),
            ("delay_reason", delay_reason),
            ("delay_note", delay_note),
        ):
            if value is not None:
                setattr(row, name, value.strip())
        if confidence is not None:
            row.confidence = confidence or None
        _save(row, "保存")
    return row


def _milestones_write(report, done, user):
    for milestone in report.item.milestones.filter(pk__in=list(done)):
        day = done[milestone.pk]
        if milestone.reported_in_id not in (None, report.pk):
            continue
        if day is None:
            if milestone.reported_in_id is None:
                continue
            milestone.done_on = milestone.reported_in = None
        elif milestone.done_on == day and milestone.reported_in_id == report.pk:
            continue
        else:
            milestone.done_on, milestone.reported_in = day, report
        milestone._history_user = user
        milestone.save()


# ------------------------------------------------------------------------------
# Behind schedule?
# ------------------------------------------------------------------------------
DELAY_MISSING = "按本月数据测算，该事项进度滞后于序时进度，请选择滞后原因。"
DELAY_NOTE_MISSING = "进度滞后时，请说明具体原因和下一步措施。"
CONFIDENCE_MISSING = "进度滞后时，请选择按期完成的把握。"
NARRATIVE_MISSING = "提交前请填写本月进展情况。"


def submission_problems(report, snapshot=None) -> dict[str, str]:
    """What a report still lacks before it can be submitted: {field: message}."""
    snapshot = snapshot or projected_snapshot(report)
    problems = {}
    if not report.narrative.strip():
        problems["narrative"] = NARRATIVE_MISSING
    if snapshot.status == progress.Status.BEHIND:
        if not report.delay_reason:
            problems["delay_reason"] = DELAY_MISSING
        if not report.delay_note.strip():
            problems["delay_note"] = DELAY_NOTE_MISSING
        if not report.confidence:
            problems["confidence"] = CONFIDENCE_MISSING
    return problems


# ------------------------------------------------------------------------------
# Transitions
# ------------------------------------------------------------------------------
def report_submit(*, report: MonthlyReport, user, version: int | None = None) -> MonthlyReport:
    """Draft or returned → submitted, for the office to review."""
    require_entry(user, report.item)
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.DRAFT, State.RETURNED),
            refusal="只有草稿或被退回的报告可以提交审核。",
        )
        problems = submission_problems(row)
        if problems:
            raise TransitionError(next(iter(problems.values())))
        row.state = State.SUBMITTED
        if row.submitted_at is None:  # punctuality counts the first submission
            row.submitted_at, row.submitted_by = row.updated_at, user
        _save(row, "提交审核")
    return row


def report_approve(*, report: MonthlyReport, user, version: int | None = None) -> MonthlyReport:
    """Submitted → approved: the figures become public and the report is locked."""
    _require_coordinator(user, "审核通过")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.SUBMITTED,),
            refusal="只有已报送的报告可以审核通过。",
        )
        row.state = State.APPROVED
        row.reviewed_at, row.reviewed_by = row.updated_at, user
        row.return_reason = ""
        _save(row, "审核通过")
        publication_bump(through=(Item, "plan_id", row.item_id))
    return row


def _reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(f"{action}时必须填写原因。")
    return reason


def report_return(
    *, report: MonthlyReport, user, reason: str, version: int | None = None
) -> MonthlyReport:
    """Submitted → returned to the unit, with the reason it reads."""
    _require_coordinator(user, "退回")
    reason = _reason(reason, "退回")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.SUBMITTED,),
            refusal="只有已报送的报告可以退回。",
        )
        row.state = State.RETURNED
        row.return_reason = reason
        row.reviewed_at, row.reviewed_by = row.updated_at, user
        _save(row, f"退回：{reason}")
    return row


def report_reopen(
    *, report: MonthlyReport, user, reason: str, version: int | None = None
) -> MonthlyReport:
    """Approved → returned: withdrawn from the public pages and open to the unit again.

    Recorded in the report (`reopened_at`, `reopened_by`, the reason as the return reason
    the unit reads) and in its history (the change reason)."""
    _require_coordinator(user, "重新打开")
    reason = _reason(reason, "重新打开")
    with transaction.atomic():
        row = _claim(
            report,
            user=user,
            version=version,
            states=(State.APPROVED,),
            refusal="只有已审核通过的报告需要重新打开。",
        )
        row.state = State.RETURNED
        row.return_reason = f"重新打开：{reason}"
        row.reopened_at, row.reopened_by = row.updated_at, user
        _save(row, f"重新打开：{reason}")
        publication_bump(through=(Item, "plan_id", row.item_id))
    return row


def report_delete(*, report: MonthlyReport, user) -> None:
    """Delete a report that is not approved (the admin's delete view and bulk action)."""
    require_entry(user, report.item)
    with transaction.atomic():
        row = ensure_editable(report)
        if row is None:
            return
        if row.milestones_done.exists():
            raise TransitionError("该报告填报了节点完成情况，请先在报告中取消后再删除。")
        row._history_user = user
        row.delete()


def validation_message(error: ValidationError) -> str:
    """A ValidationError's messages as one line."""
    return "；".join(error.messages)
