from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache

from livelihood.accounts.two_factor_views import two_factor_urlpatterns
from livelihood.data.summary_views import summary_urlpatterns
from yaohai_portal.health import readyz

admin.site.site_header = "瑶海区民生实事进度公开平台 · 管理后台"
admin.site.site_title = "民生实事管理后台"
admin.site.index_title = "填报、审核与计划管理"


@never_cache
def healthz(request):
    """The process answers: no database, no template. A load balancer's liveness check, and
    the baseline the benchmark (bench/) compares every page with."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The database(s) and the cache answer: a load balancer's readiness check.
    path("readyz", readyz, name="readyz"),
    # The office's summary download (汇总表), under the admin's address and ahead of it.
    path(f"{settings.ADMIN_URL}exports/", include(summary_urlpatterns)),
    # Each staff member's own two-factor sign-in (两步验证), likewise ahead of the admin.
    path(f"{settings.ADMIN_URL}two-factor/", include(two_factor_urlpatterns)),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("livelihood.urls")),
]

handler400 = "livelihood.public.errors.bad_request"
handler403 = "livelihood.public.errors.permission_denied"
handler404 = "livelihood.public.errors.page_not_found"
handler500 = "livelihood.public.errors.server_error"
