"""
`manage.py export_summary --plan 2024 --month 2024-06 -o FILE [--format xlsx|csv]`: the
coordinating office's monthly summary (livelihood/data/summary.py) for data month 2024-06 (the data
for June and before, approved by now), written whole or not at all.
"""

from django.core.management.base import BaseCommand, CommandError

from livelihood.data import summary, summary_sheets
from livelihood.data.exports import (
    ExportError,
    atomic_output,
    check_output,
    format_for,
    os_reason,
)


class Command(BaseCommand):
    help = (
        "导出某年度计划的民生实事进展情况汇总表，“数据截至”所选月份：统计该月及以前各月"
        "已审核公开的数据，与公开网站“数据截至”该月时一致。可选计划印发当月至当年12月，"
        "全年情况选12月（次年也可导出）。格式默认按文件后缀（.xlsx 或 .csv）确定。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, type=int, help="计划年度，例如 2024")
        parser.add_argument(
            "--month",
            required=True,
            help="数据月份，格式 YYYY-MM，例如 2024-12（统计该月及以前各月已审核公开的数据）",
        )
        parser.add_argument("-o", "--output", required=True, help="输出文件，例如 汇总表.xlsx")
        parser.add_argument(
            "--format", choices=("xlsx", "csv"), help="文件格式（默认按文件后缀确定）"
        )

    def handle(self, *args, plan, month, output, format, **options):
        try:
            fmt = format_for(check_output(output), format)
            chosen = summary.summary_month(summary.find_plan(plan), summary.parse_month(month))
            with atomic_output(output) as stream:
                count = summary_sheets.write_summary(stream, fmt, chosen)
        except ExportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"写入“{output}”失败：{os_reason(error)}。") from None
        self.stdout.write(
            self.style.SUCCESS(f"已导出《{chosen.title}》：{count} 项事项，文件 {output}。")
        )
