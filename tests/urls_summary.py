"""The portal's URLs plus the summary export, mounted as the lead wires it: under the admin
path, ahead of the admin (tests only; yaohai_portal/urls.py is wired separately)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from livelihood.data.summary_views import summary_urlpatterns

urlpatterns = [
    path(f"{settings.ADMIN_URL}exports/", include(summary_urlpatterns)),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("livelihood.urls")),
]
