"""The portal's URLs plus one view that fails, so that tests/test_headers.py can grade the real
500 page as a visitor receives it (handlers are read from the root URLconf)."""

from django.urls import path

from yaohai_portal.urls import handler403, handler404, handler500, urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("a deliberate failure for the 500 page's headers")


urlpatterns = [path("__broken__/", broken), *urlpatterns]
