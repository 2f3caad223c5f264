"""
Which cached pages a change moves (livelihood/operations/publication.py, `Versions`): a change
within one plan leaves the other plan years' pages cached; a change every page shows (a street,
a lead unit, the plans themselves, demo data appearing) moves them all; the pages outside a
plan year (home, the plan list) move with every change.

These tests commit (transaction=True): the versions are raised when a change commits.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from livelihood.models import (
    Domain,
    Figure,
    Indicator,
    Item,
    MonthlyReport,
    Plan,
    PlanVersion,
)
from livelihood.operations import publication
from livelihood.reporting import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _version_asked_every_time(settings):
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0


def state(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response["X-Page-Cache"]


@pytest.fixture
def two_years(make_item, make_indicator, report, unit):
    """The 2024 plan with an item approved in May, and a 2023 plan with one of its own."""
    current = make_item("1-1", title="城镇新增就业")
    figure = make_indicator(current, "1.15", unit="万人")
    may = report(current, "2024-05", {figure: "2300"})
    earlier_plan = Plan.objects.create(
        year=2023,
        title="瑶海区2023年民生实事",
        issued_on=datetime.date(2023, 4, 1),
        declared_item_count=1,
    )
    domain = Domain.objects.create(plan=earlier_plan, number=1, name="就业创业")
    earlier = Item.objects.create(
        plan=earlier_plan, domain=domain, lead_unit=unit, code="1-1", order=1, title="老旧小区"
    )
    old_figure = Indicator.objects.create(
        item=earlier,
        number=1,
        name="改造小区",
        kind="count",
        comparator="gte",
        target=Decimal(10),
        unit="个",
    )
    report(earlier, "2023-06", {old_figure: "4"})
    return {"current": current, "figure": figure, "may": may, "earlier": earlier}


def pages(two_years):
    return {
        "home": "/",
        "plans": "/plans/",
        "current item": two_years["current"].get_absolute_url(),
        "earlier item": two_years["earlier"].get_absolute_url(),
        "earlier plan": "/2023/",
    }


def cache_all(client, paths):
    for path in paths.values():
        client.get(path)
    return {name: state(client, path) for name, path in paths.items()}


def test_an_approval_leaves_the_earlier_years_pages_cached(client, two_years, office, report):
    paths = pages(two_years)
    assert set(cache_all(client, paths).values()) == {"hit"}
    june = report(two_years["current"], "2024-06", {two_years["figure"]: "5000"}, state="submitted")
    services.report_approve(report=june, user=User.objects.get(username="office"))
    after = {name: state(client, path) for name, path in paths.items()}
    assert after == {
        "home": "miss",
        "plans": "miss",
        "current item": "miss",
        "earlier item": "hit",
        "earlier plan": "hit",
    }
    assert "5000人" in client.get(paths["current item"]).content.decode()


def test_a_street_renamed_moves_every_years_pages(client, two_years, street):
    paths = pages(two_years)
    cache_all(client, paths)
    street.name = "明光路街道办事处"
    street.save()
    after = {name: state(client, path) for name, path in paths.items()}
    assert set(after.values()) == {"miss"}


def test_a_figure_corrected_moves_its_own_plan_only(client, two_years):
    paths = pages(two_years)
    cache_all(client, paths)
    figure = Figure.objects.get(report=two_years["may"])
    figure.value = Decimal("2400")
    figure.save()  # its plan found through the report, when the change commits
    after = {name: state(client, path) for name, path in paths.items()}
    assert (after["current item"], after["earlier item"], after["earlier plan"]) == (
        "miss",
        "hit",
        "hit",
    )


def test_demo_data_appearing_moves_every_page_and_editing_it_only_its_plan(
    client, two_years, report
):
    paths = pages(two_years)
    cache_all(client, paths)
    demo = report(two_years["current"], "2024-07", is_demo=True)
    assert set(state(client, path) for path in paths.values()) == {"miss"}
    assert "演示数据" in client.get(paths["earlier plan"]).content.decode()
    demo.delay_reason = "资金未到位"
    demo.save()
    after = {name: state(client, path) for name, path in paths.items()}
    assert (after["current item"], after["earlier item"]) == ("miss", "hit")
    demo.delete()  # the banner goes from every page
    assert set(state(client, path) for path in paths.values()) == {"miss"}
    assert "演示数据" not in client.get(paths["earlier plan"]).content.decode()


def test_a_transaction_raises_each_plan_it_touched_once(two_years):
    before = {v.plan.year: v.counter for v in PlanVersion.objects.select_related("plan")}
    with transaction.atomic():
        for item in (two_years["current"], two_years["earlier"]):
            item.title += "（调整）"
            item.save()
            item.save()
    after = {v.plan.year: v.counter for v in PlanVersion.objects.select_related("plan")}
    assert after == {2024: before.get(2024, 0) + 1, 2023: before.get(2023, 0) + 1}


def test_a_rolled_back_change_raises_nothing(two_years):
    before = publication.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        two_years["current"].save()
        raise RuntimeError
    assert publication.current() == before


def test_a_row_gone_before_the_commit_moves_every_page(two_years):
    """Its plan can no longer be looked up: the whole site is raised, never too little."""
    before = publication.current()
    with transaction.atomic():
        figure = Figure.objects.get(report=two_years["may"])
        figure.value = Decimal("1")
        figure.save()
        MonthlyReport.objects.filter(pk=two_years["may"].pk).delete()
    after = publication.current()
    assert after.site.counter == before.site.counter + 1


def test_the_versions_are_one_query_whatever_the_number_of_plans(two_years):
    for year in range(2015, 2023):
        Plan.objects.create(
            year=year, title=f"{year}", issued_on=datetime.date(year, 4, 1), declared_item_count=1
        )
    publication.bump_now(site=False, plans=Plan.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        versions = publication.current()
    assert len(queries) == 1
    assert set(versions.plans) == set(range(2015, 2025))
    publication.bump_now(site=False, plans=[Plan.objects.get(year=2024).pk])
    moved = publication.current()
    assert moved.for_page(2023) == versions.for_page(2023)
    assert moved.for_page(2024).token != versions.for_page(2024).token
    assert moved.token != versions.token
    assert versions.for_page(None).token == versions.token
    # A plan nothing was published in yet is keyed on the site's version alone.
    assert versions.for_page(1999).token.endswith("/-")
    assert versions.for_page(2024).changed_at <= timezone.now()


def test_a_change_of_very_many_rows_moves_every_page(two_years, monkeypatch):
    """Beyond MAX_LOOKUP rows their plans are not looked up: the whole site is raised."""
    monkeypatch.setattr(publication, "MAX_LOOKUP", 0)
    before = publication.current()
    figure = Figure.objects.get(report=two_years["may"])
    figure.value = Decimal("2400")
    figure.save()
    assert publication.current().site.counter == before.site.counter + 1
