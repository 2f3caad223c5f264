"""
EMAIL_URL → Django's email settings, in the manner of DATABASE_URL:

    (unset) or console://     mails are written to the console (development)
    smtp://user:pass@host:587 SMTP with STARTTLS (port 587 by default)
    smtps://user:pass@host    SMTP over implicit TLS (port 465 by default)
    smtp+plain://host:25      SMTP without encryption (a relay on the same machine)
    locmem://                 kept in memory (tests)

The user name and password are URL-encoded (an @ in a user name is %40). A query string is
ignored. A scheme not above, or an SMTP URL without a host or with a port that is not a
number, stops the start with ImproperlyConfigured, in Chinese.

Why not dj-email-url (issue 15): its schemes mean other things. Its smtp:// is SMTP without
encryption on port 25, where here it is STARTTLS on 587, so every deployment's
smtp://user:password@host:587 would log in without TLS; its smtps:// is STARTTLS (with a
deprecation warning), not TLS on 465; smtp+plain:// and locmem:// it does not know, nor any
misspelt scheme: it then sets EMAIL_BACKEND to None, and smtp:// without a host becomes
localhost, all without an error. Keeping this syntax on top of it would take a scheme
translation and the same checks as here, for what is left, urlsplit() and unquote(); and it
has had no release since 2022.
"""

from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+plain": "django.core.mail.backends.smtp.EmailBackend",
}
DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "smtp+plain": 25}


def parse(url: str) -> dict:
    """The EMAIL_* settings an EMAIL_URL stands for."""
    url = (url or "").strip() or "console://"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_URL 的协议 {scheme or '（空）'} 不受支持，"
            "应为 smtp://、smtps://、smtp+plain://、console:// 或 locmem://。"
        )
    settings = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme in DEFAULT_PORTS:
        if not parts.hostname:
            raise ImproperlyConfigured(
                "EMAIL_URL 缺少邮件服务器地址，例如 smtp://用户:密码@主机:587。"
            )
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ImproperlyConfigured("EMAIL_URL 的端口应为数字。") from None
        settings.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=port,
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=scheme == "smtp",
            EMAIL_USE_SSL=scheme == "smtps",
            EMAIL_TIMEOUT=10,
        )
    return settings
