"""
`manage.py load_demo`: demo progress for the 2024 plan (see livelihood/devdata/demo.py).
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from livelihood.devdata import demo
from livelihood.progress.arithmetic import STATUS_ORDER


def year_month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"月份格式应为 YYYY-MM，例如 2024-09，实际为 {text!r}。") from None


class Command(BaseCommand):
    help = (
        "为2024年计划生成演示进度数据（已审核的月度报告、节点和演示账号），仅供开发和演示；"
        "已有演示数据时不做任何修改。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--through",
            type=year_month,
            default=None,
            metavar="YYYY-MM",
            help="生成到哪个月（默认 2024-12）",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"随机种子，同一种子生成相同的数据（默认 {demo.DEFAULT_SEED}）",
        )
        parser.add_argument("--force", action="store_true", help="DEBUG 关闭（生产环境）时仍然执行")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="为已有的演示账号重新生成密码并显示（不生成数据）",
        )

    def handle(self, *args, through, seed, force, reset_passwords, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "当前 DEBUG 已关闭，可能是生产环境：演示数据会在所有公开页面显示。"
                "确需生成，请加 --force。"
            )
        try:
            if reset_passwords:
                self._reset_passwords()
                return
            result = demo.demo_load(through=through, seed=seed)
        except demo.DemoError as error:
            raise CommandError(str(error)) from None
        if not result.created:
            names = "、".join(a.username for a in result.accounts) or "（无）"
            self.stdout.write(
                f"演示数据已存在，未做任何修改。演示账号：{names}。\n"
                "密码已在创建时显示过一次；如需重设，请运行 "
                "manage.py load_demo --reset-passwords（将生成并显示新密码）。\n"
                "如需重新生成演示数据，请先运行 manage.py remove_demo。"
            )
            self.stdout.write(self._two_factor())
            return
        self._report(result)

    def _report(self, result):
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成演示数据（截至{result.through.year}年{result.through.month}月，"
                f"随机种子 {result.seed}）。"
            )
        )
        states = "，".join(
            f"{label} {counts[f'reports_{state}']} 份"
            for state, label in demo.State.choices
            if counts[f"reports_{state}"]
        )
        self.stdout.write(
            f"月度报告 {counts['reports']} 份（{states}）；填报数值 {counts['figures']} 条"
            f"（其中分街镇 {counts['street_figures']} 条）；节点 {counts['milestones']} 个。"
        )
        if counts["skipped"]:
            self.stdout.write(f"已有正式报告的 {counts['skipped']} 个月份未生成演示报告。")
        statuses = "，".join(
            f"{status.label} {result.statuses[status]} 项"
            for status in STATUS_ORDER
            if result.statuses[status]
        )
        overdue = "、".join(result.overdue) or "无"
        self.stdout.write(f"事项状态：{statuses}；逾期未报：{overdue}。")
        if result.through.month < 12:
            self.stdout.write(
                f"注意：数据只生成到{result.through.month}月，此后各月的报告按今天的日期均已逾期，"
                "因此多数事项会显示逾期未报。"
            )
        self._passwords(result.accounts, "演示账号已创建")
        self.stdout.write(
            "公开页面将显示“演示数据”提示。删除全部演示数据和演示账号：manage.py remove_demo。"
        )

    def _reset_passwords(self):
        accounts = demo.demo_reset_passwords()
        if not accounts:
            raise CommandError("没有演示账号，请先运行 manage.py load_demo。")
        self._passwords(accounts, "演示账号密码已重设")

    def _passwords(self, accounts, heading):
        rule = "=" * 60
        lines = [rule, f"{heading}（密码只显示这一次，请立即记下）：", ""]
        for account in accounts:
            lines.append(
                f"  账号 {account.username:<18} 密码 {account.password}  （{account.unit}）"
            )
        lines += [
            "",
            f"登录地址：/{settings.ADMIN_URL}",
            "忘记密码：manage.py load_demo --reset-passwords 重新生成并显示新密码。",
            self._two_factor(),
            rule,
        ]
        self.stdout.write("\n".join(lines))

    def _two_factor(self):
        """How to enrol a phone (livelihood/accounts/two_factor.py), and whether it is required
        here."""
        page = f"/{settings.ADMIN_URL}two-factor/"
        if settings.OTP_REQUIRED_FOR_STAFF:
            now = "当前设置要求所有账号开启"
        elif settings.OTP_REQUIRED_FOR_COORDINATOR:
            now = "当前设置要求区民生办账号开启"
        else:
            now = "当前为开发设置，不强制开启"
        return (
            f"两步验证：登录后点击页面右上角“两步验证”（{page}），用手机验证器扫描二维码并输入"
            f" 6 位动态验证码即可开启，此后登录须输入动态验证码。{now}；生产环境"
            "（OTP_REQUIRED_FOR_COORDINATOR=true）区民生办账号（demo-coordinator）必须开启后"
            "才能使用管理后台。"
        )
