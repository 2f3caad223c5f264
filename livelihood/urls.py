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
    path("plans/", public_page(views.plan_list), name="plan-list"),
    path("<int:year>/", public_page(views.home), name="plan-home"),
    path(
        "<int:year>/domains/<int:number>/", public_page(views.domain_detail), name="domain-detail"
    ),
    path("<int:year>/items/<str:code>/", public_page(views.item_detail), name="item-detail"),
    path("<int:year>/units/<slug:code>/", public_page(views.unit_detail), name="unit-detail"),
    path("<int:year>/streets/<slug:code>/", public_page(views.street_detail), name="street-detail"),
    path("<int:year>/search/", public_page(views.search), name="search"),
    path("<int:year>/months/", public_page(views.month_index), name="month-index"),
    path("<int:year>/months/<month:month>/", public_page(views.month_detail), name="month-detail"),
    path("<int:year>/evaluation/", public_page(views.evaluation_index), name="evaluation-index"),
    path(
        "<int:year>/evaluation/<slug:kind>/",
        public_page(views.evaluation_detail),
        name="evaluation-detail",
    ),
]
