"""
`manage.py rebuild_snapshots [--year 2024]`: write every plan's stored progress snapshot again
from the raw approved figures (livelihood/snapshots/build.py). The services write it on every
publication; this is for a database restored from elsewhere, an upgrade that changes the
arithmetic, or a check that found differences (`verify_snapshots`).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from livelihood.operations.publication import publication_bump
from livelihood.plan.models import Plan
from livelihood.snapshots import build


class Command(BaseCommand):
    help = "根据已审核的填报数值重新生成全部年度计划的进度快照。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="只重新生成该年度的计划（默认全部）")

    def handle(self, *args, year=None, **options):
        plans = Plan.objects.order_by("year")
        if year is not None:
            plans = plans.filter(year=year)
            if not plans.exists():
                raise CommandError(f"没有 {year} 年的计划。")
        started = time.monotonic()
        with transaction.atomic():
            written = build.rebuild(list(plans))
            # What residents see may have changed: no page cached before is served after.
            for plan in written:
                publication_bump(plan=plan.pk)
        for plan, rows in written.items():
            self.stdout.write(f"{plan.year} 年：{rows} 条快照记录")
        self.stdout.write(
            self.style.SUCCESS(
                f"已重新生成 {len(written)} 个年度计划的进度快照，"
                f"用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
