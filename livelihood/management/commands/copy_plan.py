"""`manage.py copy_plan 2024 2025`: next year's plan as a draft copy of this year's
(livelihood/plan/services.py)."""

from django.core.management.base import BaseCommand, CommandError

from livelihood.plan.services import (
    PlanCopyError,
    plan_copy,
)


class Command(BaseCommand):
    help = "把某年度计划复制为新年度计划草稿（领域、事项、指标和目标，不含任何填报数据）。"

    def add_arguments(self, parser):
        parser.add_argument("source", type=int, help="复制来源年度，例如 2024")
        parser.add_argument("target", type=int, help="新年度，例如 2025")
        parser.add_argument(
            "--planned-values",
            action="store_true",
            help="同时复制各指标的月度计划值（月份顺延到新年度）",
        )

    def handle(self, *args, source, target, planned_values, **options):
        try:
            plan = plan_copy(source_year=source, target_year=target, planned_values=planned_values)
        except PlanCopyError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"已将{source}年度计划复制为《{plan.title}》草稿：{plan.domains.count()} 个领域，"
                f"{plan.items.count()} 项事项，不含月度报告、填报数值和节点完成情况。"
            )
        )
        self.stdout.write(
            "草稿不在公开页面显示。请在后台“年度计划”中核对事项和目标，填写文号和印发日期，"
            "勾选“已发布”后公开。"
        )
