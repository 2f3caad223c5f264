"""
The read-only JSON API under /api/v1/: the same rows as the downloads
(livelihood/data/resources/), their progress read from the stored snapshot as residents' pages
read it (livelihood/snapshots/read.py), described by livelihood/data/openapi.py (served at
/api/v1/openapi.json, and every response is checked against it in tests/test_api.py).

Plain Django views. Each answers `{"data": …}`, or on error `{"error": {"status", "code",
"message"}}` with a Chinese message: 404 for an unknown plan, item or address, 400 for a bad
parameter, 405 for a method other than GET or HEAD. Each runs a fixed number of queries
whatever the amount of data; the monthly figures come in pages of at most MAX_PAGE_SIZE,
keyed on a cursor so that a page stays the same while new reports are approved.
"""

import base64
import binascii
import re
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse

from livelihood.data import openapi, resources
from livelihood.data.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SCOPES, to_json
from livelihood.plan.models import Item, Plan

JSON = "application/json; charset=utf-8"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
UNKNOWN_ADDRESS = "接口地址不存在，可用的接口见 /api/v1/openapi.json。"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def bad_parameter(message: str) -> ApiError:
    return ApiError(400, "bad_parameter", message)


def error_response(error: ApiError) -> HttpResponse:
    body = {"error": {"status": error.status, "code": error.code, "message": error.message}}
    return HttpResponse(to_json(body), status=error.status, content_type=JSON)


def api_view(view):
    """`view` returns the data; this makes the JSON answer, or the JSON error."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = error_response(
                ApiError(405, "method_not_allowed", "本接口只读，只接受 GET 和 HEAD 请求。")
            )
            response["Allow"] = "GET, HEAD"
            return response
        try:
            data = view(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error)
        return HttpResponse(to_json(data), content_type=JSON)

    return answer


def _plan(year) -> Plan:
    plan = Plan.objects.published().filter(year=year).first()
    if plan is None:
        raise not_found(f"没有{year}年度的计划。")
    return plan


# ------------------------------------------------------------------------------
# Endpoints
# ------------------------------------------------------------------------------
@api_view
def index(request):
    def link(name, *args):
        return request.build_absolute_uri(reverse(f"livelihood:{name}", args=args))

    return {
        "data": {
            "plans": link("api-plans"),
            "units": link("api-units"),
            "streets": link("api-streets"),
            "openapi": link("api-openapi"),
            "feed": link("feed"),
            "data_page": link("data"),
        }
    }


@api_view
def plan_list(request):
    return {"data": list(resources.PublicPlanResource().records())}


@api_view
def plan_detail(request, year):
    plan = _plan(year)
    return {"data": next(resources.PublicPlanResource(plan=plan).records())}


@api_view
def domain_list(request, year):
    plan = _plan(year)
    return {"data": list(resources.PublicDomainResource(plan=plan).records())}


@api_view
def item_list(request, year):
    plan = _plan(year)
    items = Item.objects.filter(plan=plan)
    domain = request.GET.get("domain")
    if domain is not None:
        if not domain.isascii() or not domain.isdigit():
            raise bad_parameter("domain 参数应为领域序号（正整数），例如 domain=3。")
        items = items.filter(domain__number=int(domain))
    unit = _text(request.GET, "unit")
    if unit is not None:
        items = items.filter(lead_unit__code=unit)
    resource = resources.PublicItemResource(plan=plan, queryset=items)
    return {"data": list(resource.records())}


@api_view
def item_detail(request, year, code):
    plan = _plan(year)
    items = resources.PublicItemResource(
        plan=plan, queryset=Item.objects.filter(plan=plan, code=code)
    ).objects()
    if not items:
        raise not_found(f"{year}年度计划中没有编号为 {code} 的事项。")
    item = items[0]
    record = next(resources.PublicItemResource().records([item]))
    record["indicators"] = list(
        resources.PublicIndicatorResource().records(resources.indicators_of([item]))
    )
    milestones = resources.PublicMilestoneResource(plan=plan).get_queryset().filter(item=item)
    record["milestones"] = list(resources.PublicMilestoneResource().records(milestones))
    return {"data": record}


@api_view
def figure_list(request, year):
    plan = _plan(year)
    resource = resources.PublicFigureResource(plan=plan)
    figures = resource.get_queryset()
    params = request.GET
    if "month" in params:
        found = MONTH.match(params["month"])
        if not found or not 1 <= int(found[2]) <= 12:
            raise bad_parameter("month 参数应为年月，格式 YYYY-MM，例如 month=2024-06。")
        figures = figures.filter(report__month__year=found[1], report__month__month=found[2])
    if "item" in params:
        figures = figures.filter(report__item__code=_text(params, "item"))
    if "street" in params:
        figures = figures.filter(street__code=_text(params, "street"))
    if "scope" in params:
        if params["scope"] not in SCOPES:
            raise bad_parameter("scope 参数应为 district（全区合计）或 street（分街镇）。")
        figures = figures.filter(street__isnull=params["scope"] == "district")
    limit = _limit(params.get("limit"))
    if "cursor" in params:
        figures = figures.filter(pk__gt=_decode_cursor(params["cursor"]))
    page = list(resource.values(figures.order_by("pk"))[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_url = None
    if more:
        query = {k: v for k, v in params.items() if k != "cursor"}
        query["cursor"] = _encode_cursor(page[-1]["figure_id"])
        next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return {"data": list(resource.records(page)), "limit": limit, "next": next_url}


def _text(params, name) -> str | None:
    """A code to match as given; a NUL character, which PostgreSQL cannot compare with a text
    column, is a bad parameter rather than a server error."""
    value = params.get(name)
    if value is not None and "\x00" in value:
        raise bad_parameter(f"{name} 参数含有无效字符。")
    return value


def _limit(value) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise bad_parameter(f"limit 参数应为 1 到 {MAX_PAGE_SIZE} 之间的整数。")
    return int(value)


def _encode_cursor(figure_id: int) -> str:
    return base64.urlsafe_b64encode(f"f{figure_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not (text.startswith("f") and text[1:].isascii() and text[1:].isdigit()):
        raise bad_parameter("cursor 参数无效，请使用上一页返回的 next 地址。")
    return int(text[1:])


# The datasets a resident needs to recompute every page, one list per plan year.
PLAN_DATASETS = {
    "planned-values": resources.PublicPlannedValueResource,
    "milestones": resources.PublicMilestoneResource,
    "reports": resources.PublicReportResource,
    "corrections": resources.PublicCorrectionResource,
}


@api_view
def dataset_list(request, year, dataset):
    plan = _plan(year)
    return {"data": list(PLAN_DATASETS[dataset](plan=plan).records())}


@api_view
def unit_list(request):
    return {"data": list(resources.PublicUnitResource().records())}


@api_view
def street_list(request):
    return {"data": list(resources.PublicStreetResource().records())}


@api_view
def openapi_description(request):
    return openapi.description()


@api_view
def unknown(request, rest=""):
    raise not_found(UNKNOWN_ADDRESS)
