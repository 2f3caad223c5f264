"""The read-only JSON API (issue 5): every response, errors included, matches the OpenAPI
description served at /api/v1/openapi.json, which is itself a valid OpenAPI 3.1 document; it
shows approved data only, the progress the item page shows, pages the figures with a cursor,
and runs a fixed number of queries whatever the amount of data."""

import datetime
from decimal import Decimal
from urllib.parse import urlsplit

import jsonschema
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openapi_spec_validator import validate

from livelihood.data import base
from livelihood.data.openapi import description
from livelihood.devdata import scale
from livelihood.models import (
    MonthlyReport,
    PlannedValue,
)
from livelihood.reporting import services
from livelihood.reporting.figures import FigureInput
from livelihood.snapshots import build, read
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, View
from tests.builders import leave_unwritten

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"


@pytest.fixture
def published(make_item, make_indicator, report, street, milestone):
    item = make_item("1-1", title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人", name="城镇就业人员新增")
    june = report(
        item,
        "2024-06",
        {indicator: "3600"},
        streets={(indicator, street): "1200"},
        reviewed_at=datetime.datetime(2024, 7, 4, 2, tzinfo=datetime.UTC),
    )
    report(item, "2024-05", {indicator: "2300"})
    report(item, "2024-07", {indicator: "9404"}, state="submitted", narrative="待审核说明")
    milestone(item, datetime.date(2024, 6, 15), done_in=june, title="完成摸底")
    draft = report(item, "2024-08", state="draft")
    milestone(item, datetime.date(2024, 8, 15), done_in=draft, title="提标发放")
    return item, indicator


def schema_for(template: str, status: int) -> dict:
    """The JSON Schema the description gives for a response, with the components it refers
    to reachable from it."""
    spec = description()
    response = spec["paths"][template]["get"]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def check(response, template: str, status: int) -> dict:
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    jsonschema.Draft202012Validator(schema_for(template, status)).validate(data)
    return data


# Every path of the description and every response it documents, with a request giving it.
CASES = [
    ("/", 200, "/"),
    ("/plans", 200, "/plans"),
    ("/plans/{year}", 200, "/plans/2024"),
    ("/plans/{year}", 404, "/plans/2030"),
    ("/plans/{year}/domains", 200, "/plans/2024/domains"),
    ("/plans/{year}/domains", 404, "/plans/2030/domains"),
    ("/plans/{year}/items", 200, "/plans/2024/items"),
    ("/plans/{year}/items", 200, "/plans/2024/items?domain=1&unit=rsj"),
    ("/plans/{year}/items", 400, "/plans/2024/items?domain=一"),
    ("/plans/{year}/items", 404, "/plans/2030/items"),
    ("/plans/{year}/items/{code}", 200, "/plans/2024/items/1-1"),
    ("/plans/{year}/items/{code}", 404, "/plans/2024/items/99-9"),
    ("/plans/{year}/figures", 200, "/plans/2024/figures"),
    ("/plans/{year}/figures", 200, "/plans/2024/figures?month=2024-06&scope=street&limit=1"),
    ("/plans/{year}/figures", 400, "/plans/2024/figures?limit=1001"),
    ("/plans/{year}/figures", 404, "/plans/2030/figures"),
    *(
        case
        for dataset in ("planned-values", "milestones", "reports", "corrections")
        for case in (
            (f"/plans/{{year}}/{dataset}", 200, f"/plans/2024/{dataset}"),
            (f"/plans/{{year}}/{dataset}", 404, f"/plans/2030/{dataset}"),
        )
    ),
    ("/units", 200, "/units"),
    ("/streets", 200, "/streets"),
    ("/openapi.json", 200, "/openapi.json"),
]


def test_the_description_is_valid_openapi_3_1():
    spec = description()
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_documented_response_is_tested():
    spec = description()
    documented = {
        (path, int(status))
        for path, item in spec["paths"].items()
        for status in item["get"]["responses"]
    }
    assert documented == {(template, status) for template, status, _ in CASES}


@pytest.mark.parametrize(("template", "status", "path"), CASES)
def test_response_matches_the_description(client, published, template, status, path):
    check(client.get(PREFIX + path), template, status)


def test_served_description_is_the_one_the_tests_check(client):
    assert client.get(reverse("livelihood:api-openapi")).json() == description()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/plans/2024/figures?limit=0", "limit 参数应为 1 到 1000 之间的整数。"),
        ("/plans/2024/figures?limit=abc", "limit 参数应为 1 到 1000 之间的整数。"),
        ("/plans/2024/figures?month=2024-13", "month 参数应为年月"),
        ("/plans/2024/figures?month=六月", "month 参数应为年月"),
        ("/plans/2024/figures?scope=all", "scope 参数应为 district（全区合计）或 street"),
        ("/plans/2024/figures?cursor=!!", "cursor 参数无效"),
        ("/plans/2024/figures?cursor=eA", "cursor 参数无效"),
        ("/plans/2024/items?domain=-1", "domain 参数应为领域序号"),
    ],
)
def test_bad_parameters_are_400_with_a_chinese_message(client, published, path, message):
    data = check(client.get(PREFIX + path), "/plans/{year}/figures", 400)
    assert data["error"]["code"] == "bad_parameter"
    assert message in data["error"]["message"]


def test_unknown_addresses_are_json_404(client, published):
    for path in ("/nothing", "/plans/2024/items/1-1/extra", "/plans/2024/staff"):
        data = check(client.get(PREFIX + path), "/plans/{year}", 404)
        assert "接口地址不存在" in data["error"]["message"]
    data = check(client.get(PREFIX + "/plans/2024/items/99-9"), "/plans/{year}/items/{code}", 404)
    assert data["error"]["message"] == "2024年度计划中没有编号为 99-9 的事项。"


def test_writes_are_refused_as_json_405(client, published):
    response = client.post(PREFIX + "/plans")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    jsonschema.validate(response.json(), {**schema_for("/plans/{year}", 404)})
    assert response.json()["error"]["code"] == "method_not_allowed"


# ------------------------------------------------------------------------------
# Content
# ------------------------------------------------------------------------------
def test_item_shows_the_progress_of_the_item_page_and_approved_things_only(client, published):
    item, _ = published
    shown = client.get(item.get_absolute_url()).context["item"].snapshot
    data = client.get(PREFIX + "/plans/2024/items/1-1").json()["data"]
    assert f"{data['progress']}%" == shown.progress_display == "31.3%"
    assert data["status"] == shown.status.value
    assert data["latest_month"] == "2024-06"
    assert [i["latest_value"] for i in data["indicators"]] == [3600]
    assert [(m["title"], m["done"], m["done_on"]) for m in data["milestones"]] == [
        ("完成摸底1", True, "2024-06-15"),
        ("提标发放2", False, None),  # marked done in a draft: not done in public
    ]
    text = client.get(PREFIX + "/plans/2024/items").content.decode()
    assert "9404" not in text and "待审核说明" not in text


# ------------------------------------------------------------------------------
# Read from the stored snapshot (issue 16)
# ------------------------------------------------------------------------------
JUNE = datetime.date(2024, 6, 1)


@pytest.fixture
def written(published, make_item, report, milestone):
    """The published plan, with a second item measured by its milestones alone, and its
    snapshot written as a service writes it."""
    item, indicator = published
    other = make_item("1-2", title="按节点推进")
    may = report(other, "2024-05")
    milestone(other, datetime.date(2024, 5, 20), done_in=may)
    milestone(other, datetime.date(2024, 10, 1))
    build.write_pending()
    assert not build.is_pending(item.plan_id)
    return item, indicator


def tamper(item, indicator):
    """Numbers no arithmetic gives, written straight into the stored rows of June (the data
    month): only a reader of the snapshot can show them."""
    row = ItemSnapshot.objects.get(item=item, view=View.AS_OF, month=JUNE)
    ItemSnapshot.objects.filter(pk=row.pk).update(
        body={
            **row.body,
            "progress": "0.4321",
            "uncapped": "0.4321",
            "expected": "0.5",
            "status": "behind",
            "indicators": [["0.4321", "0.5"]],
            "values": {str(indicator.pk): ["4969", "2024-06-01"]},
        }
    )
    rollups = RollupSnapshot.objects.filter(plan=item.plan, view=View.AS_OF, month=JUNE)
    for scope, progress in (("plan", "0.1234"), ("domain", "0.2346")):
        rollup = rollups.get(scope=scope)
        RollupSnapshot.objects.filter(pk=rollup.pk).update(
            body={**rollup.body, "progress": progress}
        )


READ_PATHS = (
    "/plans",
    "/plans/2024",
    "/plans/2024/domains",
    "/plans/2024/items",
    "/plans/2024/items?domain=1&unit=rsj",
    "/plans/2024/items/1-1",
    "/plans/2024/items/1-2",
)


@pytest.mark.parametrize("path", READ_PATHS)
def test_an_answer_read_from_the_snapshot_is_the_answer_computed_afresh(
    client, written, monkeypatch, path
):
    stored = client.get(PREFIX + path).json()
    monkeypatch.setattr(read, "is_pending", lambda plan_id, using="default": True)
    assert stored == client.get(PREFIX + path).json()


def test_the_api_shows_the_stored_snapshot(client, written):
    item, indicator = written
    tamper(item, indicator)
    listed = client.get(PREFIX + "/plans/2024/items").json()["data"]
    first = next(row for row in listed if row["code"] == "1-1")
    assert (first["progress"], first["expected_progress"], first["status"]) == (
        43.2,
        50,
        "behind",
    )
    assert first["latest_value"] == "0.4969万人"
    detail = client.get(PREFIX + "/plans/2024/items/1-1").json()["data"]
    assert detail["progress"] == 43.2
    assert [(i["latest_value"], i["progress"]) for i in detail["indicators"]] == [(4969, 43.2)]
    assert detail["latest_month"] == "2024-06"  # not stored: read beside the snapshot
    assert client.get(PREFIX + "/plans/2024").json()["data"]["progress"] == 12.3
    assert [p["progress"] for p in client.get(PREFIX + "/plans").json()["data"]] == [12.3]
    domains = client.get(PREFIX + "/plans/2024/domains").json()["data"]
    assert [d["progress"] for d in domains] == [23.5]


@pytest.mark.parametrize("how", ["pending", "missing"])
def test_the_api_computes_afresh_what_the_snapshot_does_not_hold(client, written, how):
    item, indicator = written
    tamper(item, indicator)
    leave_unwritten(item, JUNE, how)
    detail = client.get(PREFIX + "/plans/2024/items/1-1").json()["data"]
    assert (detail["progress"], detail["status"]) == (31.3, "on_track")
    assert [i["latest_value"] for i in detail["indicators"]] == [3600]
    assert client.get(PREFIX + "/plans/2024").json()["data"]["progress"] != 12.3
    assert [d["progress"] for d in client.get(PREFIX + "/plans/2024/domains").json()["data"]] != [
        23.5
    ]


def test_the_new_datasets_records_match_the_description(
    client, published, make_staff, unit, street
):
    """Records with every kind of value (a planned value, a milestone done and one not, a
    report in each state, a correction of each kind) validate against the schemas, and
    carry no staff name."""
    item, indicator = published
    clerk = make_staff("clerk-zhang", unit, first_name="张敏")
    office = make_staff("office-wang", first_name="王芳")
    PlannedValue.objects.create(indicator=indicator, month=datetime.date(2024, 6, 1), value=3000)
    june = MonthlyReport.objects.get(item=item, month=datetime.date(2024, 6, 1))
    services.report_reopen(report=june, user=office, reason="口径有误")
    june.refresh_from_db()
    services.report_save(
        report=june,
        user=clerk,
        figures=[
            FigureInput(indicator.pk, None, Decimal("3500"), note="核减重复"),
            FigureInput(indicator.pk, street.pk, None),
        ],
        narrative="六月进展",
        delay_reason="funds",
        delay_note="资金未到位",
        confidence=2,
    )
    services.report_submit(report=june, user=clerk)
    services.report_approve(report=june, user=office)
    august = MonthlyReport.objects.get(item=item, month=datetime.date(2024, 8, 1))
    services.report_save(report=august, user=clerk, narrative="八月")
    services.report_submit(report=august, user=clerk)
    services.report_return(report=august, user=office, reason="请补充")
    may = MonthlyReport.objects.get(item=item, month=datetime.date(2024, 5, 1))
    services.report_reopen(report=may, user=office, reason="待核")

    answers = {}
    for name in ("planned-values", "milestones", "reports", "corrections"):
        answers[name] = check(
            client.get(f"{PREFIX}/plans/2024/{name}"), f"/plans/{{year}}/{name}", 200
        )
        text = client.get(f"{PREFIX}/plans/2024/{name}").content.decode()
        for secret in (
            "张敏",
            "王芳",
            "clerk-zhang",
            "office-wang",
            "请补充",
            "八月",
            "待核",
            "待审核说明",
        ):
            assert secret not in text, (name, secret)
    assert [r["value"] for r in answers["planned-values"]["data"]] == [3000]
    assert [(m["done"], m["reported_month"]) for m in answers["milestones"]["data"]] == [
        (True, "2024-06"),
        (False, None),
    ]
    states = {r["month"]: r["state"] for r in answers["reports"]["data"]}
    assert states == {
        "2024-05": "reopened",
        "2024-06": "approved",
        "2024-07": "submitted",
        "2024-08": "returned",
    }
    assert [
        (c["change"], c["street_code"], c["value_before"], c["value_after"])
        for c in answers["corrections"]["data"]
    ] == [("changed", "", 3600, 3500), ("removed", street.code, 1200, None)]
    detail = check(client.get(PREFIX + "/plans/2024/items/1-1"), "/plans/{year}/items/{code}", 200)
    assert detail["data"]["milestones"] == answers["milestones"]["data"]


def test_figures_are_approved_only_and_filter(client, published, street):
    every = client.get(PREFIX + "/plans/2024/figures").json()["data"]
    assert [(f["month"], f["street_code"], f["value"]) for f in every] == [
        ("2024-06", "", 3600),
        ("2024-06", street.code, 1200),
        ("2024-05", "", 2300),
    ]  # in the order they were recorded: the cursor follows it
    district = client.get(PREFIX + "/plans/2024/figures?scope=district&month=2024-06").json()
    assert [f["value"] for f in district["data"]] == [3600]
    by_street = client.get(f"{PREFIX}/plans/2024/figures?street={street.code}").json()
    assert [f["value"] for f in by_street["data"]] == [1200]
    assert client.get(PREFIX + "/plans/2024/figures?item=2-1").json()["data"] == []


def test_figure_pages_follow_next_to_the_end(client, make_item, make_indicator, report):
    item = make_item()
    indicators = [make_indicator(item, "100") for _ in range(3)]
    for month in range(4, 9):
        report(item, f"2024-{month:02d}", {i: str(month) for i in indicators})
    url, seen, pages = f"{PREFIX}/plans/2024/figures?limit=4&scope=district", [], 0
    while url:
        data = check(client.get(url), "/plans/{year}/figures", 200)
        assert len(data["data"]) <= 4 and data["limit"] == 4
        seen += [(f["month"], f["indicator_number"]) for f in data["data"]]
        url, pages = data["next"], pages + 1
        if url:
            parts = urlsplit(url)
            assert "scope=district" in parts.query  # the filters stay
            url = f"{parts.path}?{parts.query}"
    assert pages == 4  # 15 figures in pages of 4
    assert sorted(seen) == sorted((f"2024-{m:02d}", n) for m in range(4, 9) for n in (1, 2, 3))


def test_page_size_has_a_fixed_maximum(client, published):
    assert base.MAX_PAGE_SIZE == 1000
    assert client.get(PREFIX + "/plans/2024/figures?limit=1000").status_code == 200
    assert client.get(PREFIX + "/plans/2024/figures?limit=1001").status_code == 400
    assert client.get(PREFIX + "/plans/2024/figures").json()["limit"] == base.DEFAULT_PAGE_SIZE


def test_units_and_streets(client, published, street, unit):
    units = client.get(PREFIX + "/units").json()["data"]
    assert units == [
        {"code": "rsj", "name": "区人力资源和社会保障局", "short_name": "", "provisional": False}
    ]
    streets = client.get(PREFIX + "/streets").json()["data"]
    assert streets == [
        {"code": "mingguanglu", "name": "明光路街道", "kind": "subdistrict", "kind_label": "街道"}
    ]


def test_api_goes_through_the_page_cache(client, published):
    """Wrapped in `public_page` like every public view (livelihood/cache.py says which way
    each answer went; in a test's open transaction it is rendered, not stored)."""
    for path in ("/plans/2024/items", "/openapi.json", "/plans/2030"):
        assert client.get(PREFIX + path)["X-Page-Cache"] == "pass"


# ------------------------------------------------------------------------------
# A fixed number of queries, on a small and a large generated plan
# ------------------------------------------------------------------------------
SMALL = scale.Spec(years=1, items=2, indicators=1, months=2, streets=2)
LARGE = scale.Spec(years=2, items=50, indicators=3, months=12, streets=13)
YEAR = scale.Spec().first_year
ENDPOINTS = {
    "index": "/",
    "plans": "/plans",
    "plan": f"/plans/{YEAR}",
    "domains": f"/plans/{YEAR}/domains",
    "items": f"/plans/{YEAR}/items",
    "items-filtered": f"/plans/{YEAR}/items?domain=1&unit={scale.CODE_PREFIX}u01",
    "item": f"/plans/{YEAR}/items/1-1",
    "figures": f"/plans/{YEAR}/figures?limit=1000",
    "figures-filtered": f"/plans/{YEAR}/figures?month={YEAR}-02&scope=street&item=1-1",
    "figures-next-page": f"/plans/{YEAR}/figures?limit=2&cursor=ZjE",
    "planned-values": f"/plans/{YEAR}/planned-values",
    "milestones": f"/plans/{YEAR}/milestones",
    "reports": f"/plans/{YEAR}/reports",
    "corrections": f"/plans/{YEAR}/corrections",
    "units": "/units",
    "streets": "/streets",
    "openapi": "/openapi.json",
    "unknown-plan": "/plans/1999/items",
    "bad-parameter": f"/plans/{YEAR}/figures?limit=0",
}


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    results = {}
    client = Client()
    with django_db_blocker.unblock():
        try:
            for size, spec in (("small", SMALL), ("large", LARGE)):
                scale.scale_generate(spec)
                results[size] = {}
                for name, path in ENDPOINTS.items():
                    with (
                        override_settings(PUBLIC_PAGE_CACHE=False),
                        CaptureQueriesContext(connection) as captured,
                    ):
                        response = client.get(PREFIX + path)
                    results[size][name] = (response.status_code, len(captured), response.json())
                scale.scale_remove()
        finally:
            scale.scale_remove()
            caches["default"].clear()
    return results


@pytest.mark.parametrize("name", ENDPOINTS)
def test_endpoint_runs_the_same_queries_on_a_small_and_a_large_plan(measured, name):
    small, large = measured["small"][name], measured["large"][name]
    assert small[0] == large[0], (small[0], large[0])
    assert small[1] == large[1], f"queries: small {small[1]}, large {large[1]}"


def test_large_plan_answers_are_full_pages_and_valid(measured):
    large = measured["large"]
    assert len(large["items"][2]["data"]) == 50
    assert len(large["reports"][2]["data"]) == 50 * 12  # every item's twelve months
    assert len(large["milestones"][2]["data"]) == 50 * 2
    assert large["planned-values"][2]["data"]
    for name in ("planned-values", "milestones", "reports"):
        jsonschema.Draft202012Validator(schema_for(f"/plans/{{year}}/{name}", 200)).validate(
            large[name][2]
        )
    assert len(large["figures"][2]["data"]) == 1000 and large["figures"][2]["next"]
    jsonschema.Draft202012Validator(schema_for("/plans/{year}/figures", 200)).validate(
        large["figures"][2]
    )
    assert large["unknown-plan"][0] == 404 and large["bad-parameter"][0] == 400


def test_the_check_catches_an_undocumented_key_or_a_wrong_type(client, published):
    data = client.get(PREFIX + "/plans/2024/items").json()
    validator = jsonschema.Draft202012Validator(schema_for("/plans/{year}/items", 200))
    assert validator.is_valid(data)
    data["data"][0]["reviewed_by"] = "张伟"
    assert not validator.is_valid(data)
    del data["data"][0]["reviewed_by"]
    data["data"][0]["progress"] = "31.3%"
    assert not validator.is_valid(data)
