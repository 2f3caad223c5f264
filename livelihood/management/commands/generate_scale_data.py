"""
`manage.py generate_scale_data`: many plan years of generated figures, to measure the portal
at size (see livelihood/devdata/scale.py); `--remove` takes them away again.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from livelihood.devdata import scale


class Command(BaseCommand):
    help = (
        "生成规模测试数据（默认 2000–2009 年共10个年度 × 50项 × 3个指标 × 12个月 × 13个街镇，"
        "全部为已审核的演示数据），用于性能测试；已有规模测试数据时拒绝执行。--remove 删除全部。"
    )

    def add_arguments(self, parser):
        defaults = scale.Spec()
        for name, meaning in (
            ("years", "年度数"),
            ("items", "每个年度的事项数"),
            ("indicators", "每个事项的指标数"),
            ("months", "每个年度已审核的月份数（从1月起）"),
            ("streets", "分街镇填报的街镇数（已有真实街镇时优先使用）"),
            ("first_year", "第一个年度（不能与真实计划重叠）"),
            ("seed", "随机种子，同一种子生成相同的数据"),
        ):
            default = getattr(defaults, name)
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                type=int,
                default=default,
                help=f"{meaning}（默认 {default}）",
            )
        parser.add_argument("--remove", action="store_true", help="删除全部规模测试数据")
        parser.add_argument("--force", action="store_true", help="DEBUG 关闭（生产环境）时仍然生成")

    def handle(self, *args, remove, force, **options):
        if not settings.DEBUG and not force and not remove:
            raise CommandError(
                "当前 DEBUG 已关闭，可能是生产环境：规模测试数据会作为演示数据出现在公开页面。"
                "确需执行，请加 --force。"
            )
        try:
            if remove:
                self._remove()
            else:
                fields = scale.Spec.__dataclass_fields__
                spec = scale.Spec(**{name: options[name] for name in fields})
                self._report(scale.scale_generate(spec))
        except scale.ScaleError as error:
            raise CommandError(str(error)) from None

    def _remove(self):
        counts = scale.scale_remove()
        if not counts["plans"] and not counts["lead_units"]:
            self.stdout.write("没有规模测试数据，未做任何修改。")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"已删除规模测试数据：计划 {counts['plans']} 个，事项 {counts['items']} 项，"
                f"月度报告 {counts['reports']} 份，填报数值 {counts['figures']} 条，"
                f"牵头单位 {counts['lead_units']} 个，街镇 {counts['streets']} 个。"
            )
        )

    def _report(self, result):
        spec, counts = result.spec, result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成规模测试数据：{spec.first_year}–{spec.last_year} 年共 {counts['plans']} "
                f"个年度，用时 {result.seconds:.1f} 秒（随机种子 {spec.seed}）。"
            )
        )
        streets = (
            f"其中 {result.real_streets} 个为已有街镇，新建 {counts['streets']} 个"
            if result.real_streets
            else f"新建 {counts['streets']} 个"
        )
        self.stdout.write(
            f"领域 {counts['domains']} 个，事项 {counts['items']} 项，"
            f"指标 {counts['indicators']} 个，月度计划值 {counts['planned_values']} 条；"
            f"已审核月度报告 {counts['reports']} 份，填报数值 {counts['figures']} 条"
            f"（其中分街镇 {counts['street_figures']} 条），节点 {counts['milestones']} 个；"
            f"牵头单位新建 {counts['lead_units']} 个；街镇 {len(range(spec.streets))} 个，"
            f"{streets}。"
        )
        self.stdout.write(
            "全部报告标记为演示数据：公开页面将显示“演示数据”提示。"
            "删除：manage.py generate_scale_data --remove。"
        )
