"""
The error pages: 400, 403, 404, 500 and 503, and the CSRF refusal, in Chinese. Under the
API's address the 400 and 404 answer with its JSON error. yaohai_portal/urls.py names the
handlers, settings.CSRF_FAILURE_VIEW the CSRF one.
"""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.cache import add_never_cache_headers

from livelihood.accounts import security
from livelihood.data import api
from livelihood.plan.models import Plan

logger = logging.getLogger(__name__)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent without a valid token (cookies off, a stale page)."""
    return render(request, "403_csrf.html", {"plan": Plan.objects.first()}, status=403)


def permission_denied(request, exception=None):
    """handler403: logs the refusal and answers with the portal's page, in Chinese."""
    security.access_denied(request, str(exception) or "无权限")
    return render(request, "403.html", status=403)


BAD_REQUEST = "请求无效：参数无法识别或数量过多。"


def bad_request(request, exception):
    """A request Django refuses before any view (too many parameters, a forged host): the
    400 page in Chinese, or under the API's address its JSON error."""
    if request.path_info.startswith("/api/"):
        return api.error_response(api.bad_parameter(BAD_REQUEST))
    return render(request, "400.html", {"plan": Plan.objects.published().first()}, status=400)


def page_not_found(request, exception):
    """The 404 page; under the API's address its JSON error, also for an address no API
    route can match (a line break in it, which the catch-all route does not take)."""
    if request.path_info.startswith("/api/"):
        return api.error_response(api.not_found(api.UNKNOWN_ADDRESS))
    return render(request, "404.html", {"plan": Plan.objects.published().first()}, status=404)


SERVER_ERROR_PLAIN = (
    '<!DOCTYPE html><html lang="zh-Hans"><meta charset="utf-8"><title>系统暂时出错</title>'
    "<h1>系统暂时出错</h1><p>请稍后再试。</p></html>"
)


OUTAGE_PLAIN = (
    '<!DOCTYPE html><html lang="zh-Hans"><meta charset="utf-8"><title>系统维护中</title>'
    "<h1>系统维护中，请稍后再试</h1><p>平台的数据服务暂时无法访问，请过几分钟再刷新本页。</p></html>"
)

# What a database that does not answer raises (refused or lost connection, a server shutting
# down, a cancelled statement, SQLite's "database is locked" or "disk is full"): the request
# may succeed if tried again later. Other database errors (a bad query, a broken constraint)
# are defects and stay 500s.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def server_error(request):
    """Rendered without context processors: the database may be what failed. If the page
    itself cannot be rendered (a missing static-files manifest, a broken template), a plain
    page in the same words, rather than an error while reporting an error.

    Django calls this handler inside its `except` clause, wherever the exception came from
    (a view, a middleware, a context processor), so the exception is at hand: a database
    that is not answering gets the 503 page instead (`database_unavailable`)."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    try:
        content = loader.get_template("500.html").render()
    except Exception:
        logger.exception("500 页面无法生成，改用纯文本页面。")
        content = SERVER_ERROR_PLAIN
    return HttpResponseServerError(content)


def database_unavailable(request):
    """503 Service Unavailable with Retry-After (OUTAGE_RETRY_AFTER_SECONDS): the database is
    down or restarting. Built from the template alone, like the 500 page; never stored by a
    cache on the way."""
    try:
        content = loader.get_template("503.html").render()
    except Exception:
        logger.exception("503 页面无法生成，改用纯文本页面。")
        content = OUTAGE_PLAIN
    response = HttpResponse(content, status=503)
    response.headers["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response
