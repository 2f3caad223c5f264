"""
`manage.py remove_demo`: delete everything `load_demo` created (see livelihood/devdata/demo.py).
"""

from django.core.management.base import BaseCommand, CommandError

from livelihood.devdata import demo


class Command(BaseCommand):
    help = "删除全部演示数据：演示月度报告（含填报数值）、演示节点和演示账号；正式数据不受影响。"

    def handle(self, *args, **options):
        try:
            counts = demo.demo_remove()
        except demo.DemoError as error:
            raise CommandError(str(error)) from None
        if not any(counts.values()):
            self.stdout.write("没有演示数据，无需删除。")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"已删除演示数据：月度报告 {counts['reports']} 份，"
                f"填报数值 {counts['figures']} 条，"
                f"节点 {counts['milestones']} 个，演示账号 {counts['users']} 个；"
                f"{counts['indicators']} 个指标恢复为不分街镇填报。"
            )
        )
        self.stdout.write("用户组“区民生办”“牵头单位”保留，供正式账号使用。")
