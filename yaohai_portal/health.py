"""
/readyz: may this app server take requests? The load balancer's readiness check.

/healthz (yaohai_portal/urls.py) says the process answers; /readyz says that what a page needs
answers too: every configured database (the primary, and the read replica when
DATABASE_REPLICA_URL is set) runs a trivial query, and the cache (local memory, or Redis with
REDIS_URL) survives a set/get round trip. 200 "ok", or 503 with a short reason in plain text.

It never hangs for long: PostgreSQL connections time out after 5 s (connect_timeout) and
Redis after 0.5 s (CACHES OPTIONS), and a refused connection fails at once. Nothing is cached.
The reason names the part that failed, not the error: the endpoint is public; the error is
logged.
"""

import logging
import uuid

from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def database_problem(alias: str) -> str | None:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("就绪检查：数据库 %s 无法查询。", alias, exc_info=True)
        # A broken kept connection is not reused by the next request.
        connection.close_if_unusable_or_obsolete()
        return f"数据库 {alias} 无法查询"
    return None


def cache_problem(alias: str = "default") -> str | None:
    key, token = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache = caches[alias]
        cache.set(key, token, timeout=10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception:
        logger.warning("就绪检查：缓存 %s 无法读写。", alias, exc_info=True)
        return f"缓存 {alias} 无法读写"
    if answered != token:
        return f"缓存 {alias} 未返回刚写入的值"
    return None


@never_cache
def readyz(request):
    problems = [database_problem(alias) for alias in connections.settings]
    problems.append(cache_problem())
    problems = [problem for problem in problems if problem]
    if problems:
        return HttpResponse(
            "未就绪：" + "；".join(problems) + "\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
