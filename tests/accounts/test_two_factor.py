"""Two-factor sign-in for staff (livelihood/accounts/two_factor.py): enrolment, the code at
sign-in, the
requirement for the coordinating office, resets, and the lockout that still guards the
password."""

import io
import os
import subprocess
import sys
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from livelihood.accounts import two_factor
from tests.builders import ROOT

pytestmark = pytest.mark.django_db

PASSWORD = "瑶海民生-两步验证-2024"
User = get_user_model()


def with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def clerk(make_staff, unit):
    return with_password(make_staff("clerk", unit))


@pytest.fixture
def office(make_staff):
    return with_password(make_staff("office"))


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=two_factor.DEVICE_NAME, confirmed=True)


def code(device, steps=0) -> str:
    """The code the phone shows now (steps=1: the next one, still accepted)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong(device) -> str:
    right = {code(device, steps) for steps in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in right)


def log_in(client, username, password=PASSWORD, otp=""):
    return client.post(
        reverse("admin:login"),
        {
            "username": username,
            "password": password,
            "otp_token": otp,
            "next": reverse("admin:index"),
        },
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def page(response) -> str:
    return response.content.decode()


# ------------------------------------------------------------------------------
# Enrolment
# ------------------------------------------------------------------------------
def test_enrolment_shows_a_server_drawn_qr_code_and_the_secret(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("two-factor"))
    assert response.status_code == 200
    text = page(response)
    device = TOTPDevice.objects.get(user=clerk)
    assert not device.confirmed
    assert f'src="{reverse("two-factor-qr")}"' in text
    assert two_factor.secret_base32(device) in text
    assert "style=" not in text.split('id="content-main"')[1]

    qr = client.get(reverse("two-factor-qr"))
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert "no-store" in qr["Cache-Control"]
    assert b"<svg" in qr.content
    assert b"style=" not in qr.content and b"<script" not in qr.content
    assert qr.content == two_factor.qr_svg(device)


def test_the_qr_code_encodes_the_accounts_own_secret_for_an_authenticator_app(clerk):
    device = TOTPDevice.objects.create(user=clerk, confirmed=False)
    secret = two_factor.secret_base32(device).replace(" ", "")
    assert f"secret={secret}" in device.config_url
    assert device.config_url.startswith("otpauth://totp/")
    assert "issuer=" in device.config_url


def test_a_wrong_code_does_not_confirm_the_device(client, clerk):
    client.force_login(clerk)
    client.get(reverse("two-factor"))
    device = TOTPDevice.objects.get(user=clerk)
    response = client.post(reverse("two-factor"), {"action": "confirm", "otp_token": wrong(device)})
    assert response.status_code == 200
    assert "动态验证码不正确或已过期" in page(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_the_right_code_confirms_the_device_and_verifies_the_session(client, clerk, caplog):
    client.force_login(clerk)
    client.get(reverse("two-factor"))
    device = TOTPDevice.objects.get(user=clerk)
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = client.post(
            reverse("two-factor"), {"action": "confirm", "otp_token": code(device)}
        )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert "两步验证已开启" in page(client.get(reverse("two-factor")))
    # The secret is shown only until the device is confirmed.
    assert client.get(reverse("two-factor-qr")).status_code == 404
    assert any("两步验证：已开启；账号 clerk" in r.getMessage() for r in caplog.records)


def test_a_new_secret_can_be_asked_for_before_confirming(client, clerk):
    client.force_login(clerk)
    client.get(reverse("two-factor"))
    first = TOTPDevice.objects.get(user=clerk).key
    client.post(reverse("two-factor"), {"action": "restart"})
    client.get(reverse("two-factor"))
    assert TOTPDevice.objects.get(user=clerk).key != first


def test_the_admin_header_links_to_the_two_factor_page(client, clerk):
    client.force_login(clerk)
    text = page(client.get(reverse("admin:index")))
    assert f'<a href="{reverse("two-factor")}">两步验证</a>' in text


# ------------------------------------------------------------------------------
# Sign-in
# ------------------------------------------------------------------------------
def test_the_login_form_asks_for_the_code(client):
    text = page(client.get(reverse("admin:login")))
    assert "动态验证码" in text
    assert 'name="otp_token"' in text


def test_an_account_without_a_device_signs_in_with_the_password_alone(client, clerk):
    assert log_in(client, "clerk").status_code == 302
    assert signed_in(client)
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_account_with_a_device_signs_in_with_the_right_code(client, clerk):
    device = enrol(clerk)
    response = log_in(client, "clerk", otp=code(device))
    assert response.status_code == 302
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_missing_code_is_asked_for_in_chinese(client, clerk):
    enrol(clerk)
    response = log_in(client, "clerk")
    assert response.status_code == 200
    assert "请输入手机验证器中显示的 6 位动态验证码" in page(response)
    assert not signed_in(client)
    assert not AccessAttempt.objects.exists()


def test_a_wrong_code_is_refused_and_counted_as_a_failed_login(client, clerk, caplog):
    device = enrol(clerk)
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = log_in(client, "clerk", otp=wrong(device))
    assert response.status_code == 200
    assert "动态验证码不正确或已过期" in page(response)
    assert not signed_in(client)
    assert AccessAttempt.objects.get(username="clerk").failures_since_start == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("登录失败：账号 clerk" in m for m in messages)
    assert any("登录时动态验证码错误；账号 clerk" in m for m in messages)


def test_a_code_is_not_looked_at_before_the_password_is_right(client, clerk):
    device = enrol(clerk)
    response = log_in(client, "clerk", password="wrong-password-123", otp=code(device))
    assert response.status_code == 200
    assert "动态验证码" not in "".join(response.context["form"].non_field_errors())
    device.refresh_from_db()
    assert device.last_t == -1  # the code was not used up


def test_after_a_wrong_code_django_otp_makes_the_next_one_wait(client, clerk):
    device = enrol(clerk)
    log_in(client, "clerk", otp=wrong(device))
    response = log_in(client, "clerk", otp=code(device))
    assert "动态验证码连续输错，请等待" in page(response)
    assert not signed_in(client)
    # The waiting code was not read: one failed login, not two.
    assert AccessAttempt.objects.get(username="clerk").failures_since_start == 1
    device.refresh_from_db()
    assert device.last_t == -1


def test_a_code_is_accepted_once(client, clerk):
    device = enrol(clerk)
    once = code(device)
    assert log_in(client, "clerk", otp=once).status_code == 302
    client.logout()
    response = log_in(client, "clerk", otp=once)
    assert response.status_code == 200
    assert not signed_in(client)


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, clerk, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # each code checked: only axes stops them here
    device = enrol(clerk)
    bad = wrong(device)
    for _ in range(9):
        assert log_in(client, "clerk", otp=bad).status_code == 200
    assert log_in(client, "clerk", otp=bad).status_code == 429  # the tenth
    response = log_in(client, "clerk", otp=code(device))
    assert response.status_code == 429
    assert "登录已暂停" in page(response)
    assert not signed_in(client)


def test_wrong_passwords_still_lock_an_account_with_a_device(client, clerk):
    device = enrol(clerk)
    for _ in range(10):
        log_in(client, "clerk", password="wrong-password-123")
    assert log_in(client, "clerk", otp=code(device)).status_code == 429
    assert not signed_in(client)


# ------------------------------------------------------------------------------
# Required for the coordinating office
# ------------------------------------------------------------------------------
def test_the_requirement_is_off_in_development(settings):
    assert settings.DEBUG is False  # the test runner's; the module was read with DEBUG on
    assert settings.OTP_REQUIRED_FOR_COORDINATOR is False
    assert settings.OTP_REQUIRED_FOR_STAFF is False


def settings_in_a_process(**env) -> str:
    """OTP_REQUIRED_* as manage.py reads them from this environment."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTP_", "DJANGO_", "DATABASE_"))
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s; "
            "print(s.OTP_REQUIRED_FOR_COORDINATOR, s.OTP_REQUIRED_FOR_STAFF)",
        ],
        cwd=ROOT,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_requires_it_for_the_office_unless_turned_off():
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}
    assert settings_in_a_process() == "False False"
    assert settings_in_a_process(**production) == "True False"
    assert settings_in_a_process(**production, OTP_REQUIRED_FOR_COORDINATOR="false") == (
        "False False"
    )
    assert settings_in_a_process(OTP_REQUIRED_FOR_STAFF="true") == "False True"


def test_when_off_the_office_uses_the_admin_without_a_device(client, office, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = False
    client.force_login(office)
    assert client.get(reverse("admin:index")).status_code == 200


def test_when_on_the_office_is_sent_to_enrol_before_any_admin_page(client, office, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = True
    client.force_login(office)
    for url in (
        reverse("admin:index"),
        reverse("admin:livelihood_item_changelist"),
        reverse("summary-export"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two-factor") + "?next=")
    response = client.get(reverse("admin:index"), follow=True)
    text = page(response)
    assert "按规定，本账号须开启两步验证后才能使用管理后台" in text
    assert "开启两步验证" in text
    # Refused before the view runs: nothing is written by a POST either.
    response = client.post(reverse("admin:livelihood_plan_add"), {"year": 2031})
    assert response.status_code == 302

    device = TOTPDevice.objects.get(user=office)
    response = client.post(
        reverse("two-factor"),
        {"action": "confirm", "otp_token": code(device), "next": reverse("admin:index")},
    )
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_when_on_an_office_session_without_a_code_must_give_one(client, office, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = True
    device = enrol(office)
    client.force_login(office)  # as a session from before the phone was enrolled
    response = client.get(reverse("admin:livelihood_item_changelist"), follow=True)
    assert "按规定，本账号须输入动态验证码后才能使用管理后台" in page(response)
    assert "输入“瑶海区民生实事平台”下当前显示的 6 位数字" in page(response)
    response = client.post(reverse("two-factor"), {"action": "verify", "otp_token": wrong(device)})
    assert "动态验证码不正确或已过期" in page(response)
    assert client.get(reverse("admin:index")).status_code == 302
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    response = client.post(
        reverse("two-factor"),
        {
            "action": "verify",
            "otp_token": code(device),
            "next": reverse("admin:livelihood_item_changelist"),
        },
    )
    assert response["Location"] == reverse("admin:livelihood_item_changelist")
    assert client.get(reverse("admin:livelihood_item_changelist")).status_code == 200


def test_when_on_the_office_signs_in_with_password_and_code(client, office, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = True
    device = enrol(office)
    assert log_in(client, "office", otp=code(device)).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_when_on_a_superuser_is_held_to_it_too(client, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = True
    admin_user = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_office_setting_leaves_lead_units_alone(client, clerk, settings):
    settings.OTP_REQUIRED_FOR_COORDINATOR = True
    client.force_login(clerk)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:livelihood_monthlyreport_changelist")).status_code == 200


def test_the_staff_setting_holds_lead_units_to_it(client, clerk, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))


def test_public_pages_are_not_held(client, office, plan, settings):
    settings.OTP_REQUIRED_FOR_STAFF = True
    client.force_login(office)
    assert client.get("/").status_code == 200


# ------------------------------------------------------------------------------
# Removal and reset
# ------------------------------------------------------------------------------
def verified_client(client, user):
    device = enrol(user)
    assert log_in(client, user.get_username(), otp=code(device)).status_code == 302
    return device


def test_removing_ones_own_device_needs_the_password(client, clerk, caplog):
    verified_client(client, clerk)
    response = client.post(
        reverse("two-factor"), {"action": "remove", "password": "wrong-password-123"}
    )
    assert "密码不正确" in page(response)
    assert TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = client.post(reverse("two-factor"), {"action": "remove", "password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert any("两步验证：本人已关闭；账号 clerk" in r.getMessage() for r in caplog.records)
    client.logout()
    assert log_in(client, "clerk").status_code == 302  # the password alone again


def test_an_unverified_session_cannot_remove_the_device(client, clerk):
    enrol(clerk)
    client.force_login(clerk)
    client.post(reverse("two-factor"), {"action": "remove", "password": PASSWORD})
    assert TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()


def test_the_office_resets_a_lost_phone_in_the_admin(client, office, clerk, caplog):
    device = enrol(clerk)
    client.force_login(office)
    changelist = client.get(reverse("admin:livelihood_twofactordevice_changelist"))
    assert changelist.status_code == 200
    assert "clerk" in page(changelist)
    assert device.key not in page(changelist)
    delete_url = reverse("admin:livelihood_twofactordevice_delete", args=[device.pk])
    with caplog.at_level("WARNING", logger="livelihood.accounts.security"):
        response = client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    assert any(
        "两步验证：已由管理员重置（删除设备）；账号 clerk，操作人 office" in r.getMessage()
        for r in caplog.records
    )
    assert log_in(client, "clerk").status_code == 302  # signs in to enrol the new phone


def test_the_office_cannot_add_or_change_someone_elses_device(client, office, clerk):
    device = enrol(clerk)
    client.force_login(office)
    assert client.get(reverse("admin:livelihood_twofactordevice_add")).status_code == 403
    change = reverse("admin:livelihood_twofactordevice_change", args=[device.pk])
    client.post(change, {"confirmed": "", "user": office.pk})
    device.refresh_from_db()
    assert device.confirmed and device.user == clerk


def test_a_lead_unit_cannot_see_or_reset_anyone_elses_device(client, clerk, office):
    device = enrol(office)
    client.force_login(clerk)
    assert client.get(reverse("admin:livelihood_twofactordevice_changelist")).status_code == 403
    delete_url = reverse("admin:livelihood_twofactordevice_delete", args=[device.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    # The plugin's own device admin (every secret, every QR code) is not on the site.
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_qr_code_is_only_ever_the_accounts_own(client, clerk, office):
    other = TOTPDevice.objects.create(user=office, confirmed=False)
    client.force_login(clerk)
    assert client.get(reverse("two-factor-qr")).status_code == 404  # clerk has none yet
    client.get(reverse("two-factor"))
    qr = client.get(reverse("two-factor-qr"))
    assert qr.content == two_factor.qr_svg(TOTPDevice.objects.get(user=clerk))
    assert qr.content != two_factor.qr_svg(other)
    assert two_factor.secret_base32(other) not in page(client.get(reverse("two-factor")))


def test_the_office_role_may_view_and_delete_devices_only(make_staff):
    office = make_staff("office")
    assert office.has_perm("livelihood.view_twofactordevice")
    assert office.has_perm("livelihood.delete_twofactordevice")
    assert not office.has_perm("livelihood.add_twofactordevice")
    assert not office.has_perm("livelihood.change_twofactordevice")


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(reverse("two-factor"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("two-factor-qr")).status_code == 302
    assert not TOTPDevice.objects.exists()


# ------------------------------------------------------------------------------
# Demo accounts
# ------------------------------------------------------------------------------
def test_load_demo_tells_how_to_enrol(settings):
    settings.DEBUG = True  # the demo is for development
    call_command("loaddata", "plan_2024", verbosity=0)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "两步验证：登录后点击页面右上角“两步验证”（/admin/two-factor/）" in text
    assert "OTP_REQUIRED_FOR_COORDINATOR=true" in text
    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "演示数据已存在" in again.getvalue()
    assert "/admin/two-factor/" in again.getvalue()
