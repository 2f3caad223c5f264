"""Publicity: the monthly themes (一月一主题) and the concentrated publicity months, on the
public calendar and on the home page in their month."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from livelihood.models import (
    Domain,
    PublicityMonth,
)

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def theme(plan, month, title, *, campaign=False, items=()):
    entry = PublicityMonth.objects.create(
        plan=plan, month=datetime.date(plan.year, month, 1), theme=title, campaign=campaign
    )
    entry.items.set(items)
    return entry


@pytest.fixture
def june(monkeypatch):
    moment = datetime.datetime(2024, 6, 12, 10, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def calendar_url(year=2024):
    return reverse("livelihood:publicity", args=[year])


def test_calendar_shows_each_months_theme_the_campaigns_and_featured_items(client, plan, make_item):
    jobs = make_item("1-1", title="城镇新增就业")
    theme(plan, 6, "就业服务宣传月", campaign=True, items=[jobs])
    theme(plan, 9, "助残服务")
    theme(plan, 11, "民生实事集中宣传", campaign=True)
    page = client.get(calendar_url()).content.decode()
    assert "2024年民生实事宣传月历" in page
    assert "就业服务宣传月" in page and "助残服务" in page
    assert page.count('class="tag tag--campaign"') == 2
    assert 'id="m6"' in page and jobs.get_absolute_url() in page
    assert "本月未设宣传主题" in page  # the other months say so
    assert 'href="#m11"' in page


def test_calendar_without_themes_says_so(client, plan):
    page = client.get(calendar_url()).content.decode()
    assert "尚未发布2024年的宣传安排" in page


def test_calendar_runs_a_fixed_number_of_queries(client, plan, make_item):
    theme(plan, 1, "一月主题", items=[make_item()])
    with CaptureQueriesContext(connection) as small:
        client.get(calendar_url())
    for month in range(2, 13):
        theme(plan, month, f"{month}月主题", items=[make_item(), make_item()])
    with CaptureQueriesContext(connection) as large:
        page = client.get(calendar_url()).content.decode()
    assert len(small) == len(large)
    assert "12月主题" in page


def test_home_page_shows_the_theme_in_its_month_only(client, plan, make_item, june):
    jobs = make_item("1-1", title="城镇新增就业")
    theme(plan, 6, "就业服务宣传月", campaign=True, items=[jobs])
    theme(plan, 7, "七月主题")
    page = client.get(reverse("livelihood:home")).content.decode()
    assert "6月宣传主题" in page and "就业服务宣传月" in page and "集中宣传月" in page
    assert "七月主题" not in page
    assert page.count(jobs.get_absolute_url()) >= 2  # the theme links the item
    assert calendar_url() in page


def test_home_page_without_a_theme_this_month_shows_none(client, plan, june):
    theme(plan, 5, "五月主题")
    page = client.get(reverse("livelihood:home")).content.decode()
    assert "五月主题" not in page and "宣传主题" not in page


def test_home_page_query_count_does_not_depend_on_the_theme(client, plan, make_item, june):
    featured = [make_item(), make_item()]
    with CaptureQueriesContext(connection) as without:
        client.get(reverse("livelihood:home"))
    theme(plan, 6, "就业服务宣传月", items=featured)
    with CaptureQueriesContext(connection) as with_theme:
        client.get(reverse("livelihood:home"))
    assert len(without) == len(with_theme)


def test_one_theme_per_month_and_one_campaign_per_half_year(plan):
    theme(plan, 3, "三月", campaign=True)
    with pytest.raises(ValidationError, match="上半年已有集中宣传月"):
        PublicityMonth(
            plan=plan, month=datetime.date(2024, 5, 1), theme="五月", campaign=True
        ).clean()
    with transaction.atomic(), pytest.raises(IntegrityError):
        theme(plan, 5, "五月", campaign=True)
    with transaction.atomic(), pytest.raises(IntegrityError):
        theme(plan, 3, "又一个三月")
    theme(plan, 10, "十月", campaign=True)  # the second half-year has its own
    with pytest.raises(ValidationError, match="应在2024年内"):
        PublicityMonth(plan=plan, month=datetime.date(2025, 1, 1), theme="x").clean()


def test_the_office_manages_themes_in_the_admin_with_items_of_the_plan_only(
    client, plan, make_item, later
):
    office = User.objects.create_superuser("office")
    client.force_login(office)
    mine = make_item("1-1")
    foreign = make_item(plan=later, domain=Domain.objects.create(plan=later, number=1, name="x"))
    url = reverse("admin:livelihood_publicitymonth_add")
    data = {"plan": plan.pk, "month_number": "6", "theme": "就业服务", "campaign": "on"}
    response = client.post(url, data | {"items": [mine.pk, foreign.pk]})
    assert response.status_code == 200
    assert "重点宣传事项应属于本年度计划" in response.content.decode()
    response = client.post(url, data | {"items": [mine.pk]})
    assert response.status_code == 302
    entry = PublicityMonth.objects.get()
    assert entry.month == datetime.date(2024, 6, 1) and entry.half == 1
    assert list(entry.items.all()) == [mine]
    again = client.post(url, data | {"theme": "重复", "campaign": ""})
    assert "该月份已有宣传主题" in again.content.decode()
    clash = client.post(url, data | {"month_number": "4", "theme": "四月"})
    assert "上半年已有集中宣传月" in clash.content.decode()


def test_a_new_theme_reaches_cached_pages(client, plan):
    """Saving a theme raises the publication version (livelihood/operations/signals.py)."""
    from livelihood.operations import publication

    theme(plan, 6, "就业服务")
    assert publication.bump_pending()
