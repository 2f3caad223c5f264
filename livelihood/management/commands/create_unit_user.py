"""
`manage.py create_unit_user USERNAME --unit CODE` (lead-unit staff), `--street CODE` (a street's
peer-review account, 街镇评价员) or `--coordinator` (区民生办).

The password is read from standard input when it is not a terminal
(`printf '%s\\n' "$PASSWORD" | manage.py create_unit_user …`); otherwise one is generated and
printed once. Either way it must pass the password validators (AUTH_PASSWORD_VALIDATORS).
"""

import secrets
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from livelihood.accounts.models import StaffProfile
from livelihood.accounts.roles import (
    roles_ensure,
    street_group,
)
from livelihood.plan.models import LeadUnit, Street


class Command(BaseCommand):
    help = (
        "创建牵头单位填报员（--unit 单位代码）、街镇评价员（--street 街镇代码）"
        "或区民生办（--coordinator）的后台账号。"
    )
    # Tests hand in standard input, as for Django's createsuperuser.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("username", help="登录账号")
        # One of the two, checked in handle() so that the refusal is in Chinese.
        parser.add_argument("--unit", metavar="CODE", help="牵头单位代码，例如 rsj")
        parser.add_argument(
            "--street", metavar="CODE", help="街镇代码，例如 mingguanglu（只参加互评）"
        )
        parser.add_argument("--coordinator", action="store_true", help="区民生办账号（可查看全部）")
        parser.add_argument("--email", default="", help="电子邮箱（接收催报提醒）")
        parser.add_argument("--name", default="", help="姓名")

    def handle(self, *args, username, unit, street, coordinator, email, name, **options):
        if sum([unit is not None, street is not None, bool(coordinator)]) != 1:
            raise CommandError(
                "请指定 --unit 单位代码、--street 街镇代码 或 --coordinator，三者选一。"
            )
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("账号不能为空。")
        if User._default_manager.filter(**{User.USERNAME_FIELD: username}).exists():
            raise CommandError(f"账号“{username}”已存在，未做任何修改。")
        lead_unit = None
        if unit is not None:
            lead_unit = LeadUnit.objects.filter(code=unit.strip()).first()
            if lead_unit is None:
                codes = "、".join(LeadUnit.objects.values_list("code", flat=True)) or "（尚无）"
                raise CommandError(f"没有代码为“{unit}”的牵头单位。现有单位代码：{codes}。")
        place = None
        if street is not None:
            place = Street.objects.filter(code=street.strip()).first()
            if place is None:
                codes = "、".join(Street.objects.values_list("code", flat=True)) or "（尚无）"
                raise CommandError(f"没有代码为“{street}”的街镇。现有街镇代码：{codes}。")

        user = User(username=username, email=email, first_name=name, is_staff=True)
        password, generated = self.password()
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("密码不符合要求：" + "".join(error.messages)) from None
        user.set_password(password)

        with transaction.atomic():
            office_group, unit_group = roles_ensure()
            user.save()
            if lead_unit:
                user.groups.add(unit_group)
            elif place:
                user.groups.add(street_group())
            else:
                user.groups.add(office_group)
            StaffProfile.objects.create(user=user, lead_unit=lead_unit, street=place)

        if lead_unit:
            role = f"{lead_unit.name}填报员"
        elif place:
            role = f"{place.name}评价员（只参加互评）"
        else:
            role = "区民生办"
        self.stdout.write(self.style.SUCCESS(f"已创建账号“{username}”：{role}。"))
        if generated:
            self.stdout.write(f"初始密码：{password}")
            self.stdout.write("密码只显示这一次，请转交本人，登录后在“修改密码”中更改。")

    def password(self) -> tuple[str, bool]:
        """(password, generated): the first line of standard input when it is not a
        terminal and not empty; else a new random one."""
        stdin = self.stdin
        if not stdin.isatty():
            line = stdin.readline().rstrip("\r\n")
            if line:
                return line, False
        return secrets.token_urlsafe(15), True

    def execute(self, *args, **options):
        self.stdin = options.get("stdin", sys.stdin)
        return super().execute(*args, **options)
