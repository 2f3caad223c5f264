"""
`manage.py verify_snapshots [--year 2024]`: compute every plan's progress afresh through the
pages' own querysets and compare it with the stored snapshot (livelihood/snapshots/verify.py).
Prints each difference and exits with status 1 if there is one; CI runs it over the demo data
and over generated years of data.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from livelihood.plan.models import Plan
from livelihood.snapshots import verify


class Command(BaseCommand):
    help = "重新计算全部年度计划的进度，与已保存的进度快照逐项比对；有差异时列出并以状态 1 退出。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="只核对该年度的计划（默认全部）")

    def handle(self, *args, year=None, **options):
        plans = Plan.objects.order_by("year")
        if year is not None:
            plans = plans.filter(year=year)
            if not plans.exists():
                raise CommandError(f"没有 {year} 年的计划。")
        started = time.monotonic()
        found, checked = [], 0
        for plan in plans:
            lines = verify.differences(plan)
            checked += 1
            found += lines
            for line in lines:
                self.stdout.write(line)
        seconds = time.monotonic() - started
        if found:
            self.stderr.write(
                f"进度快照与重新计算的结果有 {len(found)} 处差异（{checked} 个年度计划，"
                f"用时 {seconds:.1f} 秒）。可运行 manage.py rebuild_snapshots 重新生成。"
            )
            sys.exit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"进度快照与重新计算的结果一致：{checked} 个年度计划，0 处差异"
                f"（用时 {seconds:.1f} 秒）。"
            )
        )
