from django.urls import path, register_converter

from livelihood.data import api, opendata
from livelihood.public import views
from livelihood.public.cache import public_page
from livelihood.public.feeds import ApprovedUpdatesFeed
from livelihood.voice import views as voice_views


class MonthConverter:
    """A month in a URL: 2024-06."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value if isinstance(value, str) else f"{value:%Y-%m}"


register_converter(MonthConverter, "month")


class FormatConverter:
    """A download's file format: csv, xlsx or json."""

    regex = "|".join(opendata.FORMATS)

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "format")


class CodeConverter:
    """An item's code (3-2): any text but a slash or a NUL character, which PostgreSQL cannot
    compare with a text column (the page would fail instead of being "not found")."""

    regex = r"[^/\x00]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(CodeConverter, "code")

app_name = "livelihood"

urlpatterns = [
    path("", public_page(views.home), name="home"),
    path("about/", public_page(views.about), name="about"),
    path("plans/", public_page(views.plan_list), name="plan-list"),
    path("<int:year>/", public_page(views.home), name="plan-home"),
    path(
        "<int:year>/domains/<int:number>/", public_page(views.domain_detail), name="domain-detail"
    ),
    path("<int:year>/items/<code:code>/", public_page(views.item_detail), name="item-detail"),
    # Residents' voice: the forms are pages of their own, never cached (CSRF token, cookie).
    path("<int:year>/items/<code:code>/feedback/", voice_views.item_feedback, name="item-feedback"),
    path(
        "<int:year>/items/<code:code>/feedback/thanks/",
        public_page(voice_views.item_feedback_thanks),
        name="item-feedback-thanks",
    ),
    path(
        "<int:year>/items/<code:code>/messages/",
        public_page(voice_views.item_messages),
        name="item-messages",
    ),
    path("<int:year>/items/<code:code>/rate/", voice_views.item_rate, name="item-rate"),
    path(
        "<int:year>/items/<code:code>/rate/thanks/",
        public_page(voice_views.item_rate_thanks),
        name="item-rate-thanks",
    ),
    path("<int:year>/publicity/", public_page(views.publicity), name="publicity"),
    path("<int:year>/units/<slug:code>/", public_page(views.unit_detail), name="unit-detail"),
    path("<int:year>/streets/<slug:code>/", public_page(views.street_detail), name="street-detail"),
    path("<int:year>/search/", public_page(views.search), name="search"),
    path("<int:year>/months/", public_page(views.month_index), name="month-index"),
    path("<int:year>/months/<month:month>/", public_page(views.month_detail), name="month-detail"),
    # Open data: the data page, downloads, the Atom feed and the read-only API.
    path("data/", public_page(opendata.data_page), name="data"),
    path(
        "<int:year>/data/<slug:dataset>.<format:fmt>",
        public_page(opendata.download),
        name="download",
    ),
    path("feed/", public_page(ApprovedUpdatesFeed()), name="feed"),
    path("api/v1/", public_page(api.index), name="api-index"),
    path("api/v1/openapi.json", public_page(api.openapi_description), name="api-openapi"),
    path("api/v1/plans", public_page(api.plan_list), name="api-plans"),
    path("api/v1/plans/<int:year>", public_page(api.plan_detail), name="api-plan"),
    path("api/v1/plans/<int:year>/domains", public_page(api.domain_list), name="api-domains"),
    path("api/v1/plans/<int:year>/items", public_page(api.item_list), name="api-items"),
    path(
        "api/v1/plans/<int:year>/items/<code:code>", public_page(api.item_detail), name="api-item"
    ),
    path("api/v1/plans/<int:year>/figures", public_page(api.figure_list), name="api-figures"),
    *(
        path(
            f"api/v1/plans/<int:year>/{dataset}",
            public_page(api.dataset_list),
            {"dataset": dataset},
            name=f"api-{dataset}",
        )
        for dataset in api.PLAN_DATASETS
    ),
    path("api/v1/units", public_page(api.unit_list), name="api-units"),
    path("api/v1/streets", public_page(api.street_list), name="api-streets"),
    path("api/v1/<path:rest>", public_page(api.unknown), name="api-unknown"),
    path("<int:year>/evaluation/", public_page(views.evaluation_index), name="evaluation-index"),
    path(
        "<int:year>/evaluation/<slug:kind>/",
        public_page(views.evaluation_detail),
        name="evaluation-detail",
    ),
]
