from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "瑶海区民生实事进度公开平台 · 管理后台"
admin.site.site_title = "民生实事管理后台"
admin.site.index_title = "填报、审核与计划管理"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("livelihood.urls")),
]

handler404 = "livelihood.views.page_not_found"
handler500 = "livelihood.views.server_error"
