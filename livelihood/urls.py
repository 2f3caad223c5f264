from django.urls import path, register_converter

from . import views
from .cache import public_page


class MonthConverter:
    """A month in a URL: 2024-06."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value if isinstance(value, str) else f"{value:%Y-%m}"


register_converter(MonthConverter, "month")

app_name = "livelihood"

urlpatterns = [
    path("", public_page(views.home), name="home"),
    path("about/", public_page(views.about), name="about"),
    path("<int:year>/", public_page(views.home), name="plan-home"),
    path(
        "<int:year>/domains/<int:number>/", public_page(views.domain_detail), name="domain-detail"
    ),
    path("<int:year>/items/<str:code>/", public_page(views.item_detail), name="item-detail"),
    # Residents' voice: the forms are pages of their own, never cached (CSRF token, cookie).
    path("<int:year>/items/<str:code>/feedback/", views.item_feedback, name="item-feedback"),
    path(
        "<int:year>/items/<str:code>/feedback/thanks/",
        public_page(views.item_feedback_thanks),
        name="item-feedback-thanks",
    ),
    path(
        "<int:year>/items/<str:code>/messages/",
        public_page(views.item_messages),
        name="item-messages",
    ),
    path("<int:year>/items/<str:code>/rate/", views.item_rate, name="item-rate"),
    path(
        "<int:year>/items/<str:code>/rate/thanks/",
        public_page(views.item_rate_thanks),
        name="item-rate-thanks",
    ),
    path("<int:year>/publicity/", public_page(views.publicity), name="publicity"),
    path("<int:year>/units/<slug:code>/", public_page(views.unit_detail), name="unit-detail"),
    path("<int:year>/streets/<slug:code>/", public_page(views.street_detail), name="street-detail"),
    path("<int:year>/search/", public_page(views.search), name="search"),
    path("<int:year>/months/", public_page(views.month_index), name="month-index"),
    path("<int:year>/months/<month:month>/", public_page(views.month_detail), name="month-detail"),
]
