"""
Queue a reminder mail for each lead unit that owes monthly reports: due (the month has ended
and its due day has not passed) or overdue. Run it daily (cron, a systemd timer); the mails
themselves are background tasks (livelihood/reporting/tasks.py: send_reminder) that
`manage.py db_worker` sends. A unit is mailed at most once a day (ReminderLog), so running
this twice, or a task twice, is harmless.

With the immediate task backend (TASKS_BACKEND=immediate, and the tests) each mail is sent
before the command goes on to the next unit, and the command says so.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tasks import TaskResultStatus

from livelihood.plan.models import LeadUnit
from livelihood.reporting.reminders import Outcome, reminded, reminder_owed
from livelihood.reporting.tasks import send_reminder


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD，例如 2024-07-03；收到 {text!r}。") from None


class Command(BaseCommand):
    help = (
        "为有待报送、逾期未报月度报告的牵头单位排入催报邮件（由后台任务进程 db_worker 发送）；"
        "每个单位每天最多一封。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=parse_date, default=None, help="按这一天计算（YYYY-MM-DD），默认今天"
        )

    def handle(self, *args, date=None, **options):
        today = date or timezone.localdate()
        counts = dict.fromkeys(("queued", "sent", "skipped", "failed"), 0)
        for unit in LeadUnit.objects.all():
            if reminded(unit.pk, today):
                counts["skipped"] += 1
                self.stdout.write(f"{unit.name}：今天（{today:%Y-%m-%d}）已提醒过，未重复发送。")
                continue
            owed = reminder_owed(unit, today)
            if not owed.cells:
                continue
            if not owed.recipients:
                self.stderr.write(
                    f"{unit.name}：有 {len(owed.cells)} 份报告待报送，"
                    "但没有填写邮箱的工作人员，未发送。"
                )
                continue
            result = send_reminder.enqueue(unit.pk, today.isoformat())
            self.stdout.write(f"{unit.name}：{self.describe(result, owed, counts, today)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：排入后台任务 {counts['queued']} 封，发出 {counts['sent']} 封，"
                f"今天已发过 {counts['skipped']} 个单位"
                + (f"，发送失败 {counts['failed']} 封" if counts["failed"] else "")
                + "。"
            )
        )
        if counts["queued"]:
            self.stdout.write("排入的邮件由后台任务进程（manage.py db_worker）发送。")

    def describe(self, result, owed, counts, today) -> str:
        """One line on what became of the unit's task: still queued (the database backend), or
        already run (the immediate backend)."""
        if result.status == TaskResultStatus.FAILED:
            counts["failed"] += 1
            self.stderr.write(result.errors[-1].traceback)
            return "催报邮件发送失败（错误信息见上），再次运行本命令时将重新发送。"
        if result.status != TaskResultStatus.SUCCESSFUL:
            counts["queued"] += 1
            return (
                f"已排入催报邮件（{len(owed.recipients)} 人，{len(owed.cells)} 份报告），"
                f"任务编号 {result.id}。"
            )
        outcome = result.return_value
        if outcome["outcome"] == Outcome.SENT:
            counts["sent"] += 1
            return f"已提醒 {outcome['recipients']} 人，{outcome['reports']} 份报告。"
        if outcome["outcome"] == Outcome.ALREADY_SENT:
            counts["skipped"] += 1
            return f"今天（{today:%Y-%m-%d}）已提醒过，未重复发送。"
        return "报告已报送，或已没有可发送的工作人员，未发送。"
