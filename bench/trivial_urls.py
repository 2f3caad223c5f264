"""The project's URLs and /bench/trivial (bench/trivial_site.py says why)."""

from django.http import HttpResponse
from django.urls import include, path

# The error views of the project's URLconf, which Django reads from the root one.
handler400 = "livelihood.public.errors.bad_request"
handler403 = "livelihood.public.errors.permission_denied"
handler404 = "livelihood.public.errors.page_not_found"
handler500 = "livelihood.public.errors.server_error"


def trivial(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/trivial", trivial),
    path("", include("yaohai_portal.urls")),
]
