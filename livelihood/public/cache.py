"""
Rendered public pages, cached and invalidated by the publication version.

`public_page(view)` wraps every public view (livelihood/urls.py). For a GET or HEAD from a
visitor without a session:

1. it reads the publication versions (livelihood/operations/publication.py): one query, the
   only one a cached page costs, and under load not even that: a worker asks the database at
   most once per PUBLIC_VERSION_RECHECK_SECONDS (1 s by default). A page of one plan year
   (its URL has a `year`) is keyed on the site's version and its plan's, any other page on
   the version of everything (`Versions.for_page`): an approval in this year's plan leaves
   earlier years' pages cached;
2. the cache key is the release (`release()`: what renders the page), that version, today's
   date (statuses such as 逾期未报 move with the calendar) and the absolute URL: scheme,
   host, path and query string (`page_key()`);
3. on a hit it answers from Django's `default` cache without running the view; on a miss it
   runs the view and stores a 200 response;
4. the answer carries a weak `ETag` derived from the same key and `Last-Modified` (when the
   version last changed, or today's midnight if later), so `If-None-Match` and
   `If-Modified-Since` get 304 Not Modified, and `Cache-Control: public, max-age=0,
   must-revalidate` makes browsers and proxies ask again each time.

The `default` cache has two tiers (livelihood/operations/cache_tiers.py): each process's local
memory, then a tier all processes share (files under PAGE_CACHE_DIR, or Redis with
REDIS_URL). A page one gunicorn worker rendered is a hit in the other, and the pages the
background warm-up renders after each publication (livelihood/public/warmup.py) are hits in
all of them. A miss records its origin (scheme://host[:port]) in the shared tier, the five
most recent first (`recent_origins()`): the warm-up renders the pages for those.

A new version is a new key: nothing is ever deleted from the cache, old pages simply stop being
asked for and expire (CACHES TIMEOUT) or are culled. The version is read before the view runs,
so a page stored under a version is never older than that version.

Early hits. `EarlyHitMiddleware` sits just below the security middleware and GZip in
MIDDLEWARE. For an anonymous GET or HEAD (no session or messages cookie) of a path that
resolves to a `public_page` view, it works out the key from the request alone and, when the
cache holds that page, answers with it at once: the session, locale, common, CSRF,
authentication, two-factor, history, messages, framing and lockout middleware and the view do
not run, and within the recheck window the answer costs no query at all. What sits above it
(CSP, SecurityMiddleware, WhiteNoise, GZip) runs on the early answer as on any other. The
headers the middleware beneath it adds (X-Frame-Options, Content-Language, Vary:
Accept-Language) are replayed from the cache: on a miss the page passes back up through
them, and EarlyHitMiddleware stores it only then, with the headers it carries at that point
(`complete`); a page stored without them (the wrapper used alone, as in a unit test) is served
by the wrapper, never early. Those middleware add nothing per visitor to an anonymous GET but
cookies, and an answer that sets a cookie is never stored. Everything the early path does not
answer (a miss, a personal request, a database that does not answer) goes down the whole stack
as before; a miss's cache lookup is handed to the wrapper, so a miss reads the cache once.

Not cached, and answered exactly as the view answers: other methods; error and redirect
responses; responses that set a cookie or use a CSRF token (per visitor); requests that carry a
session or messages cookie (logged-in staff may see admin links; a message is for one visitor),
which are also marked `private, no-store`. `PUBLIC_PAGE_CACHE=false` turns all of this off.

The cache stores the body gzip-compressed: a cached page costs about a sixth of the memory, and
a browser that accepts gzip is sent the stored bytes without compressing them again. The gzip
output carries no per-request secret, so BREACH has nothing to recover from it.
"""

import gzip
import hashlib
import logging
import time
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.gzip import re_accepts_gzip
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date

from livelihood.operations import publication
from livelihood.operations.routers import public_pages_alias
from livelihood.operations.visitors import is_personal

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
KEY_PREFIX = "public-page"
STATUS_HEADER = "X-Page-Cache"  # hit, miss, pass (served, not stored) or private
# Headers worked out anew for every answer (or never replayed): not stored.
UNSTORED_HEADERS = {
    "content-length",
    "content-encoding",
    "set-cookie",
    "etag",
    "last-modified",
    STATUS_HEADER.lower(),
}
CONDITIONAL = {
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
}
# The origins (scheme://host[:port]) pages were recently rendered for, most recent first: what
# the warm-up renders pages for (livelihood/public/warmup.py). Kept in the shared tier.
ORIGINS_KEY = f"{KEY_PREFIX}:origins"
MAX_ORIGINS = 5
ORIGIN_NOTED_SECONDS = 60  # a process writes an origin it has just written at most this often
_log_quiet_until = 0.0


def public_page(view):
    """Serve `view` from the page cache (see the module docstring)."""

    @wraps(view)
    def page(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or not settings.PUBLIC_PAGE_CACHE:
            return view(request, *args, **kwargs)
        if is_personal(request):
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
            response.headers[STATUS_HEADER] = "private"
            return response
        # Changes this connection has written but not committed have not raised the version
        # yet (tests; ATOMIC_REQUESTS): render what the connection sees, store nothing.
        # EarlyHitMiddleware has read it already for this request: a miss asks once.
        versions = None
        if not publication.bump_pending():
            versions = getattr(request, "_page_cache_version", None)
            versions = versions or publication.current_for_pages()
        if versions is None:
            response = view(request, *args, **kwargs)
            response.headers[STATUS_HEADER] = "pass"
            return response
        version = versions.for_page(kwargs.get("year"))

        key, digest, now = page_key(request, version)
        early = getattr(request, "_page_cache_early", False)
        seen = getattr(request, "_page_cache_seen", None)  # what EarlyHitMiddleware found
        entry = seen[1] if seen is not None and seen[0] == key else _cache_get(key)
        state = "hit"
        if entry is None:
            response = view(request, *args, **kwargs)
            if not storable(request, response):
                response.headers[STATUS_HEADER] = "pass"
                return response
            entry, state = _entry(response), "miss"
            note_origin(f"{request.scheme}://{request.get_host()}")
            if early:  # stored by EarlyHitMiddleware, with the headers added beneath it
                request._page_cache_pending = (key, entry, True)
            else:
                _cache_set(key, entry)
        elif early and not entry.get("complete"):
            request._page_cache_pending = (key, entry, False)
        return _answer(request, entry, version, digest, now, state)

    page.public_page = True  # what EarlyHitMiddleware looks for
    return page


def page_key(request, version) -> tuple[str, str, object]:
    """(cache key, digest, now) of the page `request` asks for under `version`, worked out
    from the request alone: the early hits (EarlyHitMiddleware) ask before any view runs."""
    # The address as requested: QR codes on the pages hold the host (PUBLIC_BASE_URL unset).
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    now = timezone.localtime()
    digest = hashlib.sha256(f"{release()}|{version.token}|{now.date()}|{url}".encode()).hexdigest()
    return f"{KEY_PREFIX}:{digest}", digest, now


def _answer(request, entry, version, digest, now, state):
    response = _response(entry, request)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    last_modified = int(max(version.changed_at, midnight).timestamp())
    etag = f'W/"{digest[:40]}"'
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified)
    response.headers[STATUS_HEADER] = state
    if CONDITIONAL.isdisjoint(request.META):
        return response
    return get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=response
    )


class EarlyHitMiddleware:
    """Answers an anonymous GET or HEAD of a cached page before the session, authentication,
    messages, CSRF, two-factor and lockout middleware and the view run (see the module
    docstring, "Early hits"). Everything else passes through, and on the way back it stores
    what `public_page` rendered with the headers the middleware beneath it added."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        answer = self.early(request)
        if answer is not None:
            return answer
        request._page_cache_early = True
        response = self.get_response(request)
        pending = getattr(request, "_page_cache_pending", None)
        if pending is not None:
            key, entry, new = pending
            if response.status_code == 200 and not response.streaming and not response.cookies:
                headers = {k: v for k, v in response.items() if k.lower() not in UNSTORED_HEADERS}
                _cache_set(key, {**entry, "headers": headers, "complete": True})
            elif new:  # a 304 from the wrapper: public_page serves the entry, not this
                _cache_set(key, entry)
        return response

    @staticmethod
    def early(request):
        if request.method not in ("GET", "HEAD") or not settings.PUBLIC_PAGE_CACHE:
            return None
        if is_personal(request) or publication.bump_pending():
            return None
        try:  # a page of this wrapper's: /healthz, the admin, static files are not asked for
            match = resolve(request.path_info)
        except Resolver404:
            return None
        if not getattr(match.func, "public_page", False):
            return None
        try:
            versions = publication.current_for_pages(public_pages_alias())
            if versions is None:
                return None
            version = versions.for_page(match.kwargs.get("year"))
            key, digest, now = page_key(request, version)
        except (DatabaseError, DisallowedHost):
            return None  # the page's own path answers (503, 400) as it always has
        request._page_cache_version = versions
        entry = _cache_get(key)
        if entry is None or not entry.get("complete"):
            request._page_cache_seen = (key, entry)
            return None
        response = _answer(request, entry, version, digest, now, "hit")
        if response.status_code == 200:  # CommonMiddleware's job, beneath this one
            response.headers["Content-Length"] = str(len(response.content))
        return response


def note_origin(origin: str) -> None:
    """Remember that a page was rendered for `origin` (scheme://host[:port]), for the warm-up.
    Each process writes an origin at most once per ORIGIN_NOTED_SECONDS: a miss costs no
    shared read or write beyond its page's."""
    front, shared = _tiers()
    try:
        if not front.add(f"{ORIGINS_KEY}:noted:{origin}", True, ORIGIN_NOTED_SECONDS):
            return
        origins = shared.get(ORIGINS_KEY) or []
        if origins[:1] != [origin]:
            kept = [o for o in origins if o != origin][: MAX_ORIGINS - 1]
            shared.set(ORIGINS_KEY, [origin, *kept])
    except Exception:
        _log_failure("write")


def recent_origins() -> list[str]:
    """The origins pages were recently rendered for, most recent first (at most MAX_ORIGINS)."""
    try:
        return list(_tiers()[1].get(ORIGINS_KEY) or [])
    except Exception:
        _log_failure("read")
        return []


def _tiers():
    """(front, shared) of the page cache; a cache of one tier is both."""
    page_cache = caches[CACHE_ALIAS]
    return getattr(page_cache, "front", page_cache), getattr(page_cache, "shared", page_cache)


# What a release is made of, for release(): what renders a page or changes how it renders.
RELEASE_PATHS = ("livelihood", "yaohai_portal", "templates", "static", "requirements/base.txt")


def release() -> str:
    """The release serving this process: RELEASE_ID when the deployment names it (a version,
    a commit), otherwise a digest of the checkout's RELEASE_PATHS."""
    return settings.RELEASE_ID or _checkout_digest()


@cache
def _checkout_digest() -> str:
    return code_digest(Path(settings.BASE_DIR), RELEASE_PATHS)


def code_digest(root: Path, paths) -> str:
    """A digest of the files under `paths` (relative to `root`): their names and contents,
    compiled bytecode left out. Two checkouts of the same release give the same digest, so
    every app server of a release shares its cached pages; any change to a template, a module,
    a static file or a locked dependency gives another. About 3 MB, read once per process."""
    digest = hashlib.sha256()
    files = []
    for name in paths:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file())
    for path in sorted(files):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def storable(request, response) -> bool:
    """A 200 that is the same for every anonymous visitor."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if response.has_header("Content-Encoding"):
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # the page holds a CSRF token
        return False
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return False
    directives = response.get("Cache-Control", "").lower()
    return "private" not in directives and "no-store" not in directives


def _entry(response) -> dict:
    """What is stored: the body (gzip-compressed where that is smaller) and the headers every
    answer from it carries, the caching ones included, worked out once."""
    patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
    patch_vary_headers(response, ("Accept-Encoding", "Cookie"))
    content = response.content
    compressed = gzip.compress(content, compresslevel=6, mtime=0)
    headers = {k: v for k, v in response.items() if k.lower() not in UNSTORED_HEADERS}
    if len(compressed) < len(content):
        return {"headers": headers, "gzip": compressed}
    return {"headers": headers, "body": content}


def _response(entry, request) -> HttpResponse:
    response = HttpResponse(headers=entry["headers"])
    if "gzip" not in entry:
        response.content = entry["body"]
    elif re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response.content = entry["gzip"]
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.content = gzip.decompress(entry["gzip"])
    return response


# A cache that does not answer (Redis down) must not take the pages down: they are rendered
# as if nothing were cached, and the failure is logged at most once a minute per process.
def _cache_get(key):
    try:
        return caches[CACHE_ALIAS].get(key)
    except Exception:
        _log_failure("read")
        return None


def _cache_set(key, entry):
    try:
        caches[CACHE_ALIAS].set(key, entry)
    except Exception:
        _log_failure("write")


def _log_failure(what):
    global _log_quiet_until
    now = time.monotonic()
    if now >= _log_quiet_until:
        _log_quiet_until = now + 60
        logger.warning("页面缓存不可用（%s 失败），页面改为直接生成。", what, exc_info=True)
