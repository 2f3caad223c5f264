"""
Fast at any size: every public page runs the same number of queries on a small generated plan
as on a large one (2 years × 50 items × 3 indicators × 12 months × 13 streets), with the page
cache off (the view's own queries) and on (a cached page costs the version query alone).
Also `manage.py generate_scale_data` itself.

The two data sets are generated once for the module, committed (as a server would see them),
measured, and removed again; each page then has its own tests, named after its URL.
"""

import datetime
import hashlib
from dataclasses import dataclass
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from livelihood.devdata import scale
from livelihood.models import (
    Figure,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    PublicationVersion,
    Street,
)
from livelihood.operations import publication

SMALL = scale.Spec(years=1, items=2, indicators=1, months=2, streets=2)
LARGE = scale.Spec(years=2, items=50, indicators=3, months=12, streets=13)
YEAR = scale.Spec().first_year  # a generated plan year, in both data sets
UNIT = f"{scale.CODE_PREFIX}u01"
STREET = f"{scale.CODE_PREFIX}s01"


def url(name, *args, **query):
    path = reverse(f"livelihood:{name}", args=args)
    return f"{path}?{urlencode(query)}" if query else path


# Every public URL name on generated rows (search twice: words only, and every filter), with
# what the page must show at both sizes.
ITEM = "规模测试事项1-1"
PAGES = {
    "home": (url("home"), ITEM),
    "plan-home": (url("plan-home", YEAR), ITEM),
    "about": (url("about"), scale.DOCUMENT),
    "domain-detail": (url("domain-detail", YEAR, 1), ITEM),
    "item-detail": (url("item-detail", YEAR, "1-1"), ITEM),
    "unit-detail": (url("unit-detail", YEAR, UNIT), ITEM),
    "street-detail": (url("street-detail", YEAR, STREET), ITEM),
    "search": (url("search", YEAR, q="规模测试 事项"), ITEM),
    "search-filtered": (
        url("search", YEAR, q="事项", domain=1, unit=UNIT, status="", street=STREET),
        ITEM,
    ),
    "month-index": (url("month-index", YEAR), f"{YEAR}年2月"),
    "month-detail": (url("month-detail", YEAR, f"{YEAR}-02"), ITEM),
    "item-messages": (url("item-messages", YEAR, "1-1"), ITEM),
    "publicity": (url("publicity", YEAR), f"{YEAR}年民生实事宣传月历"),
}


@dataclass
class Measure:
    status: int = 0
    uncached: int = 0  # queries with PUBLIC_PAGE_CACHE off
    miss: int = 0  # the first request with the cache on
    hit: int = 0  # the second, the version asked of the database each time
    recent_hit: int = 0  # a third, within PUBLIC_VERSION_RECHECK_SECONDS of the second
    same_body: bool = False
    shows_content: bool = False
    error: str = ""


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response, len(captured)


def measure_pages() -> dict[str, Measure]:
    client = Client()
    results = {}
    for name, (path, content) in PAGES.items():
        found = results[name] = Measure()
        try:
            with override_settings(PUBLIC_PAGE_CACHE=False):
                response, found.uncached = queries(client, path)
            found.status = response.status_code
            found.shows_content = content in response.content.decode()
            with override_settings(PUBLIC_PAGE_CACHE=True, PUBLIC_VERSION_RECHECK_SECONDS=0):
                caches["default"].clear()
                first, found.miss = queries(client, path)
                second, found.hit = queries(client, path)
            with override_settings(PUBLIC_PAGE_CACHE=True, PUBLIC_VERSION_RECHECK_SECONDS=60):
                publication.forget_recent()
                queries(client, path)
                _, found.recent_hit = queries(client, path)
            found.same_body = first.content == second.content == response.content
        except Exception as error:  # a view that fails is reported by its own test
            found.error = f"{type(error).__name__}: {error}"
    return results


def is_test_database() -> bool:
    name = str(connection.settings_dict["NAME"])
    return "memorydb" in name or name.rsplit("/", 1)[-1].startswith("test_")


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """Needs tests marked django_db: only then does pytest-django create the test database;
    without one the data would be written to the database in settings."""
    results = {}
    with django_db_blocker.unblock():
        assert is_test_database(), connection.settings_dict["NAME"]
        try:
            for size, spec in (("small", SMALL), ("large", LARGE)):
                scale.scale_generate(spec)
                results[size] = measure_pages()
                scale.scale_remove()
        finally:
            scale.scale_remove()
            caches["default"].clear()
    return results


def describe(measured, name):
    return ", ".join(f"{size}: {measured[size][name]}" for size in ("small", "large"))


@pytest.mark.django_db  # for the test database `measured` writes to
@pytest.mark.parametrize("name", PAGES)
def test_page_runs_the_same_queries_on_a_small_and_a_large_plan(measured, name):
    small, large = measured["small"][name], measured["large"][name]
    assert not small.error and not large.error, describe(measured, name)
    assert small.status == large.status == 200, describe(measured, name)
    assert small.shows_content and large.shows_content, describe(measured, name)
    assert small.uncached == large.uncached, describe(measured, name)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_cached_page_costs_only_the_version_query_or_none(measured, name):
    for size in ("small", "large"):
        found = measured[size][name]
        assert not found.error, describe(measured, name)
        assert found.status == 200, describe(measured, name)
        assert found.miss == found.uncached + 1, describe(measured, name)
        assert found.hit == 1, describe(measured, name)
        assert found.recent_hit == 0, describe(measured, name)
        assert found.same_body, describe(measured, name)


# ------------------------------------------------------------------------------
# manage.py generate_scale_data
# ------------------------------------------------------------------------------
def generate(*args, debug=True):
    """The command as a developer runs it (tests run with DEBUG off)."""
    out = StringIO()
    with override_settings(DEBUG=debug):
        call_command("generate_scale_data", *args, stdout=out)
    return out.getvalue()


TINY = ("--years", "2", "--items", "3", "--indicators", "2", "--months", "2", "--streets", "3")


def fingerprint() -> str:
    rows = Figure.objects.order_by(
        "report__item__plan__year", "report__item__code", "report__month", "indicator__number"
    ).values_list(
        "report__item__plan__year",
        "report__item__code",
        "report__month",
        "indicator__number",
        "street__code",
        "value",
    )
    return hashlib.sha256(repr(sorted(map(str, rows))).encode()).hexdigest()


@pytest.mark.django_db
def test_generates_what_it_says_approved_and_marked_as_demo():
    output = generate(*TINY)
    assert "2000–2001 年共 2 个年度" in output
    assert "已审核月度报告 12 份" in output
    # 2 years × 3 items × 2 indicators × 2 months × (district total + 3 streets)
    assert "填报数值 96 条（其中分街镇 72 条）" in output
    assert "用时" in output
    assert list(Plan.objects.values_list("year", flat=True)) == [2001, 2000]
    assert Item.objects.count() == 6
    assert Indicator.objects.filter(has_street_breakdown=True).count() == 12
    reports = MonthlyReport.objects.all()
    assert reports.count() == 12
    assert set(reports.values_list("state", "is_demo")) == {("approved", True)}
    assert Figure.objects.count() == 96
    assert Figure.objects.filter(street__isnull=True).count() == 24
    assert set(Milestone.objects.values_list("is_demo", flat=True)) == {True}
    # Street rows of a count add up to its district total.
    count = Indicator.objects.filter(kind="count").first()
    report = count.item.reports.first()
    total = Figure.objects.get(report=report, indicator=count, street__isnull=True).value
    parts = Figure.objects.filter(report=report, indicator=count, street__isnull=False)
    assert sum(f.value for f in parts) == total


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data():
    generate(*TINY)
    first = fingerprint()
    generate("--remove")
    generate(*TINY)
    assert fingerprint() == first
    generate("--remove")
    generate(*TINY, "--seed", "7")
    assert fingerprint() != first


@pytest.mark.django_db
def test_refuses_when_scale_data_exists_and_remove_takes_it_all(plan, street):
    plan_rows = Plan.objects.count()
    generate(*TINY)
    with pytest.raises(CommandError, match="已有规模测试数据（2000–2001 年）"):
        generate(*TINY)
    # The district's real street is used, not duplicated, and survives the removal.
    assert Figure.objects.filter(street=street).exists()
    assert Street.objects.filter(code__startswith=scale.CODE_PREFIX).count() == 2
    assert "已删除规模测试数据：计划 2 个" in generate("--remove")
    assert Plan.objects.count() == plan_rows == 1
    assert Plan.objects.get().year == 2024
    assert not LeadUnit.objects.filter(code__startswith=scale.CODE_PREFIX).exists()
    assert list(Street.objects.all()) == [street]
    assert not MonthlyReport.objects.exists() and not Figure.objects.exists()
    assert "没有规模测试数据" in generate("--remove")


@pytest.mark.django_db
def test_refuses_years_of_a_real_plan(plan):
    with pytest.raises(CommandError, match="2024 年已有计划"):
        generate("--first-year", "2020", "--years", "10", "--items", "1")
    assert not scale.scale_exists()


@pytest.mark.django_db
def test_refuses_impossible_sizes():
    with pytest.raises(CommandError, match="--months 应在 1 到 12 之间"):
        generate("--months", "13")
    with pytest.raises(CommandError, match="年度应在 2000 到 2100 之间"):
        generate("--first-year", "2095", "--years", "10")


@pytest.mark.django_db
def test_refuses_in_production_without_force():
    with pytest.raises(CommandError, match="--force"):
        generate(*TINY, debug=False)
    assert not scale.scale_exists()
    generate(*TINY, "--force", debug=False)
    assert scale.scale_exists()
    generate("--remove", debug=False)  # taking it away needs no --force
    assert not scale.scale_exists()


@pytest.mark.django_db(transaction=True)
def test_generating_and_removing_publish_a_new_version_once_each():
    before = PublicationVersion.objects.get().counter
    generate(*TINY)
    assert PublicationVersion.objects.get().counter == before + 1
    generate("--remove")
    assert PublicationVersion.objects.get().counter == before + 2


@pytest.mark.django_db
def test_generated_plan_is_shown_as_demo_data_and_stays_behind_the_real_plan(client, plan):
    generate(*TINY)
    page = client.get(url("home")).content.decode()
    assert "瑶海区2024年50项民生实事" in page  # the real plan stays the front page
    assert "<strong>演示数据</strong>" in page
    assert client.get(url("plan-home", 2001)).status_code == 200
    assert datetime.date(2001, 2, 1) in set(
        MonthlyReport.objects.filter(item__plan__year=2001).values_list("month", flat=True)
    )
