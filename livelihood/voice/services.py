"""
Residents' voice: feedback on an item, moderated by the coordinating office, answered by the
item's lead unit within a deadline counted in working days.

    feedback_submit ──▶ pending ──feedback_publish──▶ published ──feedback_answer──▶ answered
                           └─────feedback_reject (reason)─▶ rejected

Deadlines: a message published on day D must be answered by the FEEDBACK_ANSWER_WORKING_DAYS-th
working day after D (D itself does not count). Working days are China's, as the State Council
sets them each year and chinese-calendar carries them: official holidays are days off, and
the weekend days worked in lieu (调休上班) are working days, on which a deadline runs. For a
year chinese-calendar has no data for (before 2004, or one whose schedule is newer than the
installed release), Monday to Friday less the dates in PUBLIC_HOLIDAYS, with a warning logged.
The deadline is stored on the message when it is published, so a later change of the setting
(or of the calendar) moves no deadline already given.

Abuse: every submission is counted per client address and per item in Django's `default`
cache (livelihood/voice/ratelimit.py); the moderation queue never holds more than
FEEDBACK_QUEUE_MAX pending messages in all, nor FEEDBACK_QUEUE_MAX_PER_ITEM for one item.
"""

import datetime
import logging
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.plan.models import Item, Plan
from livelihood.voice.models import Feedback

logger = logging.getLogger(__name__)

State = Feedback.State

QUEUE_FULL_MESSAGE = "当前待处理的留言较多，暂时无法接收新的留言，请过一段时间再提交。"


class FeedbackError(Exception):
    """A write refused; `message` is for the person who asked for it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QueueFull(FeedbackError):
    pass


# ------------------------------------------------------------------------------
# Working days
# ------------------------------------------------------------------------------
_YEARS_WITHOUT_CALENDAR: set[int] = set()


def is_working_day(day: datetime.date, holidays=None) -> bool:
    """Whether `day` is a working day in China: chinese_calendar.is_workday(), holidays off,
    make-up working days (调休) on. For a year it has no data for (it raises
    NotImplementedError), Monday to Friday less `holidays` (PUBLIC_HOLIDAYS by default):
    make-up days are then not known. That is logged once a year per process; upgrade
    chinese-calendar once the State Council has published the year's schedule."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _YEARS_WITHOUT_CALENDAR:
            _YEARS_WITHOUT_CALENDAR.add(day.year)
            logger.warning(
                "节假日日历（chinese-calendar）没有 %d 年的安排，该年的工作日按周一至周五"
                "减去 PUBLIC_HOLIDAYS 计算，调休上班日未计入；请升级 chinese-calendar。",
                day.year,
            )
    holidays = settings.PUBLIC_HOLIDAYS if holidays is None else holidays
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: datetime.date, count: int, holidays=None) -> datetime.date:
    """The `count`-th working day after `start` (`start` itself is not counted)."""
    day = start
    while count > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day, holidays):
            count -= 1
    return day


def answer_due(published_on: datetime.date) -> datetime.date:
    return add_working_days(published_on, settings.FEEDBACK_ANSWER_WORKING_DAYS)


# ------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------
def published_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}state": State.PUBLISHED})


# What a public page reads of a message: never the contact, which is not even fetched.
PUBLIC_FEEDBACK_FIELDS = (
    "pk",
    "item_id",
    "state",
    "message",
    "name",
    "show_name",
    "published_at",
    "due_on",
    "answer",
    "answered_at",
)


def overdue_q(today: datetime.date, prefix: str = "") -> Q:
    """Published, not answered, past its deadline."""
    return Q(
        **{
            f"{prefix}state": State.PUBLISHED,
            f"{prefix}answered_at__isnull": True,
            f"{prefix}due_on__lt": today,
        }
    )


@dataclass(frozen=True)
class AnswerCounts:
    published: int = 0
    answered: int = 0
    answered_on_time: int = 0
    overdue: int = 0

    @property
    def waiting(self) -> int:
        """Published, not answered, still within the deadline."""
        return self.published - self.answered - self.overdue


def answer_counts(feedback, today: datetime.date | None = None) -> AnswerCounts:
    """Counts over a queryset of feedback, in one query: published, answered (on time),
    overdue. Only published messages count."""
    today = today or timezone.localdate()
    published = published_q()
    totals = feedback.aggregate(
        published=Count("pk", filter=published),
        answered=Count("pk", filter=published & Q(answered_at__isnull=False)),
        on_time=Count(
            "pk",
            filter=published & Q(answered_at__isnull=False, answered_at__date__lte=F("due_on")),
        ),
        overdue=Count("pk", filter=overdue_q(today)),
    )
    return AnswerCounts(
        published=totals["published"],
        answered=totals["answered"],
        answered_on_time=totals["on_time"],
        overdue=totals["overdue"],
    )


def overdue_by_unit(items, today: datetime.date | None = None) -> list[tuple[object, int]]:
    """Overdue answers per lead unit over `items` (a queryset), most first, in one query."""
    today = today or timezone.localdate()
    rows = (
        Feedback.objects.filter(overdue_q(today), item__in=items)
        .values("item__lead_unit_id", "item__lead_unit__name", "item__lead_unit__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "item__lead_unit__name")
    )
    return [
        (
            {
                "pk": r["item__lead_unit_id"],
                "name": r["item__lead_unit__name"],
                "code": r["item__lead_unit__code"],
            },
            r["n"],
        )
        for r in rows
    ]


# ------------------------------------------------------------------------------
# Writes
# ------------------------------------------------------------------------------
def feedback_submit(
    *, item: Item, message: str, name: str = "", show_name: bool = False, contact: str = ""
) -> Feedback:
    """A resident's message, into the moderation queue; QueueFull when the queue is at its
    bound (in all, or for this item). The plan's row is locked for the count and the insert,
    so that concurrent submissions cannot together overfill the queue (SQLite serialises
    writing transactions anyway)."""
    with transaction.atomic():
        list(Plan.objects.select_for_update().filter(pk=item.plan_id).values_list("pk"))
        pending = Feedback.objects.filter(state=State.PENDING).aggregate(
            total=Count("pk"), here=Count("pk", filter=Q(item=item))
        )
        if (
            pending["total"] >= settings.FEEDBACK_QUEUE_MAX
            or pending["here"] >= settings.FEEDBACK_QUEUE_MAX_PER_ITEM
        ):
            logger.warning(
                "留言队列已满（共 %s 条待审核），拒绝新留言：%s", pending["total"], item.code
            )
            raise QueueFull(QUEUE_FULL_MESSAGE)
        return Feedback.objects.create(
            item=item,
            message=message,
            name=name,
            show_name=show_name and bool(name),
            contact=contact,
        )


def _require_coordinator(user, action: str):
    if not is_coordinator(user):
        raise FeedbackError(f"只有区民生办可以{action}留言。")


def _locked(feedback: Feedback) -> Feedback:
    return Feedback.objects.select_for_update().select_related("item").get(pk=feedback.pk)


def feedback_publish(*, feedback: Feedback, user, message: str | None = None) -> Feedback:
    """Publish a message (the office may first correct its text, e.g. to remove a phone
    number); the deadline for the lead unit's answer starts today."""
    _require_coordinator(user, "公开")
    with transaction.atomic():
        row = _locked(feedback)
        if message is not None:
            row.message = message
        routed = row.state != State.PUBLISHED
        if routed:
            now = timezone.now()
            row.state = State.PUBLISHED
            row.published_at = now
            row.due_on = answer_due(timezone.localdate(now))
            row.reject_reason = ""
        row.moderated_at, row.moderated_by = timezone.now(), user
        row._change_reason = "公开留言"
        row.save()
        if routed:
            transaction.on_commit(lambda: notify_unit(row))
    return row


def notify_unit(feedback: Feedback) -> None:
    """Mail the lead unit's staff that a message awaits their answer (the text is public by
    now; the resident's name and contact are not in the mail). A failed send is logged: the
    message is in the unit's admin list either way."""
    unit = feedback.item.lead_unit
    recipients = sorted(
        get_user_model()
        .objects.filter(is_active=True, staff_profile__lead_unit=unit)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    link = ""
    if settings.PUBLIC_BASE_URL:
        path = reverse("admin:livelihood_feedback_change", args=[feedback.pk])
        link = f"答复入口：{settings.PUBLIC_BASE_URL.rstrip('/')}{path}\n"
    body = (
        f"{unit.name}：\n\n"
        f"居民对“{feedback.item.code} {feedback.item.title}”的留言已经区民生办审核公开，"
        f"请于{feedback.due_on:%Y年%-m月%-d日}前在管理后台“居民留言”中答复，答复将公开在留言下方。\n\n"
        f"留言内容：\n{feedback.message}\n\n{link}"
        "此邮件由系统自动发送。\n瑶海区民生实事办公室"
    )
    try:
        send_mail(f"居民留言待答复：{feedback.item.code}", body, None, recipients)
    except Exception:
        logger.warning("留言转交通知发送失败：%s", feedback.item.code, exc_info=True)


def feedback_reject(*, feedback: Feedback, user, reason: str, note: str = "") -> Feedback:
    """Not published, with a reason (a published message may be withdrawn the same way)."""
    _require_coordinator(user, "处理")
    if reason not in Feedback.RejectReason.values:
        raise FeedbackError("请选择不予公开的原因。")
    with transaction.atomic():
        row = _locked(feedback)
        row.state = State.REJECTED
        row.reject_reason, row.reject_note = reason, note
        row.moderated_at, row.moderated_by = timezone.now(), user
        row._change_reason = f"不予公开：{Feedback.RejectReason(reason).label}"
        row.save()
    return row


def may_answer(user, feedback: Feedback) -> bool:
    if is_coordinator(user):
        return True
    unit = unit_of(user)
    return unit is not None and unit.pk == feedback.item.lead_unit_id


def feedback_answer(*, feedback: Feedback, user, answer: str) -> Feedback:
    """The lead unit's answer, published under the message at once. The first answer's time
    is the one the deadline is judged by; later corrections are kept in the history."""
    answer = answer.strip()
    if not answer:
        raise FeedbackError("答复内容不能为空。")
    with transaction.atomic():
        row = _locked(feedback)
        if not may_answer(user, row):
            raise FeedbackError("只能答复本单位牵头事项的留言。")
        if row.state != State.PUBLISHED:
            raise FeedbackError("该留言尚未公开，不能答复。")
        if row.answered_at is None:
            row.answered_at = timezone.now()
        row.answer, row.answered_by = answer, user
        row._change_reason = "答复留言"
        row.save()
    return row
