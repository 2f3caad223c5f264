"""The public pages show what a resident should read, and only approved figures."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from livelihood.models import Domain, Milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def employment(make_item, make_indicator, report):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    return item, indicator


def test_home_shows_domains_items_status_and_data_month(client, employment, report):
    item, indicator = employment
    report(item, "2024-06", {indicator: "3600"})
    page = client.get(reverse("livelihood:home")).content.decode()
    assert "瑶海区2024年50项民生实事" in page
    assert "1. 就业创业" in page
    assert "城镇新增就业" in page
    assert "数据截至 <strong>2024年6月</strong>" in page
    assert "正常推进" in page  # 3600 / 11500 = 31.3% against 33.3% expected
    assert "31.3%" in page
    assert "本平台已录入 <strong>1</strong> 项" in page


def test_home_ignores_unapproved_reports(client, employment, report):
    item, indicator = employment
    report(item, "2024-06", {indicator: "9999"}, state="submitted")
    page = client.get(reverse("livelihood:home")).content.decode()
    assert "暂无已审核的月度数据" in page
    assert "未启动" in page
    assert "86.9%" not in page


def test_item_page_shows_targets_as_written_and_monthly_figures(client, employment, report):
    item, indicator = employment
    report(item, "2024-05", {indicator: "2300"})
    report(item, "2024-06", {indicator: "11500"}, narrative="本月新增就业9200人。")
    report(item, "2024-07", {indicator: "12000"}, state="draft")
    page = client.get(item.get_absolute_url()).content.decode()
    assert "≥1.15万人" in page
    assert "2300人" in page  # May, in plain units as residents count
    assert "（11500人）" in page  # the latest, in plain units
    assert "12000人" not in page  # the draft is not public
    assert "已完成" in page
    assert "本月新增就业9200人。" in page
    assert "区人力资源和社会保障局" in page


def test_item_page_shows_delay_reason_when_behind(client, employment, report):
    item, indicator = employment
    report(
        item,
        "2024-09",
        {indicator: "2000"},
        delay_reason="funds",
        delay_note="专项资金9月下旬到位。",
        confidence=2,
    )
    page = client.get(item.get_absolute_url()).content.decode()
    assert "滞后" in page
    assert "资金未到位" in page
    assert "专项资金9月下旬到位。" in page


def test_item_page_shows_approved_milestones_only(client, make_item, report, milestone):
    item = make_item("2-1", title="城乡低保和特困人员生活保障")
    approved = report(item, "2024-06")
    draft = report(item, "2024-07", state="draft")
    milestone(item, datetime.date(2024, 6, 15), done_in=approved, title="完成摸底")
    milestone(item, datetime.date(2024, 7, 15), done_in=draft, title="提标发放")
    page = client.get(item.get_absolute_url()).content.decode()
    assert "文件未列出量化指标" in page
    assert "已完成（6月15日）" in page
    assert page.count("未完成") == 1
    assert Milestone.objects.count() == 2


def test_item_page_shows_street_breakdown(client, employment, report, street):
    item, indicator = employment
    report(item, "2024-06", {indicator: "500"}, streets={(indicator, street): "120"})
    page = client.get(item.get_absolute_url()).content.decode()
    assert "明光路街道" in page
    assert "120人" in page


def test_unknown_item_is_a_chinese_404(client, plan):
    response = client.get(reverse("livelihood:item-detail", args=[2024, "99-9"]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_demo_banner_shows_while_demo_data_exists(client, employment, report):
    item, indicator = employment
    real = report(item, "2024-05", {indicator: "100"})
    assert "演示数据" not in client.get(reverse("livelihood:home")).content.decode()
    demo = report(item, "2024-06", {indicator: "200"}, is_demo=True)
    for url in (reverse("livelihood:home"), item.get_absolute_url()):
        assert "<strong>演示数据</strong>" in client.get(url).content.decode()
    demo.delete()
    real.delete()
    assert "演示数据" not in client.get(reverse("livelihood:home")).content.decode()


def test_pages_load_nothing_from_other_hosts_and_need_no_inline_code(client, employment):
    item, _ = employment
    for url in (reverse("livelihood:home"), item.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "<script" not in page
        assert "style=" not in page
        assert "<style" not in page
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page)
        assert '<html lang="zh-Hans">' in page
        assert 'href="#main-content"' in page
        assert page.count("<h1") == 1


def build(plan, make_item, make_indicator, report, *, items, months):
    """`items` items in two domains, each with two indicators and `months` approved reports."""
    second, _ = Domain.objects.get_or_create(plan=plan, number=2, name="社会保障")
    for number in range(items):
        item = make_item(**({"domain": second} if number % 2 else {}))
        count = make_indicator(item, "100")
        rate = make_indicator(item, "99", kind="rate", unit="%")
        for month in range(4, 4 + months):
            report(item, f"2024-{month:02d}", {count: str(month * 5), rate: "98"})


@pytest.mark.parametrize("url_name", ["livelihood:home"])
def test_home_runs_a_fixed_number_of_queries(
    client, plan, make_item, make_indicator, report, url_name
):
    build(plan, make_item, make_indicator, report, items=2, months=1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    build(plan, make_item, make_indicator, report, items=12, months=6)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(small) == len(large) <= 10


def test_item_page_runs_a_fixed_number_of_queries(client, plan, make_item, make_indicator, report):
    item = make_item()
    count = make_indicator(item, "100")
    report(item, "2024-04", {count: "5"})
    with CaptureQueriesContext(connection) as small:
        client.get(item.get_absolute_url())
    for month in range(5, 13):
        report(item, f"2024-{month:02d}", {count: str(month * 5)})
    with CaptureQueriesContext(connection) as large:
        client.get(item.get_absolute_url())
    assert len(small) == len(large)
