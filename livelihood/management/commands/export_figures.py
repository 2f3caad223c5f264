"""
`manage.py export_figures --plan 2024 -o FILE [--format xlsx|csv]`: every approved figure of
a plan (`--plan all`: of every plan), one row each (columns: livelihood/data/exports.py), written
whole or not at all.
"""

from django.core.management.base import BaseCommand, CommandError

from livelihood.data.exports import (
    ExportError,
    atomic_output,
    check_output,
    format_for,
    os_reason,
    write_figures,
)
from livelihood.data.summary import find_plan
from livelihood.plan.parsing import (
    ParseError,
    parse_month,
)


class Command(BaseCommand):
    help = (
        "导出年度计划的全部已审核填报数值（事项编号、指标序号、指标名称、月份、街镇、数值、"
        "计量单位），每个数值一行。格式默认按文件后缀（.xlsx 或 .csv）确定。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="计划年度，例如 2024；all 表示全部年度")
        parser.add_argument("-o", "--output", required=True, help="输出文件，例如 数值.csv")
        parser.add_argument(
            "--format", choices=("xlsx", "csv"), help="文件格式（默认按文件后缀确定）"
        )
        parser.add_argument(
            "--month",
            help="只导出该月（YYYY-MM）的数值：牵头单位改后可按月导入（manage.py import_figures）",
        )

    def handle(self, *args, plan, output, format, month, **options):
        try:
            if month is not None:
                try:
                    month = parse_month(month)
                except ParseError as error:
                    raise ExportError(f"--month：{error}") from None
            fmt = format_for(check_output(output), format)
            if plan == "all":
                chosen = None
            elif plan.isdigit():
                chosen = find_plan(int(plan))
            else:
                raise ExportError(f"--plan 应为年度（例如 2024）或 all，实际为“{plan}”。")
            with atomic_output(output) as stream:
                count = write_figures(stream, fmt, chosen, month)
        except ExportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"写入“{output}”失败：{os_reason(error)}。") from None
        scope = f"{chosen.year}年度" if chosen else "全部年度"
        if month is not None:
            scope += f"{month:%Y年%-m月}"
        self.stdout.write(self.style.SUCCESS(f"已导出{scope}已审核填报数值 {count} 条：{output}。"))
