"""
The page cache after a publication (livelihood/public/warmup.py).

What a resident notices: right after an approval the first visit to a page is already a hit
and shows the new figure; without a worker nothing is lost, the page is rendered as before.

These tests commit (transaction=True): the version is raised, and the warm-up queued, when a
change commits.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from livelihood.operations import publication
from livelihood.public import warmup
from livelihood.public.cache import MAX_ORIGINS, recent_origins
from livelihood.reporting import services

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
HOME = "/"


@pytest.fixture(autouse=True)
def _warm_up_on(settings):
    settings.PUBLIC_PAGE_WARMUP = True
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0


@pytest.fixture
def employment(make_item, make_indicator, report):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    report(item, "2024-05", {indicator: "2300"})
    june = report(item, "2024-06", {indicator: "11500"}, state="submitted")
    return item, june


def get(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    response.queries = len(queries)
    return response


def warm_tasks():
    return DBTaskResult.objects.filter(task_path="livelihood.public.warmup.warm_pages")


# ------------------------------------------------------------------------------
# After an approval
# ------------------------------------------------------------------------------
def test_first_visit_after_an_approval_is_a_hit_with_the_new_figure(client, employment, office):
    item, june = employment
    page = item.get_absolute_url()
    assert "11500人" not in get(client, page).content.decode()  # residents have been here
    home_before = get(client, HOME).content

    services.report_approve(report=june, user=office)

    shown = get(client, page)
    assert shown["X-Page-Cache"] == "hit"
    assert "11500人" in shown.content.decode() and "已完成" in shown.content.decode()
    home = get(client, HOME)
    assert home["X-Page-Cache"] == "hit"
    assert home.content != home_before
    assert "已完成" in home.content.decode()
    for path in (
        reverse("livelihood:plan-home", args=[2024]),
        reverse("livelihood:unit-detail", args=[2024, item.lead_unit.code]),
        reverse("livelihood:month-detail", args=[2024, "2024-06"]),
        reverse("livelihood:search", args=[2024]),
        reverse("livelihood:about"),
    ):
        assert get(client, path)["X-Page-Cache"] == "hit", path


def test_without_a_worker_the_next_visit_renders_the_new_figure_and_the_task_waits(
    client, employment, office, settings
):
    settings.TASKS = DATABASE_TASKS
    item, june = employment
    page = item.get_absolute_url()
    get(client, page)

    services.report_approve(report=june, user=office)

    shown = get(client, page)
    assert shown["X-Page-Cache"] == "miss"  # no worker ran: rendered as before the warm-up
    assert "11500人" in shown.content.decode()
    waiting = warm_tasks().get()
    assert waiting.status == TaskResultStatus.READY
    assert waiting.args_kwargs["args"] == [publication.current().token]

    call_command("db_worker", "--batch", verbosity=0)  # the worker, started later

    waiting.refresh_from_db()
    assert waiting.status == TaskResultStatus.SUCCESSFUL
    assert waiting.return_value["pages"] > 10 and waiting.return_value["cached"] == 1
    assert get(client, HOME)["X-Page-Cache"] == "hit"


def test_a_burst_of_approvals_is_warmed_once_for_the_last_version(
    client, employment, office, report, settings
):
    settings.TASKS = DATABASE_TASKS
    item, june = employment
    july = report(item, "2024-07", {item.indicators.get(): "11600"}, state="submitted")
    get(client, HOME)
    warm_tasks().delete()  # queued by the fixtures' rows
    services.report_approve(report=june, user=office)
    services.report_approve(report=july, user=office)
    assert warm_tasks().count() == 2

    call_command("db_worker", "--batch", verbosity=0)

    first, last = warm_tasks().order_by("enqueued_at")
    assert first.return_value["stopped"] and first.return_value["pages"] == 0
    assert not last.return_value["stopped"] and last.return_value["pages"] > 10
    shown = get(client, item.get_absolute_url())
    assert shown["X-Page-Cache"] == "hit" and "11600人" in shown.content.decode()


def test_a_task_for_an_old_version_renders_nothing(client, employment, office, settings):
    _, june = employment
    get(client, HOME)
    old = publication.current().token
    settings.PUBLIC_PAGE_WARMUP = False
    services.report_approve(report=june, user=office)

    result = warmup.warm_pages.enqueue(old)

    assert result.return_value["pages"] == 0 and result.return_value["stopped"]
    assert get(client, HOME)["X-Page-Cache"] == "miss"


def test_a_queue_that_refuses_the_task_does_not_fail_the_approval(
    client, employment, office, monkeypatch
):
    item, june = employment

    class Refused:
        def enqueue(self, *args, **kwargs):
            raise RuntimeError("queue down")

    monkeypatch.setattr(warmup, "warm_pages", Refused())
    services.report_approve(report=june, user=office)
    assert "11500人" in get(client, item.get_absolute_url()).content.decode()


def test_pages_are_warmed_for_the_public_address(client, employment, office, settings):
    item, june = employment
    settings.PUBLIC_BASE_URL = "https://民生.example.gov.cn"
    host = "民生.example.gov.cn".encode("idna").decode()  # what browsers send
    settings.ALLOWED_HOSTS = [host, "testserver"]
    services.report_approve(report=june, user=office)
    shown = get(client, item.get_absolute_url(), HTTP_HOST=host, secure=True)
    assert shown["X-Page-Cache"] == "hit" and "11500人" in shown.content.decode()


def test_the_latest_five_addresses_are_remembered_most_recent_first(client, plan, settings):
    settings.ALLOWED_HOSTS = ["*"]
    hosts = [f"host{number}.example.cn" for number in range(7)]
    for host in hosts:
        get(client, HOME, HTTP_HOST=host)
    expected = [f"http://{host}" for host in reversed(hosts)][:MAX_ORIGINS]
    assert recent_origins() == expected
    assert warmup.origins() == expected


def test_warm_pages_command_reports_pages_and_seconds(client, employment):
    item, _ = employment
    out = io.StringIO()
    call_command("warm_pages", "--origin", "http://testserver", stdout=out)
    assert "个页面" in out.getvalue() and "秒" in out.getvalue()
    assert get(client, item.get_absolute_url())["X-Page-Cache"] == "hit"
    assert get(client, HOME)["X-Page-Cache"] == "hit"
