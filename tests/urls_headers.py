"""The portal's URLs plus two views that fail, so that tests/public/test_headers.py can grade
the real 500 page and the database outage's 503 page as a visitor receives them (handlers are
read from the root URLconf), and one page of inline code that the CSP must block
(tests/public/test_browser_admin.py)."""

from django.db import OperationalError
from django.http import HttpResponse
from django.urls import path

from yaohai_portal.urls import (
    handler403,
    handler404,
    handler500,
    urlpatterns,
)

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("a deliberate failure for the 500 page's headers")


def outage(request):
    raise OperationalError("a deliberate outage for the 503 page's headers")


def inline(request):
    """What the policy forbids: an inline script and a style attribute."""
    return HttpResponse(
        '<!doctype html><title>inline</title><p style="color: red">x</p>'
        "<script>document.title = 'ran';</script>"
    )


urlpatterns = [
    path("__broken__/", broken),
    path("__outage__/", outage),
    path("__inline__/", inline),
    *urlpatterns,
]
