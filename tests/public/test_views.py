"""The public pages show what a resident should read, and only approved figures."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from livelihood.models import (
    Domain,
    Milestone,
)

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


def build(plan, make_item, make_indicator, report, *, items, months, street=None):
    """`items` items in two domains, each with two indicators and `months` approved reports,
    broken down for `street` when given."""
    second, _ = Domain.objects.get_or_create(plan=plan, number=2, name="社会保障")
    for number in range(items):
        item = make_item(**({"domain": second} if number % 2 else {}))
        count = make_indicator(item, "100")
        rate = make_indicator(item, "99", kind="rate", unit="%")
        for month in range(4, 4 + months):
            streets = {(count, street): str(month)} if street else None
            report(item, f"2024-{month:02d}", {count: str(month * 5), rate: "98"}, streets=streets)


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
    assert len(small) == len(large) <= 14


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


# ------------------------------------------------------------------------------
# Domain, unit, street, search, month view, about
# ------------------------------------------------------------------------------
def test_domain_page_lists_its_items_with_targets_figures_and_lead_unit(client, employment, report):
    item, indicator = employment
    report(item, "2024-06", {indicator: "3600"})
    page = client.get(reverse("livelihood:domain-detail", args=[2024, 1])).content.decode()
    assert "<h1>1. 就业创业</h1>" in page
    assert "≥1.15万人" in page
    assert "3600人" in page
    assert "31.3%" in page
    assert "区人力资源和社会保障局" in page
    assert "正常推进" in page


def test_unknown_domain_is_404(client, plan):
    assert client.get(reverse("livelihood:domain-detail", args=[2024, 11])).status_code == 404


def test_unit_page_shows_its_items_and_reporting_punctuality(
    client, settings, employment, report, unit
):
    settings.REPORT_DUE_DAY = 5
    item, indicator = employment
    on_time = report(item, "2024-04", {indicator: "1000"})
    late = report(item, "2024-05", {indicator: "2000"})
    type(on_time).objects.filter(pk=on_time.pk).update(
        submitted_at=datetime.datetime(2024, 5, 5, 9, tzinfo=datetime.UTC)
    )
    type(late).objects.filter(pk=late.pk).update(
        submitted_at=datetime.datetime(2024, 6, 9, 9, tzinfo=datetime.UTC)
    )
    page = client.get(reverse("livelihood:unit-detail", args=[2024, unit.code])).content.decode()
    assert "<h1>区人力资源和社会保障局</h1>" in page
    assert "城镇新增就业" in page
    # Due so far: April to December 2024 (9 months); April on time, May late, 7 missing.
    assert "应报 <strong>9</strong> 份" in page
    assert "按时报送 <strong>1</strong> 份" in page
    assert "按时报送率 <strong>11.1%</strong>" in page
    assert "逾期报送 1 份，未报 7 份" in page


def test_street_page_shows_items_reported_for_that_street(client, employment, report, street):
    item, indicator = employment
    report(item, "2024-06", {indicator: "500"}, streets={(indicator, street): "120"})
    report(item, "2024-07", {indicator: "900"}, streets={(indicator, street): "180"}, state="draft")
    url = reverse("livelihood:street-detail", args=[2024, street.code])
    page = client.get(url).content.decode()
    assert "<h1>明光路街道</h1>" in page
    assert "城镇就业人员新增：120人（2024年6月）" in page
    assert "180人" not in page


def test_street_without_figures_says_so(client, plan, street):
    page = client.get(reverse("livelihood:street-detail", args=[2024, street.code]))
    assert "暂无分街镇填报的已审核数值" in page.content.decode()


@pytest.fixture
def disability_items(make_item, make_indicator, report, other_unit):
    rehab = make_item("3-2", title="残疾人康复救助", lead_unit=other_unit)
    report(rehab, "2024-06", {make_indicator(rehab, "856", unit="名"): "100"})
    training = make_item("3-3", title="残疾人职业技能和创业培训", lead_unit=other_unit)
    report(training, "2024-06", {make_indicator(training, "85", unit="人（次）"): "60"})
    parking = make_item("7-1", title="城市停车泊位")
    return rehab, training, parking


def codes_in(response):
    return {item.code for item in response.context["items"]}


def test_two_character_chinese_query_finds_the_items(client, disability_items):
    response = client.get(reverse("livelihood:search", args=[2024]), {"q": "残疾"})
    assert codes_in(response) == {"3-2", "3-3"}
    assert "共 <strong>2</strong> 项" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"unit": "cl"}, {"3-2", "3-3"}),
        ({"unit": "rsj"}, {"7-1"}),
        ({"status": "behind"}, {"3-2"}),  # 100 of 856 in June: 11.7% against 33.3%
        ({"status": "on_track"}, {"3-3"}),
        ({"status": "not_started"}, {"7-1"}),
        ({"domain": "1"}, {"3-2", "3-3", "7-1"}),
        ({"q": "康复", "unit": "cl"}, {"3-2"}),
    ],
)
def test_filters_are_plain_get_parameters(client, disability_items, params, codes):
    response = client.get(reverse("livelihood:search", args=[2024]), params)
    assert codes_in(response) == codes


def test_filter_by_street_finds_items_reported_there(client, disability_items, report, street):
    rehab, *_ = disability_items
    indicator = rehab.indicators.get()
    report(rehab, "2024-07", {indicator: "200"}, streets={(indicator, street): "30"})
    response = client.get(reverse("livelihood:search", args=[2024]), {"street": street.code})
    assert codes_in(response) == {"3-2"}


def test_a_bad_filter_value_gets_a_message_not_an_error(client, disability_items):
    response = client.get(reverse("livelihood:search", args=[2024]), {"status": "gone"})
    assert response.status_code == 200
    assert "请从列表中选择。" in response.content.decode()


def test_month_view_shows_the_plan_as_approved_by_the_end_of_that_month(client, employment, report):
    item, indicator = employment
    june = report(item, "2024-06", {indicator: "3600"})
    july = report(item, "2024-07", {indicator: "5000"})
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    type(june).objects.filter(pk=june.pk).update(
        reviewed_at=datetime.datetime(2024, 7, 4, 10, tzinfo=shanghai)
    )
    type(july).objects.filter(pk=july.pk).update(
        reviewed_at=datetime.datetime(2024, 8, 3, 10, tzinfo=shanghai)
    )
    july_view = client.get(reverse("livelihood:month-detail", args=[2024, "2024-07"]))
    page = july_view.content.decode()
    assert "数据截至 2024年6月" in page
    assert "31.3%" in page  # June's 3600 / 11500
    assert "43.5%" not in page  # July's figure, approved in August, is not there yet
    august = client.get(reverse("livelihood:month-detail", args=[2024, "2024-08"])).content
    assert "43.5%" in august.decode()
    assert "+12.2 个百分点" in august.decode()  # what changed since the end of July


def test_month_view_outside_the_plan_is_404(client, plan):
    assert client.get(reverse("livelihood:month-detail", args=[2024, "2024-02"])).status_code == 404
    assert client.get(reverse("livelihood:month-detail", args=[2024, "2024-13"])).status_code == 404


def test_month_index_lists_the_plans_months(client, plan):
    page = client.get(reverse("livelihood:month-index", args=[2024])).content.decode()
    assert "2024年4月底" in page and "2024年12月底" in page
    assert "2024年3月底" not in page


def test_about_page_explains_the_plan_and_gives_the_contact(client, plan, domain):
    page = client.get(reverse("livelihood:about")).content.decode()
    for text in (
        "瑶民生办〔2024〕1号",
        "合民生办〔2024〕1号",
        "2024年4月24日",
        "就业创业",
        "序时进度",
        "俞军",
        "0551-64498156",
    ):
        assert text in page


def test_item_page_has_trend_chart_with_table_change_log_and_qr_code(client, employment, report):
    item, indicator = employment
    report(
        item,
        "2024-05",
        {indicator: "2300"},
        reviewed_at=datetime.datetime(2024, 6, 4, 2, tzinfo=datetime.UTC),
    )
    report(item, "2024-06", {indicator: "3600"})
    page = client.get(item.get_absolute_url()).content.decode()
    assert '<svg viewBox="0 0 480 240" role="img"' in page
    assert "<polyline" in page
    assert "逐月已审核数值与进度" in page  # the chart's numbers as a table
    assert "2024年6月4日</strong>" in page and "审核公开2024年5月数据" in page
    assert "城镇就业人员新增 3600人（较上次 +1300人）" in page
    assert 'class="qr"' in page and "http://testserver/2024/items/1-1/" in page


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("livelihood:home", []),
        ("livelihood:domain-detail", [2024, 1]),
        ("livelihood:unit-detail", [2024, "rsj"]),
        ("livelihood:street-detail", [2024, "mingguanglu"]),
        ("livelihood:search", [2024]),
        ("livelihood:month-detail", [2024, "2024-09"]),
        ("livelihood:about", []),
    ],
)
def test_every_list_page_runs_a_fixed_number_of_queries(
    client, plan, make_item, make_indicator, report, street, name, args
):
    url = reverse(name, args=args)
    query = {"q": "事项", "status": "on_track"} if name == "livelihood:search" else {}
    build(plan, make_item, make_indicator, report, items=2, months=1, street=street)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, query).status_code == 200
    build(plan, make_item, make_indicator, report, items=10, months=6, street=street)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url, query).status_code == 200
    assert len(small) == len(large)


def test_server_error_page_is_chinese_and_needs_no_database(rf):
    from livelihood.public.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "系统暂时出错" in page and '<html lang="zh-Hans">' in page


def test_server_error_page_when_the_page_itself_cannot_render(rf, monkeypatch):
    # e.g. DEBUG off and collectstatic not run: {% static %} has no manifest entry.
    from livelihood.public import errors

    def broken(name):
        raise ValueError("Missing staticfiles manifest entry for 'css/site.css'")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    response = errors.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "系统暂时出错" in response.content.decode()


def test_public_and_admin_pages_name_the_sites_own_icon(client, plan, admin_user):
    """Without a <link rel="icon">, every browser asks for /favicon.ico and gets the 404 page
    rendered for it."""
    from django.conf import settings

    icon = 'rel="icon" href="/static/img/favicon.svg"'
    assert icon in client.get(reverse("livelihood:home")).content.decode()
    assert icon in client.get(reverse("admin:login")).content.decode()
    client.force_login(admin_user)
    assert icon in client.get(reverse("admin:index")).content.decode()
    assert (settings.BASE_DIR / "static" / "img" / "favicon.svg").read_text().startswith("<svg")


# ------------------------------------------------------------------------------
# Issue 14: every number a page shows agrees with the others
# ------------------------------------------------------------------------------
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _approved_on(report, day):
    type(report).objects.filter(pk=report.pk).update(
        reviewed_at=datetime.datetime(*day, 10, tzinfo=SHANGHAI)
    )


def _month_row(page, code):
    """The cells of an item's row in the month view, as text."""
    row = re.search(rf'<span class="item-code">{re.escape(code)}</span>.*?</tr>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))


def test_month_view_change_is_the_difference_of_the_uncapped_numbers_it_shows(
    client, make_item, make_indicator, report
):
    item = make_item("10-3", title="食品安全“你点我检”")
    indicator = make_indicator(item, "100", unit="批次")
    for month, value, day in (
        ("2024-09", "86.5", (2024, 10, 3)),
        ("2024-10", "104", (2024, 11, 3)),
        ("2024-11", "124", (2024, 12, 3)),
    ):
        _approved_on(report(item, month, {indicator: value}), day)
    november = client.get(reverse("livelihood:month-detail", args=[2024, "2024-11"]))
    row = _month_row(november.content.decode(), "10-3")
    assert "104%" in row
    assert "+17.5 个百分点" in row  # 104 − 86.5, not the capped 100 − 86.5
    december = client.get(reverse("livelihood:month-detail", args=[2024, "2024-12"]))
    page = december.content.decode()
    row = _month_row(page, "10-3")
    assert "124%" in row
    assert "+20 个百分点" in row  # both over 100%: the capped values would say 无变化
    assert "无变化" not in row
    assert "<strong>1</strong> 项事项的进度或状态有变化" in page


def test_unit_page_summary_counts_its_overdue_items(client, make_item, make_indicator, report):
    reported = make_item("3-5")
    make_indicator(reported, "10")
    silent = make_item("3-6", title="法律援助")
    make_indicator(silent, "680", unit="件")
    for number in range(4, 13):
        report(reported, f"2024-{number:02}", {reported.indicators.get(): "1"})
    page = client.get(reverse("livelihood:unit-detail", args=[2024, "rsj"])).content.decode()
    standing = page[page.index('id="standing-heading"') : page.index('id="punctuality-heading"')]
    assert re.search(r"逾期未报</span>\s*1 项", standing)
    # The same count the home page shows for the whole plan.
    home = client.get(reverse("livelihood:home")).content.decode()
    assert re.search(r"逾期未报</span></th><td>1 项", home)


def test_a_standard_target_reads_as_the_source_writes_it(client, make_item, make_indicator):
    item = make_item("1-2", title="毕业生求职创业补贴")
    make_indicator(item, "1500", kind="standard", comparator="eq", unit="元/人", name="补贴标准")
    for name, args in (("item-detail", [2024, "1-2"]), ("domain-detail", [2024, 1])):
        page = client.get(reverse(f"livelihood:{name}", args=args)).content.decode()
        assert "1500元/人" in page
        assert "（标准）" not in page
    item_page = client.get(reverse("livelihood:item-detail", args=[2024, "1-2"])).content
    assert "标准类指标，按工作节点计算进度" in item_page.decode()


def test_milestone_items_are_expected_to_follow_their_milestone_dates_as_published(
    client, make_item, make_indicator, report, milestone
):
    item = make_item("2-1", title="城乡低保和特困人员生活保障")
    july = report(item, "2024-07")
    milestone(item, datetime.date(2024, 6, 30), done_in=july)
    milestone(item, datetime.date(2024, 11, 30))
    page = client.get(reverse("livelihood:item-detail", args=[2024, "2-1"])).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # One of two milestones planned by the end of July: 50%, not the linear 4/9 = 44.4%.
    assert "完成 50% ，序时进度 50%" in text
    assert "44.4%" not in text
    about = client.get(reverse("livelihood:about")).content.decode()
    assert "按工作节点的计划完成日期：计划在数据截至月份月底前完成的节点数 ÷ 计划节点数" in about
    home = client.get(reverse("livelihood:home")).content.decode()
    assert "标准类和定性类按各节点的计划完成日期" in home
    assert "未设月度计划的按印发当月至12月平均推进" not in home
