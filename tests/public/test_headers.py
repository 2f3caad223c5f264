"""
Hardened by configuration (issue 7): with the production environment README documents, the
deploy check is silent, every page type carries the security headers and scores at least 100
on Mozilla's HTTP Observatory (tests/observatory.py), cookies are __Host-, Secure, HttpOnly and
SameSite, and the client's address is read from the configured proxy header only.

Production settings are not copied here: a subprocess imports yaohai_portal/settings.py with
that environment, as gunicorn would, and the tests run the app under what it printed.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client, override_settings
from django.urls import reverse

from tests import observatory
from tests.builders import ROOT

HOST = "ms.yaohai.example.gov.cn"
PASSWORD = "瑶海区民生办-测试口令-2024"

# The block under "Production settings" in README.md, with values an operator would fill in.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k7Gq2vXw9pLm4RtY8sBn3HcJ6dFa1ZeUoWiQxVyTgNrMbKsPlDhEuCjAfS5",
    "DJANGO_ALLOWED_HOSTS": HOST,
    "DJANGO_HTTPS": "true",
    "DJANGO_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "CLIENT_ADDRESS_HEADER": "X-Real-IP",
    "DATABASE_URL": "postgres://yaohai:secret@127.0.0.1:5432/yaohai",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ADMIN_URL": "admin/",
}

# What the tests take over from the production settings (the rest is the test database etc.).
SECURITY_SETTINGS = [
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "VOTER_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "MESSAGE_STORAGE",
    "CONTENT_SECURITY_POLICY",
    "CLIENT_ADDRESS_HEADER",
]

DUMP = (
    "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'yaohai_portal.settings';"
    "from django.conf import settings;"
    "print(json.dumps({name: getattr(settings, name, None) for name in %r}))"
)


def run(args, env):
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV} | env
    return subprocess.run(
        args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def settings_under(env):
    result = run([sys.executable, "-c", DUMP % SECURITY_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture(scope="module")
def production_settings():
    return settings_under(PRODUCTION_ENV)


@pytest.fixture
def production(production_settings):
    """The app as it runs in production; static files found without collectstatic."""
    with override_settings(
        **production_settings, WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True
    ):
        yield production_settings


def https_client(**kwargs):
    """A browser talking to the reverse proxy over HTTPS (the proxy says so in a header)."""
    return Client(
        HTTP_HOST=HOST,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_REAL_IP="203.0.113.7",
        **kwargs,
    )


# ------------------------------------------------------------------------------
# manage.py check --deploy, as an operator runs it
# ------------------------------------------------------------------------------
def test_deploy_check_is_silent_with_the_documented_production_environment():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_deploy_check_fails_without_the_https_switch():
    env = PRODUCTION_ENV | {"DJANGO_HTTPS": "false"}
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_every_production_variable_the_tests_use_is_in_the_readme_block():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## 生产环境 / Production settings", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    documented = set(re.findall(r"^([A-Z_]+)=", block, re.M))
    assert set(PRODUCTION_ENV) <= documented


def test_axes_proxy_count_is_refused_with_a_pointer_to_the_new_setting():
    result = run([sys.executable, "manage.py", "check"], {"AXES_PROXY_COUNT": "1"})
    assert result.returncode != 0
    assert "CLIENT_ADDRESS_HEADER" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------
# Cookies in both modes
# ------------------------------------------------------------------------------
def test_plain_http_development_keeps_plain_cookie_names():
    values = settings_under({"DJANGO_DEBUG": "true"})
    assert values["SESSION_COOKIE_NAME"] == "sessionid"
    assert values["CSRF_COOKIE_NAME"] == "csrftoken"
    assert values["VOTER_COOKIE_NAME"] == "yaohai_voter"
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_production_cookie_names_carry_the_host_prefix(production_settings):
    assert production_settings["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production_settings["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert production_settings["VOTER_COOKIE_NAME"] == "__Host-yaohai_voter"


def cookie_attributes(response, name):
    morsel = response.cookies[name]
    return {
        "secure": bool(morsel["secure"]),
        "httponly": bool(morsel["httponly"]),
        "samesite": morsel["samesite"],
        "path": morsel["path"],
        "domain": morsel["domain"],
    }


HOST_COOKIE = {"secure": True, "httponly": True, "samesite": "Lax", "path": "/", "domain": ""}


@pytest.fixture
def clerk(make_staff, unit):
    user = make_staff("clerk", unit)
    user.set_password(PASSWORD)
    user.save()
    return user


def login(client, username):
    page = client.get(reverse("admin:login"))
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_REFERER=f"https://{HOST}{reverse('admin:login')}",
    )


def test_production_login_sets_host_prefixed_secure_httponly_lax_cookies(production, clerk):
    client = https_client(enforce_csrf_checks=True)
    csrf = cookie_attributes(client.get(reverse("admin:login")), "__Host-csrftoken")
    assert csrf == HOST_COOKIE
    response = login(client, "clerk")
    assert response.status_code == 302, response.content.decode()[:500]
    assert cookie_attributes(response, "__Host-sessionid") == HOST_COOKIE
    assert client.get(reverse("admin:index")).status_code == 200
    assert set(client.cookies) == {"__Host-sessionid", "__Host-csrftoken"}


def test_plain_http_login_still_works_with_plain_names(client, clerk):
    response = login(client, "clerk")
    assert response.status_code == 302
    assert "sessionid" in response.cookies
    assert client.get(reverse("admin:index")).status_code == 200


def test_admin_messages_are_kept_in_the_session_not_a_cookie(production, make_staff):
    office = make_staff("office")
    office.set_password(PASSWORD)
    office.save()
    client = https_client()
    login(client, "office")
    added = client.post(
        reverse("admin:livelihood_leadunit_add"),
        {"code": "jyj", "name": "区教育体育局", "order": "3"},
    )
    assert added.status_code == 302
    assert "messages" not in added.cookies
    # The message is still shown, once, on the next page.
    assert "区教育体育局" in client.get(added["Location"]).content.decode()


def test_the_vote_cookie_is_host_prefixed_in_production(production, make_item):
    item = make_item()
    client = https_client()
    url = reverse("livelihood:item-rate", args=[item.plan.year, item.code])
    response = client.post(url, {"rating": "satisfied"})
    assert response.status_code == 302
    assert cookie_attributes(response, "__Host-yaohai_voter") == HOST_COOKIE


def test_no_script_reads_a_cookie():
    for script in (ROOT / "static" / "js").glob("*.js"):
        assert "document.cookie" not in script.read_text(encoding="utf-8"), script


# ------------------------------------------------------------------------------
# The client address: one source for throttling and rate limits
# ------------------------------------------------------------------------------
def test_forged_forwarded_for_is_ignored_unless_configured(rf, settings):
    from axes.helpers import get_client_ip_address

    from livelihood.accounts.security import client_ip
    from livelihood.voice import ratelimit

    settings.CLIENT_ADDRESS_HEADER = ""
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "198.51.100.4"
    assert get_client_ip_address(request) == "198.51.100.4"
    assert ratelimit.client_address(request) == "198.51.100.4"

    settings.CLIENT_ADDRESS_HEADER = "X-Forwarded-For"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    # Only the proxy's own entry counts; the one the client sent before it does not.
    assert client_ip(request) == get_client_ip_address(request) == "203.0.113.9"
    assert ratelimit.client_address(request) == "203.0.113.9"
    # Not an address: the connecting address, never the text.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(request) == "10.0.0.2"


def test_login_throttling_counts_the_address_the_proxy_names(client, clerk, settings):
    from axes.models import AccessAttempt

    settings.CLIENT_ADDRESS_HEADER = "X-Real-IP"
    client.post(
        reverse("admin:login"),
        {"username": "clerk", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_REAL_IP="203.0.113.50",
        HTTP_X_FORWARDED_FOR="9.9.9.9",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.50"]


# ------------------------------------------------------------------------------
# Headers and the Observatory score of every page type
# ------------------------------------------------------------------------------
POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


@pytest.fixture
def published(plan, make_item, make_indicator, report, unit):
    item = make_item("1-1", title="新增城镇就业")
    indicator = make_indicator(item, "10000")
    report(item, "2024-06", {indicator: "6000"})
    return item


def as_observatory(response, url, http_redirect=None):
    headers = {}
    for name, value in response.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    cookies = [morsel.OutputString() for morsel in response.cookies.values()]
    if cookies:
        headers["set-cookie"] = cookies
    content = b"" if response.streaming else response.content
    return observatory.Response(
        url=url,
        headers=headers,
        body=content.decode("utf-8", "replace")
        if "html" in response.get("Content-Type", "")
        else "",
        http_redirect=http_redirect,
    )


def http_redirect_of(path):
    """Where the same address asked for over plain HTTP sends the browser."""
    response = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="http").get(path)
    return response["Location"] if response.status_code in (301, 302, 307, 308) else None


def page_types(item, clerk_client, office_client):
    year, code = item.plan.year, item.code
    public = https_client(raise_request_exception=False)
    strict = https_client(enforce_csrf_checks=True)
    admin_changelist = reverse("admin:livelihood_item_changelist")
    return [
        ("home", public, "get", reverse("livelihood:home"), 200),
        ("item", public, "get", reverse("livelihood:item-detail", args=[year, code]), 200),
        ("domain", public, "get", reverse("livelihood:domain-detail", args=[year, 1]), 200),
        ("unit", public, "get", reverse("livelihood:unit-detail", args=[year, "rsj"]), 200),
        ("search", public, "get", reverse("livelihood:search", args=[year]) + "?q=就业", 200),
        ("month", public, "get", reverse("livelihood:month-detail", args=[year, "2024-06"]), 200),
        ("about", public, "get", reverse("livelihood:about"), 200),
        ("data", public, "get", reverse("livelihood:data"), 200),
        ("api", public, "get", reverse("livelihood:api-plans"), 200),
        ("xlsx", public, "get", reverse("livelihood:download", args=[year, "items", "xlsx"]), 200),
        ("feed", public, "get", reverse("livelihood:feed"), 200),
        (
            "feedback form",
            public,
            "get",
            reverse("livelihood:item-feedback", args=[year, code]),
            200,
        ),
        ("404", public, "get", f"/{year}/no-such-page/", 404),
        ("403", clerk_client, "get", reverse("admin:auth_user_changelist"), 403),
        ("500", public, "get", "/__broken__/", 500),
        ("503", public, "get", "/__outage__/", 503),
        ("csrf", strict, "post", reverse("livelihood:item-feedback", args=[year, code]), 403),
        ("admin login", https_client(), "get", reverse("admin:login"), 200),
        ("admin changelist", office_client, "get", admin_changelist, 200),
        ("static", public, "get", "/static/css/site.css", 200),
    ]


@override_settings(ROOT_URLCONF="tests.urls_headers")
def test_every_page_type_has_the_headers_and_scores_at_least_100(
    production, published, clerk, make_staff
):
    office = make_staff("office")
    office.set_password(PASSWORD)
    office.save()
    clerk_client, office_client = https_client(), https_client()
    assert login(clerk_client, "clerk").status_code == 302
    assert login(office_client, "office").status_code == 302
    scores, problems = {}, []
    for name, client, method, path, status in page_types(published, clerk_client, office_client):
        response = getattr(client, method)(path)
        if response.status_code != status:
            problems.append(f"{name}: status {response.status_code}, expected {status}")
            continue
        policy = observatory.parse_csp([response.get("Content-Security-Policy", "")])
        if policy != observatory.parse_csp([POLICY]):
            problems.append(f"{name}: Content-Security-Policy is {policy}")
        expected = {
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
            "X-Frame-Options": "DENY",
        }
        for header, value in expected.items():
            if response.get(header) != value:
                problems.append(f"{name}: {header} is {response.get(header)!r}")
        if response.cookies and any(not c.startswith("__Host-") for c in response.cookies):
            problems.append(f"{name}: sets {sorted(response.cookies)}")
        url = f"https://{HOST}{path}"
        result = observatory.score(as_observatory(response, url, http_redirect_of(path)))
        scores[name] = result.total
        if result.total < 100:
            problems.append(f"{name}: Observatory {result.total} ({result.explain()})")
    print("Observatory scores:", scores)
    assert not problems, "\n".join(problems)


def test_plain_http_is_redirected_to_the_same_host_over_https(production):
    response = Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="http").get("/about/")
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/about/"
    # The load balancer's health check comes over plain HTTP from inside the network.
    assert Client(HTTP_HOST=HOST, HTTP_X_FORWARDED_PROTO="http").get("/healthz").status_code == 200


def test_a_forged_proto_header_cannot_fake_https_without_the_setting(settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    request = HttpRequest()
    request.META = {"HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "http"}
    assert request.is_secure() is False


# ------------------------------------------------------------------------------
# The scorer itself: it must be able to fail
# ------------------------------------------------------------------------------
GOOD = {
    "content-security-policy": [POLICY],
    "strict-transport-security": ["max-age=31536000; includeSubDomains"],
    "x-content-type-options": ["nosniff"],
    "referrer-policy": ["same-origin"],
    "x-frame-options": ["DENY"],
    "content-type": ["text/html; charset=utf-8"],
}
REDIRECT = "https://example.gov.cn/"


def graded(headers, body="<p>no scripts</p>", redirect=REDIRECT, url="https://example.gov.cn/"):
    return observatory.score(observatory.Response(url, headers, body, http_redirect=redirect))


def test_scorer_gives_the_portal_headers_115():
    # 100 + CSP without unsafe sources (+5) + frame-ancestors (+5) + private referrer (+5).
    assert graded(GOOD).total == 115


def test_scorer_without_csp_falls_below_100():
    headers = {k: v for k, v in GOOD.items() if k != "content-security-policy"}
    result = graded(headers)
    assert result.results["content-security-policy"] == "csp-not-implemented"
    # -25, and the bonuses are lost below 90: 75.
    assert result.total == 75


def test_scorer_penalises_unsafe_inline_scripts_and_broad_objects():
    unsafe = GOOD | {
        "content-security-policy": ["default-src 'self'; script-src 'self' 'unsafe-inline'"]
    }
    assert graded(unsafe).results["content-security-policy"] == "csp-implemented-with-unsafe-inline"
    assert graded(unsafe).total < 100
    nonce = GOOD | {
        "content-security-policy": [
            "default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'; frame-ancestors 'none'"
        ]
    }
    assert graded(nonce).results["content-security-policy"] == "csp-implemented-with-no-unsafe"


def test_scorer_cookie_rules():
    insecure_session = GOOD | {"set-cookie": ["sessionid=abc; HttpOnly; Path=/; SameSite=Lax"]}
    assert graded(insecure_session).results["cookies"] == (
        "cookies-session-without-secure-flag-but-protected-by-hsts"
    )
    # -10, but still 90 without bonuses, so they count: 105.
    assert graded(insecure_session).total == 105
    no_hsts = {k: v for k, v in insecure_session.items() if k != "strict-transport-security"}
    assert graded(no_hsts).results["cookies"] == "cookies-session-without-secure-flag"
    assert graded(no_hsts).total == 40
    readable = GOOD | {"set-cookie": ["__Host-sessionid=a; Secure; Path=/; SameSite=Lax"]}
    assert graded(readable).results["cookies"] == "cookies-session-without-httponly-flag"
    good = GOOD | {"set-cookie": ["__Host-sessionid=a; HttpOnly; Secure; Path=/; SameSite=Lax"]}
    assert graded(good).total == 120


def test_scorer_hsts_redirect_nosniff_and_framing():
    no_hsts = {k: v for k, v in GOOD.items() if k != "strict-transport-security"}
    assert graded(no_hsts).total == 80
    short = GOOD | {"strict-transport-security": ["max-age=86400"]}
    assert graded(short).total == 90 + 15
    assert graded(GOOD, redirect=None).total == 80
    assert graded(GOOD, redirect="https://elsewhere.example.com/").total < 115
    no_sniff = {k: v for k, v in GOOD.items() if k != "x-content-type-options"}
    assert graded(no_sniff).total == 110
    framable = GOOD | {"content-security-policy": ["default-src 'self'"]}
    framable = {k: v for k, v in framable.items() if k != "x-frame-options"}
    assert graded(framable).results["x-frame-options"] == "x-frame-options-not-implemented"


def test_scorer_subresource_integrity_and_cors():
    external = '<script src="https://cdn.example.com/lib.js"></script>'
    assert graded(GOOD, body=external).results["subresource-integrity"] == (
        "sri-not-implemented-but-external-scripts-loaded-securely"
    )
    plain = '<script src="http://cdn.example.com/lib.js"></script>'
    assert graded(GOOD, body=plain).total < 100
    own = '<script src="/static/js/report-draft.js"></script>'
    assert graded(GOOD, body=own).total == 115
    reflected = GOOD | {
        "access-control-allow-origin": ["https://http-observatory.security.mozilla.org"],
        "access-control-allow-credentials": ["true"],
    }
    assert graded(reflected).total < 100


def test_the_lockout_page_has_the_headers_and_scores_at_least_100(production, clerk, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = https_client()
    form = {"username": "clerk", "password": "wrong"}
    for _ in range(2):
        client.post(reverse("admin:login"), form, HTTP_REFERER=f"https://{HOST}/")
    locked = client.post(reverse("admin:login"), form, HTTP_REFERER=f"https://{HOST}/")
    assert locked.status_code == 429
    assert observatory.parse_csp([locked["Content-Security-Policy"]]) == (
        observatory.parse_csp([POLICY])
    )
    path = reverse("admin:login")
    result = observatory.score(
        as_observatory(locked, f"https://{HOST}{path}", http_redirect_of(path))
    )
    assert result.total >= 100, result.explain()
