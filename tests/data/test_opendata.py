"""Open data (issue 5): the downloads, the data page and the Atom feed carry approved figures
only, never a staff name, mark demo rows, neutralise formulas, and cost a fixed number of
queries whatever the amount of data."""

import csv
import datetime
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from livelihood.data import resources
from livelihood.data.opendata import (
    FORMATS,
    field_docs,
)
from livelihood.data.spreadsheet import neutralise
from livelihood.devdata import scale
from livelihood.models import MonthlyReport
from livelihood.progress import arithmetic as progress
from livelihood.progress import method
from livelihood.snapshots import build, read
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild, View
from tests.builders import leave_unwritten
from tests.data.downloads import body

DATASETS = [resource.slug for resource in resources.DOWNLOADS]
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]
ATOM = "{http://www.w3.org/2005/Atom}"


def download_url(dataset, fmt, year=2024):
    return reverse("livelihood:download", args=[year, dataset, fmt])


def text_of(response, fmt) -> str:
    """What a download says, as text: CSV and JSON decoded, XLSX every cell of every sheet."""
    data = body(response)
    if fmt == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return data.decode("utf-8-sig")


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"), newline="")))


def xlsx_sheet(response):
    return openpyxl.load_workbook(io.BytesIO(body(response))).worksheets[0]


def json_rows(response) -> list[dict]:
    return json.loads(body(response))["data"]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "zhangwei", email="zhangwei@example.gov.cn", first_name="伟", last_name="张"
    )


@pytest.fixture
def published(make_item, make_indicator, report, street, staff):
    """An item with an approved June (a district total and a street), and a July in every
    state residents must not see, each with figures that appear nowhere else."""
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    approved = report(
        item,
        "2024-06",
        {indicator: "3600"},
        streets={(indicator, street): "1200"},
        narrative="本月新增就业1300人。",
        created_by=staff,
        submitted_by=staff,
        reviewed_by=staff,
        reviewed_at=datetime.datetime(2024, 7, 4, 2, tzinfo=datetime.UTC),
    )
    hidden = {}
    for state, value in (("draft", "9101"), ("submitted", "9202"), ("returned", "9303")):
        hidden[state] = report(
            make_item(title=f"未公开{state}"),
            "2024-07",
            {make_indicator(item.plan.items.get(title=f"未公开{state}"), "100"): value},
            state=state,
            narrative=f"未审核说明{state}",
            created_by=staff,
        )
    report(item, "2024-07", {indicator: "9404"}, state="submitted", narrative="待审核说明")
    return item, indicator, approved


HIDDEN_TEXTS = ("9101", "9202", "9303", "9404", "未审核说明", "待审核说明")
STAFF_TEXTS = ("zhangwei", "张伟", "张 伟", "伟", "example.gov.cn")


# ------------------------------------------------------------------------------
# What is in them
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dataset", DATASETS)
def test_unapproved_figures_and_staff_never_appear_in_a_download(client, published, dataset, fmt):
    response = client.get(download_url(dataset, fmt))
    assert response.status_code == 200
    text = text_of(response, fmt)
    for hidden in HIDDEN_TEXTS + STAFF_TEXTS:
        assert hidden not in text, (dataset, fmt, hidden)


def test_figures_download_holds_the_approved_total_and_street_row(client, published, street):
    rows = csv_rows(client.get(download_url("figures", "csv")))
    assert [(r["月份"], r["街镇"], r["数值（基本单位）"], r["数值（原文单位）"]) for r in rows] == [
        ("2024-06", "", "3600", "0.36"),
        ("2024-06", "明光路街道", "1200", "0.12"),
    ]
    assert rows[0]["审核公开日期"] == "2024-07-04"
    assert rows[0]["演示数据"] == "否"


def test_feed_has_approved_reports_only_and_no_staff(client, published):
    feed = client.get(reverse("livelihood:feed")).content.decode()
    for hidden in (*HIDDEN_TEXTS, "zhangwei", "张伟"):
        assert hidden not in feed
    assert "城镇就业人员新增 3600人" in feed


def test_demo_rows_are_marked_in_every_dataset(client, make_item, make_indicator, report):
    real = make_item("1-1", title="真实事项")
    demo = make_item("1-2", title="演示事项")
    report(real, "2024-06", {make_indicator(real, "100"): "10"})
    report(demo, "2024-06", {make_indicator(demo, "100"): "20"}, is_demo=True)
    by_item = {
        r["code"]: r["is_demo"] for r in json_rows(client.get(download_url("items", "json")))
    }
    assert by_item == {"1-1": False, "1-2": True}
    figures = json_rows(client.get(download_url("figures", "json")))
    assert {(r["item_code"], r["is_demo"]) for r in figures} == {("1-1", False), ("1-2", True)}
    indicators = csv_rows(client.get(download_url("indicators", "csv")))
    assert {(r["事项编号"], r["演示数据"]) for r in indicators} == {("1-1", "否"), ("1-2", "是")}
    for dataset in ("plans", "domains"):
        assert json_rows(client.get(download_url(dataset, "json")))[0]["is_demo"] is True
    reports = json_rows(client.get(download_url("reports", "json")))
    assert {(r["item_code"], r["is_demo"]) for r in reports} == {("1-1", False), ("1-2", True)}
    meta = json.loads(body(client.get(download_url("items", "json"))))
    assert meta["demo_data"] is True
    sheet = openpyxl.load_workbook(io.BytesIO(body(client.get(download_url("items", "xlsx")))))
    assert "含演示数据" in text_of(client.get(download_url("items", "xlsx")), "xlsx")
    assert sheet.sheetnames == ["民生实事事项", "说明"]


def test_without_demo_data_nothing_is_marked(client, published):
    meta = json.loads(body(client.get(download_url("figures", "json"))))
    assert meta["demo_data"] is False
    assert {r["is_demo"] for r in meta["data"]} == {False}


def test_json_progress_is_what_the_item_page_shows(client, published):
    item, _, _ = published
    page = client.get(item.get_absolute_url())
    shown = page.context["item"].snapshot
    row = next(
        r for r in json_rows(client.get(download_url("items", "json"))) if r["code"] == "1-1"
    )
    assert f"{progress.format_number(Decimal(str(row['progress'])))}%" == shown.progress_display
    assert f"{progress.format_number(Decimal(str(row['expected_progress'])))}%" == (
        shown.expected_display
    )
    assert row["progress"] == 31.3  # 3600 / 11500, as the page says
    assert row["status"] == shown.status.value and row["status_label"] == "正常推进"
    assert row["target"] == "≥1.15万人" and row["unit"] == "万人"
    assert row["latest_value"] == "0.36万人" and row["latest_month"] == "2024-06"
    assert row["lead_unit_name"] == "区人力资源和社会保障局"
    assert row["lead_unit_provisional"] is False
    indicator_row = json_rows(client.get(download_url("indicators", "json")))[0]
    assert indicator_row["latest_value"] == 3600 and indicator_row["target"] == 1.15
    assert f"{indicator_row['progress']}%" == page.context["indicator_rows"][0]["progress_display"]


def test_percentages_round_half_up_as_the_pages_do(client, make_item, make_indicator, report):
    """12.25% is 12.3% on the item page (四舍五入, the published method); a download rounding
    half to even would say 12.2%."""
    item = make_item("1-1")
    report(item, "2024-06", {make_indicator(item, "400"): "49"})
    shown = client.get(item.get_absolute_url()).context["item"].snapshot.progress_display
    row = json_rows(client.get(download_url("items", "json")))[0]
    assert shown == "12.3%" and row["progress"] == 12.3
    assert json_rows(client.get(download_url("indicators", "json")))[0]["progress"] == 12.3
    assert csv_rows(client.get(download_url("items", "csv")))[0]["完成进度（%）"] == "12.3"


def test_plan_and_domain_rows_roll_up_like_the_home_page(client, published):
    home = client.get(reverse("livelihood:home"))
    overall = home.context["overall"]
    plan = json_rows(client.get(download_url("plans", "json")))[0]
    assert f"{plan['progress']}%" == overall.progress_display
    assert plan["data_month"] == "2024-06"
    assert plan["item_count"] == 4 and plan["declared_item_count"] == 50
    assert plan["items_on_track"] == 1 and plan["items_not_started"] == 3
    domain = json_rows(client.get(download_url("domains", "json")))[0]
    assert f"{domain['progress']}%" == home.context["domains"][0]["rollup"].progress_display


def test_every_download_documents_its_fields_in_json_and_xlsx(client, published):
    for resource in resources.DOWNLOADS:
        meta = json.loads(body(client.get(download_url(resource.slug, "json"))))
        names = [name for name, _ in resource().columns()]
        assert [f["name"] for f in meta["fields"]] == names
        assert all(f["description"] and f["type"] for f in meta["fields"])
        for record in meta["data"]:
            assert list(record) == names
        assert "只含已审核公开的数据" in meta["terms"]
        notes = openpyxl.load_workbook(
            io.BytesIO(body(client.get(download_url(resource.slug, "xlsx"))))
        )
        assert notes["说明"]["A1"].value == "数据集"


def test_unknown_dataset_or_year_is_404(client, published):
    assert client.get("/2024/data/staff.csv").status_code == 404
    assert client.get(download_url("items", "csv", year=2030)).status_code == 404
    assert client.get("/2024/data/items.xls").status_code == 404


# ------------------------------------------------------------------------------
# Read from the stored snapshot (issue 16)
# ------------------------------------------------------------------------------
JUNE = datetime.date(2024, 6, 1)
STANDING = ("plans", "domains", "items", "indicators")


@pytest.fixture
def written(published, milestone):
    """The published plan with a milestone done in June, its snapshot written as a service
    writes it."""
    item, indicator, june = published
    milestone(item, datetime.date(2024, 6, 20), done_in=june)
    build.write_pending()
    assert not build.is_pending(item.plan_id)
    return item, indicator


def tamper(item, indicator):
    """Numbers no arithmetic gives, written straight into June's stored rows."""
    row = ItemSnapshot.objects.get(item=item, view=View.AS_OF, month=JUNE)
    ItemSnapshot.objects.filter(pk=row.pk).update(
        body={
            **row.body,
            "progress": "0.4321",
            "uncapped": "0.4321",
            "status": "behind",
            "indicators": [["0.4321", row.body["indicators"][0][1]]],
            "values": {str(indicator.pk): ["4969", "2024-06-01"]},
        }
    )
    rollups = RollupSnapshot.objects.filter(plan=item.plan, view=View.AS_OF, month=JUNE)
    for scope, value in (("plan", "0.1234"), ("domain", "0.2346")):
        rollup = rollups.get(scope=scope)
        RollupSnapshot.objects.filter(pk=rollup.pk).update(body={**rollup.body, "progress": value})


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("dataset", STANDING)
def test_a_download_read_from_the_snapshot_is_the_download_computed_afresh(
    client, written, monkeypatch, dataset, fmt
):
    def read_back():
        response = client.get(download_url(dataset, fmt))
        if fmt == "csv":
            return csv_rows(response)
        meta = json.loads(body(response))
        del meta["generated_at"]
        return meta

    stored = read_back()
    monkeypatch.setattr(read, "is_pending", lambda plan_id, using="default": True)
    assert stored == read_back()


def test_the_downloads_show_the_stored_snapshot(client, written):
    item, indicator = written
    tamper(item, indicator)
    (row,) = [r for r in csv_rows(client.get(download_url("items", "csv"))) if r["编号"] == "1-1"]
    assert (row["完成进度（%）"], row["状态"], row["最新审核数值（原文单位）"]) == (
        "43.2",
        "滞后",
        "0.4969万人",
    )
    (row,) = [
        r for r in csv_rows(client.get(download_url("indicators", "csv"))) if r["事项编号"] == "1-1"
    ]
    assert (row["最新审核数值（基本单位）"], row["指标进度（%）"]) == ("4969", "43.2")
    assert [r["总体进度（%）"] for r in csv_rows(client.get(download_url("plans", "csv")))] == [
        "12.3"
    ]
    assert [r["总体进度（%）"] for r in csv_rows(client.get(download_url("domains", "csv")))] == [
        "23.5"
    ]
    sheet = xlsx_sheet(client.get(download_url("items", "xlsx")))
    headers = [c.value for c in sheet[1]]
    first = {h: c.value for h, c in zip(headers, sheet[2], strict=True)}
    assert first["完成进度（%）"] == 43.2  # a number, as the XLSX cell holds it


def test_a_download_states_the_stored_data_month(client, written):
    item, _ = written
    SnapshotBuild.objects.filter(plan=item.plan).update(data_month=datetime.date(2024, 5, 1))
    meta = json.loads(body(client.get(download_url("items", "json"))))
    assert meta["data_month"] == "2024-05"
    assert json_rows(client.get(download_url("plans", "json")))[0]["data_month"] == "2024-05"


@pytest.mark.parametrize("how", ["pending", "missing"])
def test_the_downloads_compute_afresh_what_the_snapshot_does_not_hold(client, written, how):
    item, indicator = written
    tamper(item, indicator)
    leave_unwritten(item, JUNE, how)
    (row,) = [r for r in csv_rows(client.get(download_url("items", "csv"))) if r["编号"] == "1-1"]
    assert (row["完成进度（%）"], row["最新审核数值（原文单位）"]) == ("31.3", "0.36万人")
    plans = csv_rows(client.get(download_url("plans", "csv")))
    assert plans[0]["总体进度（%）"] != "12.3"
    assert plans[0]["数据截至"] == "2024-06"


# ------------------------------------------------------------------------------
# Spreadsheets
# ------------------------------------------------------------------------------
def test_neutralise_prefixes_each_trigger_and_leaves_the_rest():
    for trigger in TRIGGERS:
        assert neutralise(f"{trigger}1+1") == f"'{trigger}1+1"
    assert neutralise("城镇新增就业") == "城镇新增就业"
    assert neutralise("1-1") == "1-1"
    assert neutralise(-3) == -3 and neutralise(Decimal("-1.5")) == Decimal("-1.5")
    assert neutralise(None) is None and neutralise("") == ""


@pytest.fixture
def formula_items(make_item, make_indicator, report):
    """One item per trigger, its title starting with it, each with an approved figure."""
    titles = {}
    for number, trigger in enumerate(TRIGGERS, start=1):
        title = f'{trigger}HYPERLINK("http://evil.example","点击")'
        item = make_item(f"9-{number}", title=title)
        report(
            item, "2024-06", {make_indicator(item, "100", name=f"{trigger}cmd|' /C calc'!A0"): "42"}
        )
        titles[f"9-{number}"] = title
    return titles


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_csv_neutralises_a_formula_for_each_leading_character(client, formula_items, trigger):
    code = f"9-{TRIGGERS.index(trigger) + 1}"
    items = {r["编号"]: r for r in csv_rows(client.get(download_url("items", "csv")))}
    assert items[code]["事项"] == "'" + formula_items[code]
    assert items[code]["年度"] == "2024"
    figures = [
        r for r in csv_rows(client.get(download_url("figures", "csv"))) if r["事项编号"] == code
    ]
    assert figures[0]["事项"] == "'" + formula_items[code]
    assert figures[0]["指标"].startswith("'" + trigger)
    assert figures[0]["数值（基本单位）"] == "42"


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_xlsx_holds_a_formula_as_text_and_numbers_as_numbers(client, formula_items, trigger):
    code = f"9-{TRIGGERS.index(trigger) + 1}"
    for dataset, title_column, number_column in (
        ("items", "事项", "年度"),
        ("figures", "事项", "数值（基本单位）"),
    ):
        sheet = xlsx_sheet(client.get(download_url(dataset, "xlsx")))
        header = [cell.value for cell in sheet[1]]
        code_column = header.index("编号" if dataset == "items" else "事项编号")
        row = next(r for r in sheet.iter_rows(min_row=2) if r[code_column].value == code)
        title = row[header.index(title_column)]
        assert title.data_type == "s", (dataset, title.data_type)  # "f" would be a formula
        # XML reads a carriage return back as a line feed; the apostrophe still leads.
        assert title.value == "'" + formula_items[code].replace("\r", "\n")
        number = row[header.index(number_column)]
        assert number.data_type == "n" and number.value in (2024, 42)


def test_csv_opens_with_a_byte_order_mark_and_chinese_headings(client, published):
    data = body(client.get(download_url("items", "csv")))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").startswith("年度,编号,事项,")
    response = client.get(download_url("items", "csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="yaohai-minsheng-2024-items.csv"'
    )


def test_xlsx_has_a_frozen_bold_header_and_date_cells(client, published):
    sheet = xlsx_sheet(client.get(download_url("figures", "xlsx")))
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b
    header = [cell.value for cell in sheet[1]]
    approved_on = sheet.cell(row=2, column=header.index("审核公开日期") + 1)
    assert approved_on.is_date and approved_on.value.date() == datetime.date(2024, 7, 4)


def test_big_download_is_streamed_in_every_format(client, published):
    for fmt in FORMATS:
        response = client.get(download_url("figures", fmt))
        assert response.streaming, fmt
        assert response["Content-Disposition"].startswith("attachment;")
    chunks = list(client.get(download_url("figures", "csv")).streaming_content)
    assert len(chunks) >= 2  # the heading, then the rows as they come


def test_figures_are_read_in_chunks_not_all_at_once(published):
    resource = resources.PublicFigureResource()
    assert resource.large and resource.get_chunk_size() == 2000
    objects = resource.objects()
    assert not isinstance(objects, list | tuple)  # an iterator over the database cursor


# ------------------------------------------------------------------------------
# The data page and the feed
# ------------------------------------------------------------------------------
def test_data_page_lists_each_years_downloads_and_explains_every_field(client, published):
    page = client.get(reverse("livelihood:data")).content.decode()
    assert "<h1>开放数据</h1>" in page
    assert "2024年民生实事（数据截至2024年6月）" in page
    for dataset in DATASETS:
        for fmt in FORMATS:
            assert f'href="{download_url(dataset, fmt)}"' in page
    for resource in resources.DOWNLOADS:
        for name, _ in resource().columns():
            assert f"<code>{name}</code>" in page
    for text in ("只含已审核公开的数据", "不含工作人员姓名", "演示数据", "免费获取", "注明来源"):
        assert text in page
    assert reverse("livelihood:api-openapi") in page
    assert f'href="{reverse("livelihood:feed")}"' in page
    assert 'type="application/atom+xml"' in page


def test_data_page_documents_every_field_and_the_published_method(client, published):
    """Each field's meaning as the downloads' own field list gives it, the method the about
    page publishes, and an API address for each dataset a plan year has."""
    page = client.get(reverse("livelihood:data")).content.decode()
    for resource in resources.DOWNLOADS:
        for doc in field_docs(resource()):
            assert escape(doc["description"]) in page, (resource.slug, doc["name"])
    for rule in method.rules():
        assert escape(rule.title) in page and escape(rule.text) in page
    for dataset in ("domains", "items", "figures", "planned-values", "milestones", "reports"):
        assert f"<code>/api/v1/plans/{{年度}}/{dataset}</code>" in page
    assert "<code>/api/v1/plans/{年度}/corrections</code>" in page


def test_plans_download_carries_the_settings_the_method_names(client, published, settings):
    settings.PROGRESS_TOLERANCE_POINTS = 7
    settings.REPORT_DUE_DAY = 8
    (row,) = csv_rows(client.get(download_url("plans", "csv")))
    assert (row["起算月份"], row["滞后判定容差"], row["报送期限"], row["印发日期"]) == (
        "2024-04",
        "7",
        "8",
        "2024-04-24",
    )


def test_data_page_and_home_link_the_feed_in_head_and_pass_the_csp_rules(client, published):
    for url in (reverse("livelihood:data"), reverse("livelihood:home")):
        page = client.get(url).content.decode()
        head = page.split("</head>")[0]
        assert 'rel="alternate" type="application/atom+xml"' in head
        assert reverse("livelihood:feed") in head
        assert "<script" not in page and "style=" not in page and "<style" not in page
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", page)
        assert page.count("<h1") == 1
    assert 'href="/data/"' in client.get(reverse("livelihood:home")).content.decode()


def test_data_page_says_demo_data_while_there_is_some(client, published, report):
    item, indicator, _ = published
    assert "演示数据</strong>：目前" not in client.get(reverse("livelihood:data")).content.decode()
    report(item, "2024-08", {indicator: "5000"}, is_demo=True)
    assert "演示数据</strong>：目前" in client.get(reverse("livelihood:data")).content.decode()


def entries(client):
    root = ET.fromstring(client.get(reverse("livelihood:feed")).content)
    return root.findall(f"{ATOM}entry")


def test_feed_has_one_entry_per_approved_report_newest_first(
    client, make_item, make_indicator, report
):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    for month, day in ((5, 4), (6, 3)):
        report(
            item,
            f"2024-{month:02d}",
            {indicator: str(month * 1000)},
            reviewed_at=datetime.datetime(2024, month + 1, day, 2, tzinfo=datetime.UTC),
        )
    report(item, "2024-07", {indicator: "9999"}, state="draft")
    found = entries(client)
    titles = [e.find(f"{ATOM}title").text for e in found]
    assert titles == ["1-1 城镇新增就业：2024年6月进展", "1-1 城镇新增就业：2024年5月进展"]
    summary = found[0].find(f"{ATOM}summary").text
    assert "2024年6月数值：城镇就业人员新增 6000人" in summary
    assert found[0].find(f"{ATOM}link").get("href") == "http://testserver/2024/items/1-1/#2024-06"
    assert found[0].find(f"{ATOM}updated").text.startswith("2024-07-03")
    assert len({e.find(f"{ATOM}id").text for e in found}) == 2


def test_feed_is_bounded_and_marks_demo_entries(client, make_item, make_indicator, report):
    for _ in range(55):
        item = make_item()
        report(item, "2024-06", {make_indicator(item, "10"): "1"}, is_demo=True)
    found = entries(client)
    assert len(found) == 50
    assert all(e.find(f"{ATOM}title").text.startswith("【演示数据】") for e in found)


# ------------------------------------------------------------------------------
# A fixed number of queries, on a small and a large generated plan
# ------------------------------------------------------------------------------
SMALL = scale.Spec(years=1, items=2, indicators=1, months=2, streets=2)
LARGE = scale.Spec(years=2, items=50, indicators=3, months=12, streets=13)
YEAR = scale.Spec().first_year
URLS = {
    **{
        f"{dataset}.{fmt}": download_url(dataset, fmt, year=YEAR)
        for dataset in DATASETS
        for fmt in FORMATS
    },
    "data": reverse("livelihood:data"),
    "feed": reverse("livelihood:feed"),
}


def measure(path):
    client = Client()
    with override_settings(PUBLIC_PAGE_CACHE=False), CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        size = len(body(response))
    return response.status_code, len(captured), size


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    results = {}
    with django_db_blocker.unblock():
        try:
            for size, spec in (("small", SMALL), ("large", LARGE)):
                scale.scale_generate(spec)
                results[size] = {name: measure(path) for name, path in URLS.items()}
                scale.scale_remove()
        finally:
            scale.scale_remove()
            caches["default"].clear()
    return results


@pytest.mark.django_db
@pytest.mark.parametrize("name", URLS)
def test_download_runs_the_same_queries_on_a_small_and_a_large_plan(measured, name):
    small, large = measured["small"][name], measured["large"][name]
    assert small[0] == large[0] == 200, (small, large)
    assert small[1] == large[1], f"queries: small {small[1]}, large {large[1]}"
    if not name.startswith("corrections."):  # scale data corrects nothing: see
        # tests/data/test_opendata_recompute.py for the corrections' queries at two sizes
        assert large[2] > small[2]  # the large plan's file is bigger: the data was there


@pytest.mark.django_db
def test_large_figures_download_has_every_figure(client):
    spec = scale.Spec(years=1, items=3, indicators=2, months=3, streets=4)
    scale.scale_generate(spec)
    rows = csv_rows(client.get(download_url("figures", "csv", year=YEAR)))
    # 3 items × 2 indicators × 3 months × (district total + 4 streets)
    assert len(rows) == 90
    assert MonthlyReport.objects.filter(state="approved").count() == 9
    assert {r["演示数据"] for r in rows} == {"是"}


# ------------------------------------------------------------------------------
# A draft plan (next year's, being prepared with copy_plan) is in no open data
# ------------------------------------------------------------------------------
def test_a_draft_plan_is_in_no_download_api_answer_or_feed(
    client, plan, make_item, make_indicator, report
):
    from livelihood.models import (
        Domain,
        Item,
        Plan,
    )

    item = make_item("1-1", title="城镇新增就业")
    report(item, "2024-05", {make_indicator(item, "1.15", unit="万人"): "2300"})
    draft = Plan.objects.create(
        year=2025,
        title="瑶海区2025年民生实事（草案）",
        issued_on=datetime.date(2025, 4, 1),
        declared_item_count=50,
        published=False,
    )
    draft_domain = Domain.objects.create(plan=draft, number=1, name="就业创业")
    secret = Item.objects.create(
        plan=draft, domain=draft_domain, code="1-1", title="草案事项甲", lead_unit=item.lead_unit
    )
    # Even a report approved on a draft's item (nothing stops a unit opening one) stays out.
    report(secret, "2025-05", {make_indicator(secret, "10", name="草案指标乙"): "7"})

    for dataset in DATASETS:
        for fmt in FORMATS:
            assert client.get(download_url(dataset, fmt, year=2025)).status_code == 404
            assert "草案" not in text_of(client.get(download_url(dataset, fmt)), fmt)
    assert "2025" not in client.get(reverse("livelihood:data")).content.decode()
    assert client.get("/api/v1/plans/2025").status_code == 404
    plans = client.get("/api/v1/plans").json()
    assert "2025" not in json.dumps(plans) and "2024" in json.dumps(plans)
    feed = client.get(reverse("livelihood:feed")).content.decode()
    assert "草案事项甲" not in feed and "城镇新增就业" in feed
