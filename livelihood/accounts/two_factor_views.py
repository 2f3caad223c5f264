"""
The admin's 两步验证 page: each staff member enrols, confirms and removes their own
authenticator app (livelihood/accounts/two_factor.py has the rules). The office resets someone
else's
device in the admin (livelihood/accounts/admin.py).

The page shows one of three things:
- no confirmed device: the QR code (an <img> of `qr.svg`, drawn on the server), the secret in
  base32 for typing in, and a field for the first code, which confirms the device;
- a confirmed device, this session not yet verified: a field for the code;
- a confirmed device, verified: that it is on, and a form to remove it (the password again).

`two_factor_urlpatterns` is included under the admin's path, ahead of the admin itself, in
yaohai_portal/urls.py; every view is wrapped in `admin.site.admin_view` (staff only, never
cached, CSRF-protected).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import authenticate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from livelihood.accounts import two_factor


class CodeForm(forms.Form):
    otp_token = two_factor.code_field(
        required=True, error_messages={"required": "请输入 6 位动态验证码。"}
    )


class RemoveForm(forms.Form):
    password = forms.CharField(
        label="当前登录密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入当前登录密码。"},
    )


def _page(request):
    return reverse("two-factor")


@require_http_methods(["GET", "POST"])
def two_factor_page(request):
    user = request.user
    device = two_factor.confirmed_device(user)
    verified = two_factor.is_verified(user)
    action = request.POST.get("action") if request.method == "POST" else None
    code_form = CodeForm(request.POST if action in {"confirm", "verify"} else None)
    remove_form = RemoveForm(request.POST if action == "remove" else None)

    if action == "restart" and device is None:
        # A new secret: the old QR code (a photo of the screen, say) no longer enrols anyone.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        messages.info(request, "已重新生成密钥，请扫描新的二维码。")
        return redirect(_page(request))

    if action == "confirm" and device is None:
        pending = two_factor.pending_device(user)
        if pending is None:
            return redirect(_page(request))
        if code_form.is_valid():
            refusal = two_factor.check_code(pending, code_form.cleaned_data["otp_token"])
            if refusal:
                two_factor.log(request, "开启时动态验证码错误")
                code_form.add_error("otp_token", refusal)
            else:
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=user).exclude(pk=pending.pk).delete()
                two_factor.mark_verified(request, pending)
                two_factor.log(request, "已开启")
                messages.success(
                    request, "两步验证已开启。今后登录时，请在密码之后输入动态验证码。"
                )
                return redirect(two_factor.safe_next(request, _page(request)))

    if action == "verify" and device is not None and not verified:
        if code_form.is_valid():
            refusal = two_factor.check_code(device, code_form.cleaned_data["otp_token"])
            if refusal:
                two_factor.log(request, "验证时动态验证码错误")
                code_form.add_error("otp_token", refusal)
            else:
                two_factor.mark_verified(request, device)
                messages.success(request, "动态验证码正确，已完成验证。")
                return redirect(two_factor.safe_next(request, reverse("admin:index")))

    if action == "remove" and device is not None and verified:
        if remove_form.is_valid():
            # authenticate(): a wrong password here counts towards the django-axes lockout.
            again = authenticate(
                request,
                username=user.get_username(),
                password=remove_form.cleaned_data["password"],
            )
            if again is None or again.pk != user.pk:
                remove_form.add_error("password", "密码不正确。")
            else:
                TOTPDevice.objects.filter(user=user).delete()
                two_factor.forget_verification(request)
                two_factor.log(request, "本人已关闭")
                messages.success(
                    request, "两步验证已关闭。如需重新开启（例如更换手机），请扫描下方新的二维码。"
                )
                return redirect(_page(request))

    pending = None
    if device is None:
        pending = two_factor.pending_device(user, create=True)
    context = {
        **admin.site.each_context(request),
        "title": "两步验证",
        "issuer": settings.OTP_TOTP_ISSUER,
        "device": device,
        "verified": verified,
        "pending": pending,
        "secret": two_factor.secret_base32(pending) if pending else "",
        "code_form": code_form,
        "remove_form": remove_form,
        "required": two_factor.required_for(user),
        "next": two_factor.safe_next(request, ""),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/two_factor.html", context)


@require_http_methods(["GET"])
def two_factor_qr(request):
    """The QR code of the account's own device being enrolled; nothing once it is confirmed
    (the secret is shown only until then)."""
    pending = two_factor.pending_device(request.user)
    if pending is None or two_factor.confirmed_device(request.user) is not None:
        raise Http404
    response = HttpResponse(two_factor.qr_svg(pending), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store, private"
    return response


two_factor_urlpatterns = [
    path("", admin.site.admin_view(two_factor_page), name="two-factor"),
    path("qr.svg", admin.site.admin_view(two_factor_qr), name="two-factor-qr"),
]
