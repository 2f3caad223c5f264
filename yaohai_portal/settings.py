"""
Settings for 瑶海区民生实事进度公开平台.

Every value that differs between deployments comes from an environment variable with a safe
development default: `make run` needs none of them. README.md lists them all.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from yaohai_portal import email_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"环境变量 {name} 应为 true 或 false，实际为 {value!r}。")


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_int(name: str, default: int, low: int, high: int, what: str = "整数") -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ImproperlyConfigured(
            f"环境变量 {name} 应为 {low} 到 {high} 之间的{what}，实际为 {raw!r}。"
        )
    return value


# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-yaohai-portal"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_DEBUG 关闭时必须设置 DJANGO_SECRET_KEY。")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # whitenoise before staticfiles so that runserver serves files as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    # Who changed what and when (issue 4): items, indicators, reports, figures, milestones.
    "simple_history",
    # Login throttling: failed logins counted in the database, shared by every app server
    # (its admin under a Chinese name: livelihood/accounts/axes_app.py).
    "livelihood.accounts.axes_app.AxesConfig",
    # Two-factor sign-in for staff (TOTP). Before livelihood: livelihood/accounts/admin.py
    # replaces the plugin's own device admin, which must have been registered first.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Background work (issue 16): Django's tasks framework, backported, and its database
    # backend (the tasks wait in a table; `manage.py db_worker` runs them). Before livelihood:
    # livelihood/operations/admin.py replaces the backend's admin of task results, and the
    # backend's admin is under a Chinese name (livelihood/operations/tasks_app.py).
    "django_tasks",
    "livelihood.operations.tasks_app.TasksDatabaseConfig",
    "livelihood",
]

MIDDLEWARE = [
    # First, so that the Content-Security-Policy is on every response: static files that
    # whitenoise answers early, error pages and the CSRF refusal included (issue 7).
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # https://whitenoise.readthedocs.io/en/stable/django.html#enable-whitenoise
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compressed for residents on phones (static files come compressed from whitenoise,
    # cached pages from livelihood/public/cache.py). Above everything that writes the body. BREACH:
    # public pages carry no secret; admin pages carry CSRF tokens, which Django masks anew for
    # every response, and this middleware pads its output with random bytes.
    "django.middleware.gzip.GZipMiddleware",
    # Cached public pages for anonymous visitors, answered here: what is above runs on them as
    # on every answer (the security headers, compression); what is beneath (sessions, CSRF,
    # authentication, two-factor, messages, lockouts) and the view do not run, and the
    # headers they add were stored with the page when it was rendered through them
    # (livelihood/public/cache.py, "Early hits").
    "livelihood.public.cache.EarlyHitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session was confirmed with a TOTP code.
    "django_otp.middleware.OTPMiddleware",
    # Records the signed-in user on every history row a request writes.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sends staff who must use two-factor sign-in and have not to the 两步验证 page.
    "livelihood.accounts.two_factor.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login into the lockout page (templates/axes/lockout.html).
    # https://django-axes.readthedocs.io/en/latest/2_installation.html
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yaohai_portal.urls"
WSGI_APPLICATION = "yaohai_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "livelihood.public.context_processors.portal",
            ],
        },
    },
]

# ------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------
# Embedded SQLite by default; DATABASE_URL (postgres://user:pass@host:5432/name) switches to
# PostgreSQL through psycopg 3. https://github.com/jazzband/dj-database-url
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    try:
        _database = dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    except Exception as exc:  # dj-database-url raises several types for one cause
        raise ImproperlyConfigured(
            f"无法解析 DATABASE_URL（{exc}）。格式应为 postgres://用户:密码@主机:5432/库名。"
        ) from None
    if _database.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_URL 只支持 PostgreSQL（postgres:// 或 postgresql://）；"
            "不设置 DATABASE_URL 则使用内置 SQLite。"
        )
    if not _database.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_URL 缺少数据库名，例如 postgres://postgres@127.0.0.1:5432/yaohai。"
        )
    _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    # WAL lets readers run while one writer writes; the busy timeout and IMMEDIATE
    # transactions make a second gunicorn worker wait for the lock instead of failing with
    # "database is locked". https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-notes
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # Opening a connection registers Django's SQL functions and runs the PRAGMAs above:
        # kept, a cached page costs one query and no connect (bench/, docs/performance.md).
        "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    }
DATABASES = {"default": _database}
# An optional PostgreSQL read replica (streaming replication of the primary above): the public
# pages read from it, everything else from the primary (livelihood/operations/routers.py,
# docs/deploy.md). Unset, every query goes to the one database, as before.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    if _database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL 需要主库也是 PostgreSQL（DATABASE_URL）。")
    try:
        _replica = dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=_database["CONN_MAX_AGE"], conn_health_checks=True
        )
    except Exception as exc:
        raise ImproperlyConfigured(f"无法解析 DATABASE_REPLICA_URL（{exc}）。") from None
    if _replica.get("ENGINE") != "django.db.backends.postgresql" or not _replica.get("NAME"):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL 应为 postgres://用户:密码@主机:5432/库名（只读副本）。"
        )
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Tests read the replica as the primary itself: no second test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["livelihood.operations.routers.PublicReadRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------
# Authentication
# ------------------------------------------------------------------------------
# AxesStandaloneBackend first: it refuses a locked-out login before any password is checked.
# Tests that are not about logging in use `client.force_login()`; a test that logs in through
# `client.login()` passes `request=HttpRequest()`, which axes needs.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures a username is locked for
# the cool-off, whether the attempts came from one address (username + IP) or from many
# (username alone). Another username from the same address is not locked: offices share one
# public address. A successful login clears the count. The counts live in the database (the
# default handler), so every app server sees them.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# Failed logins and lockouts are logged once, in Chinese, by livelihood/accounts/security.py.
AXES_VERBOSE = False
# The client's address comes from livelihood.accounts.security.client_ip (REMOTE_ADDR, or the header
# CLIENT_ADDRESS_HEADER names), the same function the feedback and vote limits count with.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html#configuring-reverse-proxies
AXES_CLIENT_IP_CALLABLE = "livelihood.accounts.security.client_ip"
if os.environ.get("AXES_PROXY_COUNT"):
    # Replaced by CLIENT_ADDRESS_HEADER (one source for throttling and rate limits). Refused
    # rather than ignored: ignored, every login would seem to come from the proxy.
    raise ImproperlyConfigured(
        "AXES_PROXY_COUNT 已停用，请删除它并改设 CLIENT_ADDRESS_HEADER"
        "（反向代理写入客户端地址的请求头，例如 X-Forwarded-For）。"
    )

# Staff sessions end after this many minutes without a request: each request renews the
# cookie (SESSION_SAVE_EVERY_REQUEST), so the age is an idle time, not a lifetime. Only the
# admin signs people in; public pages set no session.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
if SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES 应为正整数（分钟）。")
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True

# django-import-export lets every staff user import and export unless these are set: importing
# needs the model's "change" permission and exporting its "view" permission, and the rows are
# the admin's get_queryset() (a lead unit's own). https://django-import-export.readthedocs.io/
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# Spreadsheet imports (livelihood/data/reading.py): a file larger than IMPORT_MAX_BYTES or with more
# than IMPORT_MAX_ROWS data rows is refused with a message. Between the preview and the
# confirmation an upload is kept in the database (not on an app server's disk, never under the
# web root), bound to the account; it is deleted on confirm or cancel, and after a day.
# https://django-import-export.readthedocs.io/en/latest/installation.html#import-export-tmp-storage-class
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "5000"))
IMPORT_EXPORT_TMP_STORAGE_CLASS = "livelihood.data.reading.DatabaseStorage"

# ------------------------------------------------------------------------------
# Two-factor sign-in (issue 7)
# ------------------------------------------------------------------------------
# Staff add an authenticator app (TOTP, django-otp) on the admin's 两步验证 page and then
# sign in with their password and the app's 6-digit code (livelihood/accounts/two_factor.py).
# https://django-otp-official.readthedocs.io/en/stable/overview.html
# Required for the coordinating office (区民生办 and superusers, roles.is_coordinator): a
# signed-in office account that has not entered a code reaches only the 两步验证 page. Off by
# default while DEBUG is on (`make run`), on by default when it is off (production).
OTP_REQUIRED_FOR_COORDINATOR = env_bool("OTP_REQUIRED_FOR_COORDINATOR", not DEBUG)
# The same for every staff account, lead units and streets included.
OTP_REQUIRED_FOR_STAFF = env_bool("OTP_REQUIRED_FOR_STAFF", False)
# The name the authenticator app shows next to the account.
OTP_TOTP_ISSUER = "瑶海区民生实事平台"
# A wrong code doubles the wait before the next one is checked (1, 2, 4 … seconds); wrong codes
# at sign-in also count as failed logins for django-axes (AXES_FAILURE_LIMIT above).
OTP_TOTP_THROTTLE_FACTOR = 1

# ------------------------------------------------------------------------------
# Security: headers, cookies, Content-Security-Policy (issue 7)
# ------------------------------------------------------------------------------
# One production switch: DJANGO_HTTPS=true says the site is served over HTTPS (by the app or,
# usually, by a reverse proxy in front of it). It turns on the HTTPS redirect, HSTS, Secure
# cookies and their __Host- names. Off (the default, `make run` over plain HTTP), cookies keep
# their plain names: a browser refuses a __Host- cookie that is not Secure, and login breaks.
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/#https
HTTPS = env_bool("DJANGO_HTTPS", False)

# Behind a reverse proxy that terminates TLS, the proxy says so in a header; name it
# (DJANGO_PROXY_SSL_HEADER=X-Forwarded-Proto) and the app treats "https" there as a secure
# request. Only with a proxy that overwrites the header: a client could send it otherwise.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
_proxy_ssl_header = os.environ.get("DJANGO_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_ssl_header.upper().replace("-", "_").removeprefix("HTTP_"),
        "https",
    )

# Django's SecurityMiddleware adds these to every response, static files included (it sits
# before whitenoise): HSTS only on responses to HTTPS requests, as browsers ignore it on HTTP.
SECURE_SSL_REDIRECT = HTTPS
# A load balancer's health checks come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# `preload` asks browsers' built-in lists to pin the whole registrable domain (and every
# subdomain) to HTTPS for good; that is a decision for the domain's owner, not this app, and
# the directive does nothing for a host that is not the registrable domain itself. Off, the
# deploy check's reminder (security.W021) is silenced rather than answered blindly.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookies: every cookie the site sets is listed here. Session (staff only), CSRF (staff and
# residents' forms) and the satisfaction vote's token (livelihood/voice/satisfaction.py). Admin
# messages are kept in the session, so no `messages` cookie is ever set. SameSite=Lax rather
# than Strict: a clerk who follows a link to the admin from a reminder or notification mail
# arrives signed in (Strict would drop the session on that first request); Lax still keeps
# every cookie off cross-site POSTs, which is what CSRF needs.
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Cookies#cookie_prefixes
COOKIE_PREFIX = "__Host-" if HTTPS else ""
SESSION_COOKIE_NAME = f"{COOKIE_PREFIX}sessionid"
CSRF_COOKIE_NAME = f"{COOKIE_PREFIX}csrftoken"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
# No script of the site reads the CSRF token from the cookie: forms carry it in a hidden field.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
VOTER_COOKIE_NAME = f"{COOKIE_PREFIX}yaohai_voter"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Content-Security-Policy on every response (django-csp 4; its middleware is first in
# MIDDLEWARE). Everything the site loads is its own: no inline script or style anywhere, the
# admin included (templates/simple_history/ overrides the one third-party template that had
# a style attribute; tests/test_browser_admin.py walks the admin), nothing from another host,
# no plugins, no <base>, no framing, forms post home.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}


# whitenoise answers static files before the rest of the middleware runs; the security
# middleware and django-csp sit before it, X-Frame-Options is added here.
# https://whitenoise.readthedocs.io/en/stable/django.html#WHITENOISE_ADD_HEADERS_FUNCTION
def _static_file_headers(headers, path, url):
    headers["X-Frame-Options"] = X_FRAME_OPTIONS


WHITENOISE_ADD_HEADERS_FUNCTION = _static_file_headers

# ------------------------------------------------------------------------------
# Language and time
# ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Static files (whitenoise)
# ------------------------------------------------------------------------------
# static/ holds the sources; collectstatic writes to STATIC_ROOT, which whitenoise serves.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# ------------------------------------------------------------------------------
# Cache: rendered public pages (livelihood/public/cache.py)
# ------------------------------------------------------------------------------
# Pages are keyed on the publication version kept in the database, so every worker and every
# app server agrees on what is current whatever the backend. Two tiers
# (livelihood/operations/cache_tiers.py): each process's local memory in front, for hits that
# cost no I/O, and behind it a cache every process shares, so that a page one gunicorn worker
# or the background worker (the warm-up after a publication) rendered is a hit in all of them.
# The shared tier is files under PAGE_CACHE_DIR on one machine; beyond one machine, REDIS_URL
# (redis://host:6379/0) shares one cache between app servers through Django's own RedisCache.
# Rate limits (RATELIMIT_USE_CACHE) count in the shared tier.
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
# https://docs.djangoproject.com/en/5.2/topics/cache/#filesystem-caching
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# Created as needed; keep it off the web root. Only used without REDIS_URL.
PAGE_CACHE_DIR = Path(os.environ.get("PAGE_CACHE_DIR", str(BASE_DIR / "var" / "page-cache")))
# A day: pages of an old version are never asked for again and only wait to expire.
PAGE_CACHE_TIMEOUT = 24 * 60 * 60
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL 应以 redis://、rediss:// 或 unix:// 开头，实际为 {REDIS_URL!r}。"
        )
    _SHARED_CACHE = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "yaohai",
        # A Redis that does not answer costs a page half a second at most, then the page
        # is rendered without the cache (livelihood/public/cache.py logs it).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
else:
    _SHARED_CACHE = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(PAGE_CACHE_DIR),
        # Every page of ten plan years (some 2,500) with room to spare; past it a third of
        # the files are removed.
        "OPTIONS": {"MAX_ENTRIES": 10000},
    }
CACHES = {
    "default": {
        "BACKEND": "livelihood.operations.cache_tiers.TieredCache",
        "TIMEOUT": PAGE_CACHE_TIMEOUT,
        "OPTIONS": {
            "FRONT": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "yaohai-pages",
                # Pages are stored gzip-compressed (about 10 KB each): 3000 of them, some
                # 30 MB per worker, hold every page of several plan years.
                "OPTIONS": {"MAX_ENTRIES": 3000},
            },
            "SHARED": _SHARED_CACHE,
        },
    }
}

# Background work (issue 16): the page-cache warm-up after each publication and the reminder
# mails. The database backend keeps the queue in the portal's own database, so `make run`
# needs no other server; `manage.py db_worker` runs what is queued (docs/deploy.md). The tests
# run every task at once (tests/conftest.py). TASKS_BACKEND=immediate does that here too.
# https://github.com/RealOrangeOne/django-tasks
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip() or "database"
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND 应为 {' 或 '.join(_TASK_BACKENDS)}，实际为 {TASKS_BACKEND!r}。"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}

# Serve rendered public pages from the cache above (false: every request renders the page).
PUBLIC_PAGE_CACHE = env_bool("PUBLIC_PAGE_CACHE", True)
# After each publication a background task renders every public page into the cache, so that
# residents' next requests are hits (livelihood/public/warmup.py; `manage.py db_worker` runs
# it). False: pages are rendered by the first request after a change, as before.
PUBLIC_PAGE_WARMUP = env_bool("PUBLIC_PAGE_WARMUP", True)

# The release that renders the pages, part of every cached page's key: after an upgrade no
# page the previous release rendered is served from a shared cache (Redis), and during a
# rolling upgrade each release serves its own. Empty: a digest of the code, templates, static
# files and locked dependencies, worked out once per process (livelihood/public/cache.py:
# release()).
RELEASE_ID = os.environ.get("RELEASE_ID", "").strip()

# How long a worker may go on using the publication version it last read before asking the
# database again (seconds; 0: ask on every request). An approval reaches the worker that made
# it at once and every other worker and app server within this time. Under load it saves the
# one database round trip a cached page would otherwise cost (docs/performance.md).
try:
    PUBLIC_VERSION_RECHECK_SECONDS = float(os.environ.get("PUBLIC_VERSION_RECHECK_SECONDS", "1"))
except ValueError:
    PUBLIC_VERSION_RECHECK_SECONDS = -1.0
if not 0 <= PUBLIC_VERSION_RECHECK_SECONDS <= 60:
    raise ImproperlyConfigured(
        "环境变量 PUBLIC_VERSION_RECHECK_SECONDS 应为 0 到 60 之间的秒数，实际为 "
        f"{os.environ.get('PUBLIC_VERSION_RECHECK_SECONDS')!r}。"
    )


# ------------------------------------------------------------------------------
# Reliability (issue 7): a database that stops answering (docs/reliability.md)
# ------------------------------------------------------------------------------
# While the database is unreachable every request that needs it gets the 503 page
# (templates/503.html, livelihood/public/errors.py: server_error) with this Retry-After, in seconds.
# Cached public pages are still served from the page cache (livelihood/operations/publication.py).
OUTAGE_RETRY_AFTER_SECONDS = env_int("OUTAGE_RETRY_AFTER_SECONDS", 30, 1, 3600, "秒数（整数）")
# PostgreSQL: no worker may hang on a database that has gone away. A refused connection fails
# at once; an unreachable host within connect_timeout (5 s, above); a connection whose server
# vanished (host down, network cut) is given up by TCP keepalives (5 s idle, then 3 probes 2 s
# apart) or, while a query is being sent, by tcp_user_timeout; and a query the server runs
# for longer than DATABASE_STATEMENT_TIMEOUT_SECONDS is cancelled by the server (0: never).
# gunicorn's worker timeout (deploy/gunicorn.conf.py) kills what is left. libpq parameters:
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS
DATABASE_STATEMENT_TIMEOUT_SECONDS = env_int(
    "DATABASE_STATEMENT_TIMEOUT_SECONDS", 30, 0, 86400, "秒数（整数）"
)
# Every PostgreSQL alias (a read replica too).
for _alias in DATABASES.values():
    if _alias["ENGINE"] != "django.db.backends.postgresql":
        continue
    _options = _alias.setdefault("OPTIONS", {})
    for _name, _value in {
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10000,  # milliseconds
    }.items():
        _options.setdefault(_name, _value)
    if DATABASE_STATEMENT_TIMEOUT_SECONDS > 0:
        _options["options"] = (
            f"{_options.get('options', '')} "
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000}"
        ).strip()

# ------------------------------------------------------------------------------
# Deployment (issue 7): the read replica's routing, backups (docs/deploy.md)
# ------------------------------------------------------------------------------
# Marks residents' page requests as public reads, which PublicReadRouter (DATABASE_ROUTERS
# above) sends to the replica when DATABASE_REPLICA_URL is set; without it, a no-op. After
# every other middleware: it needs the resolved URL (process_view) and nothing else.
MIDDLEWARE = [*MIDDLEWARE, "livelihood.operations.routers.PublicReadMiddleware"]

# Where `manage.py backup` writes when given no file (livelihood/operations/backups.py): pg_dump
# -Fc on
# PostgreSQL, an online copy on SQLite. Keep it off the web root and copy it off the machine.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", str(BASE_DIR / "backups")))

# ------------------------------------------------------------------------------
# Portal
# ------------------------------------------------------------------------------
# The address printed in QR codes on item pages (https://民生.example.gov.cn); unset, the
# address the request came in on.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip()

# fixtures/ holds the plans as the source documents state them: `loaddata plan_2024`.
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# The admin's path, so that a deployment can move it off the well-known /admin/.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

# How far (in percentage points) an item may fall under its expected progress (序时进度)
# before it counts as 滞后.
PROGRESS_TOLERANCE_POINTS = int(os.environ.get("PROGRESS_TOLERANCE_POINTS", "10"))

# A month's report is due by this day of the following month; after it, 逾期未报.
REPORT_DUE_DAY = int(os.environ.get("REPORT_DUE_DAY", "5"))
if not 1 <= REPORT_DUE_DAY <= 28:
    raise ImproperlyConfigured("REPORT_DUE_DAY 应在 1 到 28 之间。")
if not 0 <= PROGRESS_TOLERANCE_POINTS <= 100:
    raise ImproperlyConfigured("PROGRESS_TOLERANCE_POINTS 应在 0 到 100 之间。")


# ------------------------------------------------------------------------------
# Residents' voice: feedback, satisfaction votes (livelihood/voice/services.py, satisfaction.py)
# ------------------------------------------------------------------------------
# A lead unit answers published feedback within this many working days: China's, holidays
# off and make-up working days (调休上班) on, as chinese-calendar has them
# (livelihood/voice/services.py).
FEEDBACK_ANSWER_WORKING_DAYS = env_int("FEEDBACK_ANSWER_WORKING_DAYS", 5, 1, 60)
# Only for a year chinese-calendar has no data for (one newer than the installed release):
# public holidays as YYYY-MM-DD, comma-separated (2027-10-01,2027-10-02), taken off Monday to
# Friday; make-up working days are then not known. A warning is logged for such a year.
PUBLIC_HOLIDAYS = frozenset(
    datetime.date.fromisoformat(day) for day in env_list("PUBLIC_HOLIDAYS", "")
)
# At most this many messages wait for moderation, in all and per item; beyond that a new
# message is refused (HTTP 429) until the office has worked through the queue.
FEEDBACK_QUEUE_MAX = env_int("FEEDBACK_QUEUE_MAX", 200, 1, 100000)
FEEDBACK_QUEUE_MAX_PER_ITEM = env_int("FEEDBACK_QUEUE_MAX_PER_ITEM", 20, 1, 100000)
# Rate limits per RATE_LIMIT_WINDOW_SECONDS, counted in the `default` cache (shared by every
# app server when REDIS_URL is set): messages and votes per client address and per item.
# django-ratelimit counts them (livelihood/voice/ratelimit.py); its app is not installed, since its
# checks refuse the local-memory cache this portal uses on one machine.
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 3600, 10, 86400)
RATELIMIT_USE_CACHE = "default"
# A count the cache could not make lets the request through (the queue bound still holds).
RATELIMIT_FAIL_OPEN = True
FEEDBACK_LIMIT_PER_ADDRESS = env_int("FEEDBACK_LIMIT_PER_ADDRESS", 5, 1, 100000)
FEEDBACK_LIMIT_PER_ITEM = env_int("FEEDBACK_LIMIT_PER_ITEM", 30, 1, 100000)
VOTE_LIMIT_PER_ADDRESS = env_int("VOTE_LIMIT_PER_ADDRESS", 60, 1, 100000)
VOTE_LIMIT_PER_ITEM = env_int("VOTE_LIMIT_PER_ITEM", 600, 1, 100000)
# The client's address is REMOTE_ADDR. Behind a reverse proxy, name the header the proxy sets
# (X-Real-IP, or X-Forwarded-For, of which the last address, the one the proxy added, is
# used). Never set it without a proxy that overwrites the header: clients could forge it.
CLIENT_ADDRESS_HEADER = os.environ.get("CLIENT_ADDRESS_HEADER", "").strip()
# Residents who see the CSRF refusal (cookies off, a form left open for days) read it in Chinese.
CSRF_FAILURE_VIEW = "livelihood.public.errors.csrf_failure"

# ------------------------------------------------------------------------------
# Email: reminders to lead units (manage.py send_reminders)
# ------------------------------------------------------------------------------
# EMAIL_URL, like DATABASE_URL: unset, mails are printed to the console;
# smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 (TLS),
# smtp+plain://host:25 (a local relay). yaohai_portal/email_url.py lists the forms.
# https://docs.djangoproject.com/en/5.2/topics/email/#smtp-backend
globals().update(email_url.parse(os.environ.get("EMAIL_URL", "")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "瑶海区民生办 <noreply@localhost>")

# 'livelihood.accounts.security' records every failed login, lockout and refused admin access
# (livelihood/accounts/security.py); route it to its own file or collector in production.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"livelihood.accounts.security": {"level": "INFO"}},
}
