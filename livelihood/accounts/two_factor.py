"""
Two-factor sign-in for staff: a password and the 6-digit code of an authenticator app (TOTP,
django-otp's otp_totp plugin).

- Sign-in (`TwoFactorAuthenticationForm`, the admin's login form): one form, 账号, 密码 and
  动态验证码. An account without a confirmed device leaves the code empty and signs in as
  before; one with a device must give a current code. A wrong code is a failed login: Django's
  `user_login_failed` is sent, so django-axes counts it towards the lockout of the password step
  (AXES_FAILURE_LIMIT) and the security log records it; django-otp's own throttling also makes
  each further code wait twice as long (OTP_TOTP_THROTTLE_FACTOR).
- Each person enrols their own phone on the admin's 两步验证 page (two_factor_views.py); a
  confirmed device makes the session verified (`django_otp.login`), as the code does at sign-in.
- `TwoFactorRequiredMiddleware`: with OTP_REQUIRED_FOR_COORDINATOR (or OTP_REQUIRED_FOR_STAFF)
  on, a signed-in account that must use two-factor sign-in and whose session is not verified
  reaches only the 两步验证 page (and logout) under the admin's address.

One device per account: the enrolment page replaces an unconfirmed device and refuses a second
confirmed one, so sign-in never asks which device.
"""

import base64
import io
import logging
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_totp.models import TOTPDevice

from livelihood.accounts import roles, security

logger = logging.getLogger("livelihood.accounts.security")

DEVICE_NAME = "手机验证器"

CODE_REQUIRED = "该账号已开启两步验证，请输入手机验证器中显示的 6 位动态验证码。"
CODE_WRONG = "动态验证码不正确或已过期，请输入手机验证器中当前显示的 6 位数字。"
CODE_THROTTLED = "动态验证码连续输错，请等待 {seconds} 秒后再输入。"


def code_field(**kwargs) -> forms.CharField:
    """The 6-digit code: digits only, spaces tolerated, the phone's keypad offered."""
    return forms.CharField(
        label="动态验证码",
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "size": 8,
            }
        ),
        **kwargs,
    )


def normalise(code: str) -> str:
    return "".join((code or "").split())


# ------------------------------------------------------------------------------
# Devices
# ------------------------------------------------------------------------------
def confirmed_device(user):
    """The account's confirmed authenticator, or None."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_device(user, *, create: bool = False):
    """The device being enrolled (not yet confirmed); created with a fresh secret when asked."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None and create:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device) -> str:
    """The secret as an authenticator app asks for it when typed in: base32, in groups of 4."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device) -> bytes:
    """The otpauth:// address as an SVG QR code, drawn here: nothing leaves the server."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(
        buffer, kind="svg", scale=5, border=4, dark="#000", light="#fff"
    )
    return buffer.getvalue()


def check_code(device, code: str) -> str:
    """Verify `code` against `device`; returns "" when it is right, else the message to show.

    django-otp's throttling is kept: the failure count is written in its own transaction (a
    refusal must not roll it back) and a device that is waiting refuses even a right code."""
    code = normalise(code)
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, extra = locked.verify_is_allowed()
        if not allowed:
            if extra and extra.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
                wait = (extra["locked_until"] - timezone.now()).total_seconds()
                return CODE_THROTTLED.format(seconds=max(1, int(wait + 0.999)))
            return CODE_WRONG
        # Saves either the accepted time step (a code is accepted once) or one more failure.
        accepted = locked.verify_token(code)
    return "" if accepted else CODE_WRONG


def mark_verified(request, device) -> None:
    """This session has been confirmed with `device` (what django-otp's sign-in does)."""
    otp_login(request, device)


def forget_verification(request) -> None:
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    if hasattr(request.user, "otp_device"):
        request.user.otp_device = None


def log(request, what: str, user=None) -> None:
    """A two-factor event in the security log: who did it, from where, and to whose account."""
    target = user.get_username() if user is not None else security.account(request)
    logger.warning(
        "两步验证：%s；账号 %s，操作人 %s，地址 %s",
        what,
        target,
        security.account(request),
        security.client_address(request),
    )


# ------------------------------------------------------------------------------
# Sign-in
# ------------------------------------------------------------------------------
class TwoFactorAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form with the code on the same page: a clerk sees one form whether
    or not the account has two-factor sign-in, and the code is only looked at once the password
    is right (so the page never tells a stranger which accounts have a device)."""

    otp_token = code_field(
        required=False,
        help_text="已开启两步验证的账号填写手机验证器中的 6 位数字；未开启的请留空。",
    )

    def clean(self):
        cleaned_data = super().clean()
        user = self.get_user()
        if user is None:
            return cleaned_data
        device = confirmed_device(user)
        if device is None:
            return cleaned_data
        code = normalise(cleaned_data.get("otp_token", ""))
        if not code:
            raise forms.ValidationError(CODE_REQUIRED, code="otp_required")
        refusal = check_code(device, code)
        if refusal == CODE_WRONG:
            log(self.request, "登录时动态验证码错误", user)
            # A failed login for django-axes (the lockout) and for the security log. A code
            # refused unread while django-otp makes the account wait is not a guess: not counted.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
        if refusal:
            raise forms.ValidationError(refusal, code="otp_invalid")
        # django_otp's user_logged_in receiver stores the device in the session.
        user.otp_device = device
        return cleaned_data


# ------------------------------------------------------------------------------
# Requirement
# ------------------------------------------------------------------------------
def required_for(user) -> bool:
    """Whether this staff account may use the admin only once its session is verified."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if settings.OTP_REQUIRED_FOR_STAFF:
        return True
    return settings.OTP_REQUIRED_FOR_COORDINATOR and roles.is_coordinator(user)


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class TwoFactorRequiredMiddleware:
    """Under the admin's address, an account that must use two-factor sign-in and whose
    session has not given a code is sent to the 两步验证 page, with a message saying why. The
    page itself, its QR code, login and logout stay open. Public pages are not looked at (they
    must not read the session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.OTP_REQUIRED_FOR_COORDINATOR or settings.OTP_REQUIRED_FOR_STAFF
        ) and request.path.startswith(f"/{settings.ADMIN_URL}"):
            refusal = self.refuse(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def refuse(self, request):
        page = reverse("two-factor")
        open_paths = {reverse("admin:login"), reverse("admin:logout"), reverse("admin:jsi18n")}
        if request.path.startswith(page) or request.path in open_paths:
            return None
        user = request.user
        if not required_for(user) or is_verified(user):
            return None
        if confirmed_device(user) is None:
            text = (
                "按规定，本账号须开启两步验证后才能使用管理后台。"
                "请用手机验证器扫描下方二维码完成设置。"
            )
        else:
            text = "按规定，本账号须输入动态验证码后才能使用管理后台。"
        messages.warning(request, text)
        security.access_denied(request, "未完成两步验证")
        target = page
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
