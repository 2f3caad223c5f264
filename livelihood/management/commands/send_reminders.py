"""
Mail each lead unit's staff the monthly reports they still owe: due (the month has ended and
its due day has not passed) or overdue. Run it daily (cron, a systemd timer); a unit is mailed
at most once a day (ReminderLog), so running it twice is harmless.

Recipients: active accounts with a StaffProfile of the unit and an email address. Mail goes
through Django's email backend: the console by default, SMTP with EMAIL_URL (README.md).
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from livelihood.plan.models import Item, LeadUnit
from livelihood.reporting import board
from livelihood.reporting.models import ReminderLog


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD，例如 2024-07-03；收到 {text!r}。") from None


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


class Command(BaseCommand):
    help = "给各牵头单位的工作人员发邮件，提醒待报送和逾期未报的月度报告；每个单位每天最多一封。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=parse_date, default=None, help="按这一天计算（YYYY-MM-DD），默认今天"
        )

    def handle(self, *args, date=None, **options):
        today = date or timezone.localdate()
        board_url = ""
        if settings.PUBLIC_BASE_URL:
            path = reverse("admin:livelihood_monthlyreport_board")
            board_url = settings.PUBLIC_BASE_URL.rstrip("/") + path
        staff = get_user_model().objects.filter(is_active=True).exclude(email="")
        sent = skipped = 0
        for unit in LeadUnit.objects.all():
            items = Item.objects.filter(lead_unit=unit).select_related("plan", "lead_unit")
            cells = board.outstanding(items, today)
            if not cells:
                continue
            recipients = sorted(
                {u.email for u in staff.filter(staff_profile__lead_unit=unit)}, key=str.lower
            )
            if not recipients:
                self.stderr.write(
                    f"{unit.name}：有 {len(cells)} 份报告待报送，但没有填写邮箱的工作人员，未发送。"
                )
                continue
            subject, body = reminder_text(unit, cells, today, board_url)
            try:
                with transaction.atomic():
                    # The record first: a second run the same day stops here. The mail is sent
                    # inside the transaction, so a failed send leaves no record and is retried.
                    ReminderLog.objects.create(
                        unit=unit,
                        date=today,
                        recipients=", ".join(recipients),
                        reports="\n".join(
                            f"{c.item.code} {c.month:%Y-%m} {c.label}" for c in cells
                        ),
                    )
                    send_mail(subject, body, None, recipients)
            except IntegrityError:
                skipped += 1
                self.stdout.write(f"{unit.name}：今天（{today:%Y-%m-%d}）已提醒过，未重复发送。")
                continue
            sent += 1
            self.stdout.write(f"{unit.name}：已提醒 {len(recipients)} 人，{len(cells)} 份报告。")
        self.stdout.write(
            self.style.SUCCESS(f"完成：发出 {sent} 封，今天已发过 {skipped} 个单位。")
        )
