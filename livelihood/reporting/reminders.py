"""
The reminder mail a lead unit's staff get about the monthly reports they still owe: due (the
month has ended and its due day has not passed) or overdue. `manage.py send_reminders` queues
one `tasks.send_reminder` per unit; the task calls `reminder_send`, which works out again what
the unit owes and whether it has already been reminded, so a task that runs twice, or late,
sends nothing twice.

Recipients: active accounts with a StaffProfile of the unit and an email address. Mail goes
through Django's email backend: the console by default, SMTP with EMAIL_URL (README.md).
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from livelihood.plan.models import Item, LeadUnit
from livelihood.reporting import board
from livelihood.reporting.models import ReminderLog


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    NOTHING_OWED = "nothing_owed"
    NO_RECIPIENTS = "no_recipients"


@dataclass(frozen=True)
class Owed:
    """What one unit owes on a day, and who is told."""

    unit: LeadUnit
    cells: list
    recipients: list[str]


def reminder_owed(unit: LeadUnit, today: datetime.date) -> Owed:
    items = Item.objects.filter(lead_unit=unit).select_related("plan", "lead_unit")
    cells = board.outstanding(items, today)
    staff = (
        get_user_model()
        .objects.filter(is_active=True, staff_profile__lead_unit=unit)
        .exclude(email="")
    )
    recipients = sorted({u.email for u in staff}, key=str.lower)
    return Owed(unit=unit, cells=cells, recipients=recipients)


def reminded(unit_id: int, today: datetime.date) -> bool:
    """A reminder for this day, or for a later one, has gone out: a reminder queued earlier and
    run late is superseded by it."""
    return ReminderLog.objects.filter(unit_id=unit_id, date__gte=today).exists()


def board_url() -> str:
    if not settings.PUBLIC_BASE_URL:
        return ""
    path = reverse("admin:livelihood_monthlyreport_board")
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def reminder_text(unit, cells, today, board_url) -> tuple[str, str]:
    overdue = [c for c in cells if c.overdue]
    due = [c for c in cells if not c.overdue]
    subject = f"【民生实事】{unit.name}：{len(cells)} 份月度报告待报送"
    if overdue:
        subject += f"（其中逾期 {len(overdue)} 份）"
    lines = [
        f"{unit.name}：",
        "",
        f"截至 {today:%Y年%-m月%-d日}，以下民生实事月度报告尚未报送，请及时填报。",
        "",
    ]
    if overdue:
        lines.append("已逾期：")
        lines += [
            f"  · {c.item.code} {c.item.title}　{c.month.year}年{c.month.month}月"
            f"（应于{c.due.month}月{c.due.day}日前报送，{board.LABELS[c.key]}）"
            for c in overdue
        ]
        lines.append("")
    if due:
        lines.append("本期待报送：")
        lines += [
            f"  · {c.item.code} {c.item.title}　{c.month.year}年{c.month.month}月"
            f"（请于{c.due.month}月{c.due.day}日前报送）"
            for c in due
        ]
        lines.append("")
    if board_url:
        lines += [f"填报入口：{board_url}", ""]
    lines += ["此邮件由系统自动发送，每日最多一封。如已报送，请忽略。", "瑶海区民生实事办公室"]
    return subject, "\n".join(lines)


def reminder_send(*, unit_id: int, today: datetime.date) -> dict:
    """Mail the unit's staff what it owes on `today`, unless it owes nothing, has nobody to
    mail, or has been reminded for this day (or a later one) already. Returns the outcome and
    the counts, as JSON (a task's result)."""
    unit = LeadUnit.objects.get(pk=unit_id)
    if reminded(unit_id, today):
        return {"outcome": Outcome.ALREADY_SENT}
    owed = reminder_owed(unit, today)
    if not owed.cells:
        return {"outcome": Outcome.NOTHING_OWED}
    counts = {"recipients": len(owed.recipients), "reports": len(owed.cells)}
    if not owed.recipients:
        return {"outcome": Outcome.NO_RECIPIENTS, **counts}
    subject, body = reminder_text(unit, owed.cells, today, board_url())
    try:
        with transaction.atomic():
            # The record first: a second run for the same day stops here. The mail is sent
            # inside the transaction, so a failed send leaves no record and is retried.
            ReminderLog.objects.create(
                unit=unit,
                date=today,
                recipients=", ".join(owed.recipients),
                reports="\n".join(f"{c.item.code} {c.month:%Y-%m} {c.label}" for c in owed.cells),
            )
            send_mail(subject, body, None, owed.recipients)
    except IntegrityError:
        return {"outcome": Outcome.ALREADY_SENT}
    return {"outcome": Outcome.SENT, **counts}
