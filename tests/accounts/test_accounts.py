"""Accounts: creating staff accounts, login throttling, passwords, idle sessions, and the
security log."""

import datetime
import io
import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from livelihood.models import StaffProfile
from tests.builders import ROOT

pytestmark = pytest.mark.django_db

PASSWORD = "瑶海民生-填报-2024"
User = get_user_model()


class Typed(io.StringIO):
    """Standard input from a terminal: nothing is read from it."""

    def isatty(self):
        return True


def create(*args, stdin=None):
    out = io.StringIO()
    call_command("create_unit_user", *args, stdin=stdin or Typed(""), stdout=out)
    return out.getvalue()


# ------------------------------------------------------------------------------
# create_unit_user
# ------------------------------------------------------------------------------
def test_create_unit_user_reads_the_password_from_standard_input(unit):
    output = create("zhang", "--unit", "rsj", stdin=io.StringIO(PASSWORD + "\n"))
    user = User.objects.get(username="zhang")
    assert user.is_staff and not user.is_superuser
    assert user.check_password(PASSWORD)
    assert user.staff_profile.lead_unit == unit
    assert list(user.groups.values_list("name", flat=True)) == ["牵头单位填报员"]
    assert user.has_perm("livelihood.change_monthlyreport")
    assert not user.has_perm("livelihood.change_item")
    assert "区人力资源和社会保障局填报员" in output
    assert PASSWORD not in output


def test_create_unit_user_generates_and_prints_a_password_on_a_terminal(unit):
    output = create("li", "--coordinator")
    password = next(
        line.removeprefix("初始密码：") for line in output.splitlines() if "初始密码" in line
    )
    user = User.objects.get(username="li")
    assert user.check_password(password)
    assert len(password) >= 12
    assert user.staff_profile.lead_unit is None
    assert list(user.groups.values_list("name", flat=True)) == ["区民生办"]
    assert user.has_perm("livelihood.change_item")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("wang", "--unit", "nosuch"), "没有代码为“nosuch”的牵头单位。现有单位代码：rsj"),
        (("wang",), "请指定 --unit 单位代码、--street 街镇代码 或 --coordinator"),
        (("wang", "--unit", "rsj", "--coordinator"), "三者选一"),
        (("wang", "--unit", "rsj", "--street", "mingguanglu"), "三者选一"),
    ],
)
def test_create_unit_user_refuses_with_a_clear_message(unit, args, message):
    with pytest.raises(CommandError, match=message):
        create(*args, stdin=io.StringIO(PASSWORD + "\n"))
    assert not User.objects.filter(username="wang").exists()


def test_create_unit_user_refuses_an_existing_username(unit):
    existing = User.objects.create_user("zhao", password=PASSWORD)
    with pytest.raises(CommandError, match="账号“zhao”已存在"):
        create("zhao", "--unit", "rsj", stdin=io.StringIO("另一个足够长的密码-2024\n"))
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert not StaffProfile.objects.exists()


def test_create_unit_user_runs_the_password_validators(unit):
    with pytest.raises(CommandError, match=r"密码不符合要求：.*12"):
        create("qian", "--unit", "rsj", stdin=io.StringIO("short-1\n"))
    assert not User.objects.filter(username="qian").exists()


def test_create_unit_user_exits_non_zero_on_refusal(unit, capsys):
    utility = ManagementUtility(["manage.py", "create_unit_user", "sun", "--unit", "nosuch"])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code != 0
    assert "没有代码为" in capsys.readouterr().err


# ------------------------------------------------------------------------------
# Login throttling (django-axes)
# ------------------------------------------------------------------------------
@pytest.fixture
def clerk(unit):
    user = User.objects.create_user("clerk", password=PASSWORD, is_staff=True)
    StaffProfile.objects.create(user=user, lead_unit=unit)
    return user


def log_in(client, username, password):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )


def fail(client, times, username="clerk"):
    for _ in range(times):
        response = log_in(client, username, "wrong-password-123")
    return response


def test_ten_failures_lock_the_account_with_a_chinese_page(client, clerk):
    assert settings.AXES_FAILURE_LIMIT == 10
    fail(client, 9)
    assert log_in(client, "clerk", "wrong-password-123").status_code == 429  # the tenth
    response = log_in(client, "clerk", PASSWORD)  # even the right password
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录已暂停" in text
    assert "连续输错 10 次" in text
    assert "15 分钟" in text
    assert '<html lang="zh-Hans">' in text
    assert "_auth_user_id" not in client.session


def test_lockout_ends_after_the_cool_off(client, clerk):
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    fail(client, 10)
    assert log_in(client, "clerk", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert log_in(client, "clerk", PASSWORD).status_code == 302


def test_another_username_from_the_same_address_is_not_locked_out(client, clerk, other_unit):
    User.objects.create_user("colleague", password=PASSWORD, is_staff=True)
    fail(client, 10)
    response = log_in(client, "colleague", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="colleague").pk)


def test_the_username_is_locked_from_every_address(clerk):
    for number in range(10):
        fail(Client(REMOTE_ADDR=f"10.0.0.{number}"), 1)
    response = log_in(Client(REMOTE_ADDR="10.0.1.1"), "clerk", PASSWORD)
    assert response.status_code == 429


def test_a_successful_login_resets_the_count(client, clerk):
    fail(client, 9)
    assert log_in(client, "clerk", PASSWORD).status_code == 302
    client.logout()
    fail(client, 9)
    assert log_in(client, "clerk", PASSWORD).status_code == 302


def test_tests_log_in_through_axes_with_a_request(client, clerk):
    assert client.login(request=HttpRequest(), username="clerk", password=PASSWORD)


def test_failed_logins_and_lockouts_are_logged(client, clerk, caplog):
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        fail(client, 10)
    messages = [r.getMessage() for r in caplog.records if r.name == "livelihood.accounts.security"]
    assert sum("登录失败：账号 clerk" in m for m in messages) == 10
    assert any("账号已锁定：账号 clerk" in m for m in messages)


# ------------------------------------------------------------------------------
# Passwords, sessions, denied access, the admin's name and address
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["short-pw-1", "123456789012345", "password1234"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_passphrase_is_accepted():
    validate_password(PASSWORD)


def test_admin_sessions_expire_after_the_idle_time(client, clerk):
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    # Every request renews the cookie for another idle period.
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 60


def test_public_pages_set_no_session_cookie(client, plan):
    response = client.get("/")
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_denied_access_is_logged_and_answered_in_chinese(client, clerk, caplog):
    client.force_login(clerk)
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = client.get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert any(
        "拒绝访问：账号 clerk" in r.getMessage() and "/auth/user/" in r.getMessage()
        for r in caplog.records
    )


def test_the_admin_is_titled_for_the_portal(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:index")).content.decode()
    assert "瑶海区民生实事进度公开平台 · 管理后台" in page


def settings_value(expression, **env):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", f"print({expression})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_idle_time_and_admin_address_come_from_the_environment():
    expression = (
        "__import__('django.conf').conf.settings.SESSION_COOKIE_AGE, "
        "__import__('django.urls').urls.reverse('admin:index')"
    )
    assert settings_value(expression, SESSION_IDLE_MINUTES="45", ADMIN_URL="office") == (
        "2700 /office/"
    )
