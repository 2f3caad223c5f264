"""
The page cache's two tiers and its early hits (livelihood/operations/cache_tiers.py,
livelihood/public/cache.py: EarlyHitMiddleware).

What a resident notices: a page another process rendered is already a hit; a cached page
carries the same headers as a rendered one, revalidates with 304, and costs no query.
"""

from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.public.test_headers import https_client, production, production_settings

pytestmark = pytest.mark.django_db(transaction=True)

__all__ = ["production", "production_settings"]  # fixtures, used by name below


@pytest.fixture(autouse=True)
def _version_asked_every_time(settings):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0


@pytest.fixture
def employment(make_item, make_indicator, report):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    report(item, "2024-05", {indicator: "2300"})
    return item, indicator


def get(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    response.queries = len(queries)
    return response


# ------------------------------------------------------------------------------
# Two tiers: a page one process rendered is a hit in every other
# ------------------------------------------------------------------------------
def test_a_page_rendered_by_another_process_is_read_from_the_shared_tier(
    client, employment, settings
):
    item, _ = employment
    page = item.get_absolute_url()
    rendered = get(client, page)
    assert rendered["X-Page-Cache"] == "miss"
    assert any(Path(settings.PAGE_CACHE_DIR).iterdir())  # on disk, for every process
    caches["default"].front.clear()  # another gunicorn worker: its memory is empty
    shown = get(client, page)
    assert shown["X-Page-Cache"] == "hit" and shown.content == rendered.content


# ------------------------------------------------------------------------------
# Early hits
# ------------------------------------------------------------------------------
def test_an_early_hit_carries_every_header_a_rendered_page_does(production, employment):
    item, _ = employment
    browser = https_client()
    page = item.get_absolute_url()
    rendered, cached = browser.get(page), browser.get(page)
    assert (rendered["X-Page-Cache"], cached["X-Page-Cache"]) == ("miss", "hit")
    assert not hasattr(cached.wsgi_request, "session")  # answered above the sessions
    assert cached.content == rendered.content
    assert {k: v for k, v in cached.items() if k != "X-Page-Cache"} == {
        k: v for k, v in rendered.items() if k != "X-Page-Cache"
    }
    for header in (
        "Content-Security-Policy",
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "X-Frame-Options",
    ):
        assert cached[header], header
    again = browser.get(page, HTTP_IF_NONE_MATCH=cached["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["Content-Security-Policy"] == cached["Content-Security-Policy"]


def test_an_early_hit_runs_no_session_query_within_the_recheck_window(client, employment, settings):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 1
    item, _ = employment
    page = item.get_absolute_url()
    assert get(client, page)["X-Page-Cache"] == "miss"
    cached = get(client, page)
    assert cached["X-Page-Cache"] == "hit" and cached.queries == 0
    assert not hasattr(cached.wsgi_request, "user")  # authentication never ran
    assert "2300人" in cached.content.decode()


def test_staff_with_a_session_are_never_answered_early(client, employment, office):
    item, _ = employment
    page = item.get_absolute_url()
    get(client, page)
    assert get(client, page)["X-Page-Cache"] == "hit"
    client.force_login(office)
    personal = get(client, page)
    assert personal["X-Page-Cache"] == "private"
    assert personal.wsgi_request.user == office
