"""
The warm-up: after a publication, every public page is rendered into the page cache in the
background, so that the next resident to ask for one is answered from the cache.

1. `bump_now` (livelihood/operations/publication.py) raises the publication version once a
   change commits and sends `publication.published` with the new version. `version_published`
   here (connected in livelihood/apps.py) enqueues `warm_pages` with the version's token on
   the default task backend (settings TASKS: the database, run by `manage.py db_worker`).
   The page cache depends on nothing of this: operations never imports public.
2. `warm_pages(token)` first checks that the version is still the one it was enqueued for. A
   burst of approvals enqueues one task per approval; each one but the last finds the version
   moved on and stops at once, before or between pages, so the pages are rendered once per
   settled version.
3. It asks for every page of `page_paths()`, the current plan's first, then each earlier
   plan's, through Django's own WSGI handler with the whole middleware stack: the page is
   stored exactly as a resident's request would have stored it, with every header, under the
   key a resident's request computes (livelihood/public/cache.py). A page already cached
   costs one lookup: after an approval in this year's plan the earlier years' pages are
   still cached (their keys hold their own plan's version), and only this year's pages and
   those outside a plan year are rendered.
4. The key holds scheme://host of the request, so each page is rendered for every origin
   residents use: the one in PUBLIC_BASE_URL when set, then those cache.py recorded on its
   latest misses (at most five, most recent first).

Nothing depends on the task running. A worker that is killed or not running loses no
publication: the version in every key has moved on, so the next request for a page renders
it as before, and a task still queued for an old version does nothing when it finally runs.

`manage.py warm_pages` renders them at once, for deploys.
"""

import io
import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django_tasks import task

from livelihood.data import api, opendata
from livelihood.evaluation.models import EvaluationRound
from livelihood.operations import publication
from livelihood.plan.models import LeadUnit, Plan, Street
from livelihood.progress.selectors import plan_months
from livelihood.public.cache import STATUS_HEADER, recent_origins

logger = logging.getLogger(__name__)

DISPATCH_UID = "livelihood.public.warmup"
USER_AGENT = "yaohai-page-warmup"


@dataclass
class Warmed:
    pages: int = 0  # rendered and stored now
    cached: int = 0  # already in the cache
    skipped: int = 0  # not stored (an error, a redirect, a streamed download)
    seconds: float = 0.0
    stopped: bool = False  # the version moved on: a later task renders the rest

    def as_dict(self) -> dict:
        return {
            "pages": self.pages,
            "cached": self.cached,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }


def connect() -> None:
    publication.published.connect(version_published, dispatch_uid=DISPATCH_UID)


def version_published(sender, version, using, **kwargs) -> None:
    """Queue the warm-up for `version`. It never fails the publication that sent it: the
    change has committed, and without the warm-up pages are simply rendered on demand."""
    if not (settings.PUBLIC_PAGE_WARMUP and settings.PUBLIC_PAGE_CACHE):
        return
    try:
        warm_pages.enqueue(version.token)
    except Exception:
        logger.warning("页面预热任务未能加入队列，页面将在首次访问时生成。", exc_info=True)


@task()
def warm_pages(token: str) -> dict:
    """Render every public page into the cache, unless the version is no longer `token`."""
    if not _still(token):
        logger.info("页面预热跳过：发布版本 %s 已更新。", token)
        return Warmed(stopped=True).as_dict()
    return warm(token).as_dict()


def warm(token: str | None = None, extra_origins=()) -> Warmed:
    """Ask for every page in `page_paths()` for every origin in `origins()` and
    `extra_origins`, the current plan's pages first; stop once the version is no longer
    `token` (None: never)."""
    started = time.monotonic()
    done = Warmed()
    handler = WSGIHandler()
    hosts = [*dict.fromkeys([*extra_origins, *origins()])]
    with _one_connection():
        for path in page_paths() if hosts else ():
            if token is not None and not _still(token):
                done.stopped = True
                break
            for origin in hosts:
                state = render(handler, origin, path)
                if state == "miss":
                    done.pages += 1
                elif state == "hit":
                    done.cached += 1
                else:
                    done.skipped += 1
    done.seconds = time.monotonic() - started
    logger.info(
        "页面预热：生成 %d 个页面（已在缓存 %d 个，未缓存 %d 个），来源 %s，用时 %.1f 秒%s。",
        done.pages,
        done.cached,
        done.skipped,
        "、".join(hosts) or "无",
        done.seconds,
        "，版本已更新，其余页面由之后的任务生成" if done.stopped else "",
    )
    return done


def _still(token: str) -> bool:
    version = publication.current_for_pages()
    return version is not None and version.token == token


def origins() -> list[str]:
    """scheme://host[:port] of PUBLIC_BASE_URL when set, then the origins pages were recently
    rendered for, without repeats."""
    found = []
    if settings.PUBLIC_BASE_URL:
        parts = urlsplit(settings.PUBLIC_BASE_URL)
        if parts.scheme and parts.hostname:
            # Browsers send a Chinese host name in its ASCII (punycode) form.
            host = parts.hostname.encode("idna").decode("ascii")
            port = f":{parts.port}" if parts.port else ""
            found.append(f"{parts.scheme}://{host}{port}")
    for origin in recent_origins():
        if origin not in found:
            found.append(origin)
    allowed = [origin for origin in found if _allowed(origin)]
    for origin in found:
        if origin not in allowed:
            logger.warning("页面预热跳过 %s：主机不在 DJANGO_ALLOWED_HOSTS 中。", origin)
    return allowed


def _allowed(origin: str) -> bool:
    domain, _port = split_domain_port(urlsplit(origin).netloc)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def page_paths() -> list[str]:
    """Every public page the page cache stores, without a query string: the site's own pages
    and the current plan's, then each earlier plan's, newest first."""
    plans = list(Plan.objects.published())  # newest first: the current plan leads
    paths = []
    if plans:
        paths.append(reverse("livelihood:home"))
    paths += [reverse(f"livelihood:{name}") for name in ("about", "plan-list", "data", "feed")]
    for plan in plans:
        paths += _plan_paths(plan)
    paths += [
        reverse(f"livelihood:{name}")
        for name in ("api-index", "api-openapi", "api-plans", "api-units", "api-streets")
    ]
    return paths


def _plan_paths(plan) -> list[str]:
    year = plan.year

    def url(name, *args):
        return reverse(f"livelihood:{name}", args=[year, *args])

    paths = [url("plan-home")]
    paths += [
        url("domain-detail", number) for number in plan.domains.values_list("number", flat=True)
    ]
    items = list(
        plan.items.order_by("domain__number", "order", "code").values_list("code", flat=True)
    )
    paths += [url("item-detail", code) for code in items]
    units = LeadUnit.objects.filter(items__plan=plan).distinct().order_by("order", "code")
    paths += [url("unit-detail", code) for code in units.values_list("code", flat=True)]
    paths += [url("street-detail", code) for code in Street.objects.values_list("code", flat=True)]
    paths.append(url("month-index"))
    paths += [url("month-detail", f"{month:%Y-%m}") for month in reversed(plan_months(plan))]
    paths += [url("search"), url("publicity"), url("evaluation-index")]
    rounds = EvaluationRound.objects.filter(plan=plan, state=EvaluationRound.State.PUBLISHED)
    paths += [url("evaluation-detail", kind) for kind in rounds.values_list("kind", flat=True)]
    paths += [url("item-messages", code) for code in items]
    # Downloads built whole are cached; the figures (streamed) and the XLSX files are not.
    for slug, resource in opendata.DATASETS.items():
        if not resource.large:
            paths += [url("download", slug, fmt) for fmt in ("csv", "json")]
    paths += [url(name) for name in ("api-plan", "api-domains", "api-items", "api-figures")]
    paths += [url(f"api-{dataset}") for dataset in api.PLAN_DATASETS]
    return paths


def render(handler, origin: str, path: str) -> str:
    """Ask for `path` on `origin` as an anonymous browser would; the X-Page-Cache answer
    (hit, miss, pass) or the status code."""
    parts = urlsplit(origin)
    secure = parts.scheme == "https"
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        # PEP 3333: the path as bytes, decoded as ISO-8859-1.
        "PATH_INFO": path.encode().decode("iso-8859-1"),
        "QUERY_STRING": "",
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or (443 if secure else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "HTTP_ACCEPT_ENCODING": "gzip",
        "HTTP_USER_AGENT": USER_AGENT,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if secure and settings.SECURE_PROXY_SSL_HEADER:
        # Behind the proxy, HTTPS is what its header says (settings: DJANGO_HTTPS).
        header, value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = value
    response = handler(environ, lambda status, headers, exc_info=None: None)
    try:
        if response.streaming:
            return "pass"
        return response.get(STATUS_HEADER) or str(response.status_code)
    finally:
        response.close()  # request_finished, as after every request


@contextmanager
def _one_connection():
    """Keep the database connection across the pages, as Django's test client does: each
    request would otherwise end by closing it when it is past CONN_MAX_AGE or inside a
    transaction (a warm-up run at once, inside the publishing request's commit)."""
    started = request_started.disconnect(close_old_connections)
    finished = request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        if started:
            request_started.connect(close_old_connections)
        if finished:
            request_finished.connect(close_old_connections)
