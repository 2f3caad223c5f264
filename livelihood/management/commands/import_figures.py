"""
`manage.py import_figures FILE --unit CODE --month YYYY-MM [--dry-run] --user USERNAME`: the
admin's import of a unit's monthly figures, from the command line, through the same code
(livelihood/data/figures.py): all or nothing, written through the reporting workflow as USERNAME.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.data.figures import (
    figures_import,
    month_label,
)
from livelihood.data.reading import (
    ImportFileError,
    check_size,
)
from livelihood.plan.models import LeadUnit
from livelihood.plan.parsing import (
    ParseError,
    parse_month,
)


class Command(BaseCommand):
    help = (
        "从 Excel 文件导入一个牵头单位某月的民生实事数值（与管理后台“导入”相同）："
        "文件有任何错误则整个文件不导入，并列出出错的行和列。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Excel 工作簿（.xlsx），可用后台下载的模板填写")
        parser.add_argument("--unit", help="牵头单位代码，例如 rsj；区民生办省略时可导入所有单位")
        parser.add_argument("--month", required=True, help="月份，例如 2024-06")
        parser.add_argument(
            "--user", help="以哪个账号导入（记入修改历史）；牵头单位账号只能导入本单位"
        )
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入数据库")

    def handle(self, *args, file, unit, month, user, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件“{file}”不存在。")
        try:
            month = parse_month(month)
        except ParseError as error:
            raise CommandError(f"--month：{error}") from None
        if not user:
            raise CommandError(
                "请用 --user 指定以哪个账号导入：数值经由填报流程写入，修改历史须记下导入人。"
            )
        account = get_user_model().objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"没有名为“{user}”的有效账号。")
        chosen = None
        if unit:
            chosen = LeadUnit.objects.filter(code=unit).first()
            if chosen is None:
                codes = "、".join(LeadUnit.objects.values_list("code", flat=True)[:30])
                raise CommandError(f"没有代码为“{unit}”的牵头单位。已有的代码：{codes}。")
        if not is_coordinator(account):
            own = unit_of(account)
            if own is None:
                raise CommandError(f"账号“{user}”不属于任何牵头单位，不能导入数值。")
            if chosen is not None and chosen.pk != own.pk:
                raise CommandError(f"账号“{user}”属于{own}，只能导入本单位的数值。")
            chosen = own
        try:
            check_size(path.stat().st_size)
        except ImportFileError as error:
            raise CommandError(error.message) from None
        scope = chosen.name if chosen else "全部牵头单位"
        try:
            outcome = figures_import(
                data=path.read_bytes(),
                file_name=path.name,
                month=month,
                user=account,
                unit=chosen,
                dry_run=dry_run,
            )
        except DatabaseError as error:
            # A full disk, a lost connection: the import's one transaction is rolled back, so
            # nothing of the file is in the database (docs/reliability.md).
            raise CommandError(
                f"写入数据库失败（{error}），“{path.name}”整个文件未导入（{scope}，"
                f"{month_label(month)}）。请检查磁盘空间和数据库连接后重新导入。"
            ) from None
        if not outcome.ok:
            for error in outcome.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"“{path.name}”有 {len(outcome.errors)} 处错误，整个文件未导入（{scope}，"
                f"{month_label(month)}）。请改正后重新导入。"
            )
        for row in outcome.rows:
            if row.action in ("新增", "修改") and options["verbosity"] >= 2:
                self.stdout.write(
                    f"第 {row.row} 行 {row.item} {row.indicator} {row.street}："
                    f"{row.before or '—'} → {row.after}（{row.action}）"
                )
        verb = "检查通过（试运行，未写入）" if dry_run else "已导入"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}：{scope}{month_label(month)}，{outcome.summary}。"
                + (f"涉及报告 {len(outcome.reports)} 份：" if outcome.reports else "")
            )
        )
        # One report a line: the office's import of every unit names fifty of them.
        for label in outcome.reports:
            self.stdout.write(f"  {label}")
