"""
`manage.py import_plan FILE --plan 2024 [--dry-run] [--overwrite-approved] [--user USERNAME]`:
items and indicators of a year's plan from a spreadsheet (livelihood/data/plan_import.py), all or
nothing. Items are matched by code and indicators by number; nothing is deleted.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from livelihood.accounts.roles import is_coordinator
from livelihood.data.plan_import import plan_import
from livelihood.data.reading import (
    ImportFileError,
    check_size,
)
from livelihood.plan.models import Plan


class Command(BaseCommand):
    help = (
        "从 Excel 文件导入年度计划的事项和指标（按事项编号、指标序号匹配，已有的更新，"
        "没有的新增，不删除）：文件有任何错误则整个文件不导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Excel 工作簿（.xlsx）")
        parser.add_argument("--plan", type=int, required=True, help="年度，例如 2024")
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入数据库")
        parser.add_argument(
            "--overwrite-approved",
            action="store_true",
            help="允许修改已有审核通过报告的事项（会改变已公开的进度）",
        )
        parser.add_argument("--user", help="记入修改历史的账号（须为区民生办）")

    def handle(self, *args, file, plan, dry_run, overwrite_approved, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件“{file}”不存在。")
        target = Plan.objects.filter(year=plan).first()
        if target is None:
            raise CommandError(f"没有{plan}年度的计划；请先载入（manage.py load_plan {plan}）。")
        account = None
        if user:
            account = get_user_model().objects.filter(username=user, is_active=True).first()
            if account is None:
                raise CommandError(f"没有名为“{user}”的有效账号。")
            if not is_coordinator(account):
                raise CommandError("只有区民生办可以导入年度计划。")
        try:
            check_size(path.stat().st_size)
        except ImportFileError as error:
            raise CommandError(error.message) from None
        outcome = plan_import(
            data=path.read_bytes(),
            file_name=path.name,
            plan=target,
            user=account,
            dry_run=dry_run,
            overwrite_approved=overwrite_approved,
        )
        if not outcome.ok:
            for error in outcome.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"“{path.name}”有 {len(outcome.errors)} 处错误，整个文件未导入。请改正后重新导入。"
            )
        verb = "检查通过（试运行，未写入）" if dry_run else "已导入"
        total = target.items.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}：《{target.title}》，{outcome.summary}；"
                f"计划现有 {total} 项事项（文件宣布 {target.declared_item_count} 项）。"
            )
        )
