"""
The security log: every failed login, every lockout and every refused admin access is written
to the logger 'livelihood.accounts.security', with the account, the address and the path, so that
the
office can see who tried what.

Failed logins come from Django's `user_login_failed` signal (axes counts them from the same
signal), lockouts from axes' `user_locked_out`; refused access from the 403 handler
(livelihood/public/errors.py: every `PermissionDenied` an admin view raises) and from
`UnitScopedAdmin.get_object()`, which logs a lead-unit user asking for another unit's row (the
admin answers that with a redirect, not a 403).
"""

import ipaddress
import logging

from django.conf import settings
from django.contrib.auth.signals import user_login_failed

logger = logging.getLogger("livelihood.accounts.security")

DISPATCH_PREFIX = "livelihood.accounts.security"


def client_ip(request) -> str | None:
    """The client's address: the one source for login throttling (AXES_CLIENT_IP_CALLABLE),
    the feedback and vote limits (livelihood/voice/ratelimit.py) and the security log.

    REMOTE_ADDR, unless CLIENT_ADDRESS_HEADER names the header a trusted reverse proxy sets.
    Of X-Forwarded-For only the last address counts, the one the proxy itself appended; the
    ones before it are whatever the client sent. Without the setting no forwarded header is
    read at all. A header that is missing or not an address falls back to REMOTE_ADDR (a
    request that did not come through the proxy, such as a health check)."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        meta_key = header.upper().replace("-", "_")
        if not meta_key.startswith("HTTP_"):
            meta_key = f"HTTP_{meta_key}"
        forwarded = request.META.get(meta_key, "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def client_address(request) -> str:
    """The address as the security log writes it."""
    if request is None:
        return "-"
    return client_ip(request) or "-"


def account(request) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "(未登录)"
    return user.get_username()


def login_failed(sender, credentials, request=None, **kwargs):
    logger.warning(
        "登录失败：账号 %s，地址 %s，路径 %s",
        credentials.get("username", "-"),
        client_address(request),
        request.path if request is not None else "-",
    )


def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    logger.warning("账号已锁定：账号 %s，地址 %s（连续登录失败）", username, ip_address)


def access_denied(request, what: str) -> None:
    logger.warning(
        "拒绝访问：账号 %s，地址 %s，%s %s（%s）",
        account(request),
        client_address(request),
        request.method,
        request.get_full_path(),
        what,
    )


def connect():
    from axes.signals import user_locked_out

    user_login_failed.connect(login_failed, dispatch_uid=f"{DISPATCH_PREFIX}.login_failed")
    user_locked_out.connect(locked_out, dispatch_uid=f"{DISPATCH_PREFIX}.locked_out")
