"""
Cached public pages (livelihood/public/cache.py): served from the cache while nothing changes, never
after something residents can see has changed, in every worker; with validators browsers can
revalidate; never for errors, other methods, or logged-in staff.

These tests commit (transaction=True) as a server does: the publication version is raised when
a change commits, which a test wrapped in one transaction would never see.
"""

import datetime
import gzip
import os
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date

from livelihood.models import (
    Domain,
    Figure,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    PlannedValue,
    PublicationVersion,
    Street,
)
from livelihood.operations import publication
from livelihood.public.cache import (
    RELEASE_PATHS,
    code_digest,
    public_page,
    release,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _version_asked_every_time(settings):
    """These tests count the version query a cached page costs: each request asks the
    database, as it does once PUBLIC_VERSION_RECHECK_SECONDS has passed. The window itself is
    tested at the end of this file."""
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"


def worker(name):
    """The cache of one gunicorn worker: local memory, its own."""
    return override_settings(CACHES={"default": {"BACKEND": LOCMEM, "LOCATION": name}})


def get(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    response.queries = len(queries)
    return response


def version():
    return PublicationVersion.objects.get().counter


@pytest.fixture
def employment(make_item, make_indicator, report):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    report(item, "2024-05", {indicator: "2300"})
    return item, indicator


def approve(report):
    report.state = MonthlyReport.State.APPROVED
    report.reviewed_at = timezone.now()
    report.save()


# ------------------------------------------------------------------------------
# Served from the cache, and not once something changed
# ------------------------------------------------------------------------------
def test_second_request_is_served_from_the_cache(client, employment):
    item, _ = employment
    first = get(client, item.get_absolute_url())
    second = get(client, item.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert "2300人" in first.content.decode()
    assert second.content == first.content
    assert first.queries > 3
    assert second.queries == 1  # the publication version, nothing else
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")


def test_head_is_answered_like_get(client, employment):
    item, _ = employment
    path = item.get_absolute_url()
    with CaptureQueriesContext(connection) as queries:
        head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert len(queries) > 1 and head["X-Page-Cache"] == "miss"
    page = get(client, path)  # stored by the HEAD
    assert page.queries == 1 and "2300人" in page.content.decode()
    assert page["ETag"] == head["ETag"]


def test_approving_a_report_shows_the_new_figure_at_once(client, employment, report):
    item, indicator = employment
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    get(client, item.get_absolute_url())
    cached = get(client, item.get_absolute_url())
    assert cached.queries == 1
    assert "11500人" not in cached.content.decode()  # submitted, not yet public
    before = version()

    approve(june)

    assert version() == before + 1
    page = get(client, item.get_absolute_url())
    assert page.queries > 1
    assert "11500人" in page.content.decode()
    assert "已完成" in page.content.decode()
    assert page["ETag"] != cached["ETag"]


def test_reopening_an_approved_report_takes_its_figure_off_the_page(client, employment):
    item, _ = employment
    home = reverse("livelihood:home")
    for path in (home, item.get_absolute_url()):
        get(client, path)
        assert get(client, path).queries == 1
    assert "2300人" in get(client, item.get_absolute_url()).content.decode()
    assert "暂无已审核的月度数据" not in get(client, home).content.decode()
    may = item.reports.get()
    may.state = MonthlyReport.State.SUBMITTED
    may.reopened_at = timezone.now()
    may.save()
    assert "2300人" not in get(client, item.get_absolute_url()).content.decode()
    assert "暂无已审核的月度数据" in get(client, home).content.decode()


def test_a_second_worker_and_the_first_both_see_the_new_version(client, employment, report):
    item, indicator = employment
    path = item.get_absolute_url()
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    with worker("worker-1"):
        get(client, path)
        assert get(client, path).queries == 1  # worker 1 holds the page
    with worker("worker-2"):
        get(client, path)
        assert get(client, path).queries == 1  # and so does worker 2

    with worker("worker-2"):
        approve(june)  # approved through worker 2

    for name in ("worker-1", "worker-2"):
        with worker(name):
            page = get(client, path)
            assert "11500人" in page.content.decode(), name
            assert page["X-Page-Cache"] == "miss", name


def test_one_transaction_raises_the_version_once_and_a_rollback_not_at_all(employment):
    item, indicator = employment
    before = version()
    with transaction.atomic():
        for month in range(6, 10):
            created = MonthlyReport.objects.create(item=item, month=datetime.date(2024, month, 1))
            Figure.objects.create(report=created, indicator=indicator, value=month * 100)
    assert version() == before + 1
    with pytest.raises(RuntimeError), transaction.atomic():
        MonthlyReport.objects.create(item=item, month=datetime.date(2024, 11, 1))
        raise RuntimeError
    assert version() == before + 1


def test_every_change_residents_can_see_raises_the_version(
    employment, plan, domain, unit, other_unit, street, report, milestone
):
    item, indicator = employment
    may = item.reports.get()
    june = datetime.date(2024, 6, 1)
    changes = {
        "plan": lambda: Plan.objects.filter(pk=plan.pk).get().save(),
        "domain": lambda: Domain.objects.create(plan=plan, number=2, name="社会保障"),
        "lead unit": lambda: LeadUnit.objects.create(code="mz", name="区民政局"),
        "street": lambda: Street.objects.create(code="hc", name="和平路街道", kind="subdistrict"),
        "item": lambda: Item.objects.filter(pk=item.pk).get().save(),
        "partner added": lambda: item.partner_units.add(other_unit),
        "partner removed": lambda: item.partner_units.remove(other_unit),
        "indicator": lambda: indicator.save(),
        "planned value": lambda: PlannedValue.objects.create(
            indicator=indicator, month=june, value=5000
        ),
        "report": lambda: report(item, "2024-06", state="submitted"),
        "figure": lambda: Figure.objects.create(
            report=may, indicator=indicator, street=street, value=9
        ),
        "figure deleted": lambda: Figure.objects.filter(street=street).get().delete(),
        "milestone": lambda: milestone(item, datetime.date(2024, 6, 30)),
        "milestone deleted": lambda: Milestone.objects.get().delete(),
        "report deleted": lambda: MonthlyReport.objects.get(month=june).delete(),
        "planned value deleted": lambda: PlannedValue.objects.get().delete(),
        "street deleted": lambda: Street.objects.get(code="hc").delete(),
    }
    for name, change in changes.items():
        before = version()
        change()
        assert version() == before + 1, name


def test_migrate_publishes_a_new_version():
    # A deploy runs migrate: new templates must not meet pages cached by the old ones.
    before = version()
    call_command("migrate", verbosity=0)
    assert version() == before + 1


def test_cached_pages_follow_the_calendar(client, employment, monkeypatch):
    # 逾期未报 and 序时进度 move with the date: a page cached yesterday is not today's.
    item, _ = employment
    path = item.get_absolute_url()
    get(client, path)
    assert get(client, path).queries == 1
    real = timezone.localtime

    def tomorrow(value=None, timezone=None):
        moment = real(value, timezone)
        return moment + datetime.timedelta(days=1) if value is None else moment

    monkeypatch.setattr("django.utils.timezone.localtime", tomorrow)
    assert get(client, path)["X-Page-Cache"] == "miss"


# ------------------------------------------------------------------------------
# Validators: ETag, Last-Modified, 304
# ------------------------------------------------------------------------------
def test_a_new_release_does_not_serve_the_pages_the_previous_one_rendered(
    client, employment, settings
):
    """After an upgrade the pages in a shared cache (Redis) were rendered by the old templates:
    the release is part of the key, so the new release renders its own, and during a rolling
    upgrade a server still on the old release keeps serving the old ones."""
    item, _ = employment
    path = item.get_absolute_url()
    settings.RELEASE_ID = "2026.12.1"
    old = get(client, path)
    assert old["X-Page-Cache"] == "miss" and get(client, path)["X-Page-Cache"] == "hit"
    settings.RELEASE_ID = "2026.12.2"
    new = get(client, path)
    assert new["X-Page-Cache"] == "miss"
    assert new["ETag"] != old["ETag"]  # browsers holding the old page get the new one
    assert get(client, path)["X-Page-Cache"] == "hit"
    settings.RELEASE_ID = "2026.12.1"
    assert get(client, path)["X-Page-Cache"] == "hit"


def test_without_a_release_id_the_release_is_a_digest_of_the_code(tmp_path, settings):
    templates = tmp_path / "templates"
    (templates / "__pycache__").mkdir(parents=True)
    page = templates / "home.html"
    page.write_text("<h1>民生实事</h1>", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("Django==5.2.19\n")
    paths = ("templates", "requirements.txt", "absent")
    first = code_digest(tmp_path, paths)
    assert code_digest(tmp_path, paths) == first
    (templates / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")  # bytecode: same
    assert code_digest(tmp_path, paths) == first
    page.write_text("<h1>民生实事进度</h1>", encoding="utf-8")  # a template changed
    changed = code_digest(tmp_path, paths)
    assert changed != first
    (tmp_path / "requirements.txt").write_text("Django==5.2.20\n")  # a dependency upgraded
    assert code_digest(tmp_path, paths) not in (first, changed)
    settings.RELEASE_ID = ""
    assert release() == code_digest(Path(settings.BASE_DIR), RELEASE_PATHS)
    settings.RELEASE_ID = "abc123"
    assert release() == "abc123"


def test_pages_carry_validators_that_make_browsers_revalidate(client, employment):
    item, _ = employment
    for response in (get(client, item.get_absolute_url()), get(client, item.get_absolute_url())):
        assert response["ETag"].startswith('W/"')
        changed_at = PublicationVersion.objects.get().changed_at
        assert parse_http_date(response["Last-Modified"]) >= int(changed_at.timestamp()) - 1
        assert parse_http_date(response["Last-Modified"]) <= time.time()
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age=0", "must-revalidate"} <= directives
        vary = {v.strip() for v in response["Vary"].split(",")}
        assert {"Cookie", "Accept-Encoding"} <= vary


def test_etag_differs_by_page_and_by_query_string(client, employment):
    item, _ = employment
    home = reverse("livelihood:home")
    tags = {
        get(client, home)["ETag"],
        get(client, f"{home}?from=qr")["ETag"],
        get(client, item.get_absolute_url())["ETag"],
    }
    assert len(tags) == 3


def test_current_etag_gets_304_with_an_empty_body(client, employment):
    item, _ = employment
    first = get(client, item.get_absolute_url())
    again = get(client, item.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again.queries == 1


def test_stale_etag_gets_the_new_page(client, employment, report):
    item, indicator = employment
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    old = get(client, item.get_absolute_url())["ETag"]
    approve(june)
    page = get(client, item.get_absolute_url(), HTTP_IF_NONE_MATCH=old)
    assert page.status_code == 200
    assert "11500人" in page.content.decode()
    assert page["ETag"] != old


def test_if_modified_since(client, employment):
    item, _ = employment
    last_modified = get(client, item.get_absolute_url())["Last-Modified"]
    same = get(client, item.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=last_modified)
    assert same.status_code == 304 and same.content == b""
    earlier = http_date(parse_http_date(last_modified) - 3600)
    older = get(client, item.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=earlier)
    assert older.status_code == 200 and "2300人" in older.content.decode()


def test_browsers_that_accept_gzip_get_the_stored_compressed_page(client, employment):
    item, _ = employment
    plain = get(client, item.get_absolute_url())
    for _ in range(2):  # the miss and the hit alike
        packed = get(client, item.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert packed["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.content) == plain.content
        assert len(packed.content) < len(plain.content) / 2


# ------------------------------------------------------------------------------
# Not cached
# ------------------------------------------------------------------------------
def test_query_string_is_part_of_the_key(client, make_item):
    make_item(title="城镇新增就业")
    make_item(title="残疾儿童康复救助")
    search = reverse("livelihood:search", args=[2024])
    pages = {}
    for word in ("就业", "康复"):
        get(client, f"{search}?q={word}")
        pages[word] = get(client, f"{search}?q={word}")
        assert pages[word].queries == 1
    assert "城镇新增就业" in pages["就业"].content.decode()
    assert "残疾儿童康复救助" not in pages["就业"].content.decode()
    assert "残疾儿童康复救助" in pages["康复"].content.decode()


def test_post_is_passed_to_the_view_and_not_cached(client, employment):
    item, _ = employment
    path = item.get_absolute_url()
    posts = [client.post(path) for _ in range(2)]
    for response in posts:
        assert "ETag" not in response and "X-Page-Cache" not in response
    with CaptureQueriesContext(connection) as queries:
        client.post(path)
    assert len(queries) > 1
    assert get(client, path)["X-Page-Cache"] == "miss"  # the POSTs stored nothing


def test_not_found_is_not_cached(client, plan):
    path = reverse("livelihood:item-detail", args=[2024, "9-9"])
    first, second = get(client, path), get(client, path)
    assert first.status_code == second.status_code == 404
    assert "页面不存在" in second.content.decode()
    assert second.queries == first.queries > 1
    assert "ETag" not in second


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda request: HttpResponse("无此页面", status=404), id="404"),
        pytest.param(lambda request: HttpResponse("出错了", status=500), id="500"),
        pytest.param(lambda request: HttpResponseRedirect("/2024/"), id="redirect"),
        pytest.param(lambda request: HttpResponse(get_token(request)), id="csrf-token"),
        pytest.param(lambda request: with_cookie(HttpResponse("ok")), id="set-cookie"),
        pytest.param(lambda request: private(HttpResponse("ok")), id="private"),
    ],
)
def test_answers_meant_for_one_visitor_or_an_error_are_not_stored(rf, answer):
    calls = []

    def view(request):
        calls.append(request)
        return answer(request)

    page = public_page(view)
    first, second = page(rf.get("/2024/")), page(rf.get("/2024/"))
    assert len(calls) == 2  # the view answered both times
    assert first.status_code == second.status_code
    assert "ETag" not in second


def with_cookie(response):
    response.set_cookie("seen", "1")
    return response


def private(response):
    response["Cache-Control"] = "private"
    return response


def test_a_plain_answer_is_stored_by_the_same_wrapper(rf):
    calls = []

    def view(request):
        calls.append(request)
        return HttpResponse("公开页面")

    page = public_page(view)
    first, second = page(rf.get("/2024/")), page(rf.get("/2024/"))
    assert len(calls) == 1
    assert first.content == second.content == "公开页面".encode()


def test_logged_in_staff_get_fresh_private_pages(client, employment):
    item, _ = employment
    staff = User.objects.create_user("clerk", password="x-long-password-1", is_staff=True)
    client.force_login(staff)
    first, second = get(client, item.get_absolute_url()), get(client, item.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert second.queries > 1
    assert "ETag" not in second
    directives = {d.strip() for d in second["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives
    assert "Cookie" in second["Vary"]
    client.logout()
    assert get(client, item.get_absolute_url())["X-Page-Cache"] == "miss"  # staff stored nothing


def test_switched_off_every_request_renders(client, employment, settings):
    settings.PUBLIC_PAGE_CACHE = False
    item, _ = employment
    first, second = get(client, item.get_absolute_url()), get(client, item.get_absolute_url())
    assert second.queries == first.queries > 1
    assert "ETag" not in second and "X-Page-Cache" not in second


def test_health_endpoint_answers_without_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 0
    assert "no-cache" in response["Cache-Control"]


def test_a_kept_connection_the_server_closed_is_replaced(client, employment):
    # The version query doubles as Django's connection health check; a dead connection is
    # replaced as the health check would have, and the page is served.
    if connection.vendor != "postgresql":
        pytest.skip("kept connections are health-checked on PostgreSQL only")
    item, _ = employment
    assert get(client, item.get_absolute_url()).status_code == 200
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    page = get(client, item.get_absolute_url())
    assert page.status_code == 200
    assert "2300人" in page.content.decode()
    assert connection.connection.info.backend_pid != pid


# ------------------------------------------------------------------------------
# Redis
# ------------------------------------------------------------------------------
def redis_url():
    """REDIS_URL when set (then Redis must answer), else a local Redis if one answers."""
    configured = os.environ.get("REDIS_URL", "").strip()
    url = configured or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
    except redis.RedisError as error:
        if configured:
            pytest.fail(f"REDIS_URL={configured} is set but Redis does not answer: {error}")
        pytest.skip(f"no Redis answers on {url} (set REDIS_URL to run this test): {error}")
    return url


def redis_cache(url):
    # A prefix of its own: a Redis another run (or the portal) uses keeps its keys.
    prefix = f"test-{uuid.uuid4().hex}"
    return override_settings(
        CACHES={"default": {"BACKEND": REDIS, "LOCATION": url, "KEY_PREFIX": prefix}}
    )


def test_redis_backend_serves_and_invalidates(client, employment, report):
    url = redis_url()
    item, indicator = employment
    path = item.get_absolute_url()
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    with redis_cache(url):
        first, second = get(client, path), get(client, path)
        assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
        assert second.queries == 1 and second.content == first.content
        approve(june)
        assert "11500人" in get(client, path).content.decode()


def test_a_cache_that_does_not_answer_does_not_take_the_pages_down(client, employment):
    item, _ = employment
    dead = override_settings(
        CACHES={
            "default": {
                "BACKEND": REDIS,
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
            }
        }
    )
    with dead:
        response = get(client, item.get_absolute_url())
    assert response.status_code == 200
    assert "2300人" in response.content.decode()


# ------------------------------------------------------------------------------
# PUBLIC_VERSION_RECHECK_SECONDS: how long a worker trusts the version it last read
# ------------------------------------------------------------------------------
def bump_elsewhere():
    """Raise the versions as another worker or app server would: in the database only (the
    site's too, so that every page's key moves, the item page's included)."""
    now = timezone.now()
    PublicationVersion.objects.update(
        counter=F("counter") + 1,
        changed_at=now,
        site_counter=F("site_counter") + 1,
        site_changed_at=now,
    )


def test_within_the_window_a_cached_page_costs_no_query(client, employment, settings):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 1
    item, _ = employment
    path = item.get_absolute_url()
    assert get(client, path)["X-Page-Cache"] == "miss"
    page = get(client, path)
    assert page.queries == 0 and page["X-Page-Cache"] == "hit"
    assert "2300人" in page.content.decode()


def test_another_workers_approval_shows_once_the_window_has_passed(
    client, employment, report, settings, monkeypatch
):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 1
    item, indicator = employment
    path = item.get_absolute_url()
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    get(client, path)
    # Another worker approves June; this worker still trusts the version it read.
    MonthlyReport.objects.filter(pk=june.pk).update(
        state=MonthlyReport.State.APPROVED, reviewed_at=timezone.now()
    )
    bump_elsewhere()
    assert "11500人" not in get(client, path).content.decode()

    later = time.monotonic() + 1.01
    monkeypatch.setattr(publication.time, "monotonic", lambda: later)
    page = get(client, path)
    assert page.queries > 1 and page["X-Page-Cache"] == "miss"
    assert "11500人" in page.content.decode()


def test_an_approval_in_this_worker_shows_at_once_whatever_the_window(
    client, employment, report, settings
):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 60
    item, indicator = employment
    path = item.get_absolute_url()
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    get(client, path)
    assert get(client, path).queries == 0
    approve(june)
    assert "11500人" in get(client, path).content.decode()
