"""
Load a year's plan from `fixtures/plan_<year>.json`, but only when that year is not loaded yet.

`make run` calls this on every start. After the first load the coordinating office corrects
the plan in the admin (lead units, titles, the 20 items the source does not name); loading the
fixture again would overwrite those corrections with the file, so an existing year is left
alone. `--update` reloads it anyway: the fixture uses natural keys, so loaddata updates the
rows it names in place (same primary keys, no duplicates) and leaves rows it does not name.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from livelihood.plan.models import Plan
from livelihood.snapshots import build as snapshots

FIXTURE_DIR = settings.BASE_DIR / "fixtures"


class Command(BaseCommand):
    help = "载入年度计划（fixtures/plan_<年度>.json）；数据库中已有该年度时跳过，除非加 --update。"

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="年度，例如 2024")
        parser.add_argument(
            "--update",
            action="store_true",
            help="该年度已在数据库中时仍按文件重新载入（覆盖文件所列字段）",
        )

    def handle(self, *args, year, update, **options):
        path = FIXTURE_DIR / f"plan_{year}.json"
        if not path.is_file():
            raise CommandError(f"没有 {year} 年度的计划文件：{path} 不存在。")
        existed = Plan.objects.filter(year=year).exists()
        if existed and not update:
            self.stdout.write(
                f"{year} 年度计划已在数据库中，未重新载入（保留已有修改）；"
                "如需按文件覆盖，请加 --update。"
            )
            return
        call_command("loaddata", str(path), verbosity=0)
        plan = Plan.objects.filter(year=year).first()
        if plan is None:
            raise CommandError(f"{path.name} 中没有 {year} 年度的计划。")
        # loaddata commits on its own; its saves were written into the snapshot after that
        # commit (livelihood/snapshots/build.py). Written once more here, plainly.
        snapshots.write(plan)
        self.stdout.write(
            self.style.SUCCESS(
                f"{'已按文件更新' if existed else '已载入'}《{plan.title}》："
                f"{plan.domains.count()} 个领域，{plan.items.count()} 项事项"
                f"（文件宣布 {plan.declared_item_count} 项）。"
            )
        )
