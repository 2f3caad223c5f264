"""
The OpenAPI 3.1 description of the API in livelihood/data/api.py, served at /api/v1/openapi.json.

Written by hand as a Python dict, except the record schemas, which are made from the fields of
the resources the API answers with (livelihood/data/resources/): a field added there is
described here at once, and `additionalProperties: false` makes tests/test_api.py fail on any
key the description does not name.
"""

import functools

from livelihood.data import resources
from livelihood.data.base import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    SCOPES,
    TERMS,
)
from livelihood.progress import method

JSON_TYPES = {
    resources.STRING: {"type": "string"},
    resources.INTEGER: {"type": "integer"},
    resources.NUMBER: {"type": "number"},
    resources.BOOLEAN: {"type": "boolean"},
    resources.DATE: {"type": "string", "format": "date"},
    resources.MONTH: {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
}


def field_schema(field) -> dict:
    schema = dict(JSON_TYPES[field.type])
    if field.nullable:
        schema["type"] = [schema["type"], "null"]
    if field.enum:
        schema["enum"] = [*field.enum, None] if field.nullable else list(field.enum)
    unit = f"（单位：{field.unit}）" if field.unit else ""
    schema["description"] = f"{field.column_name}{unit}。{field.help}".rstrip("。") + "。"
    return schema


def record_schema(resource_class, description: str, **extra) -> dict:
    columns = resource_class().columns()
    properties = {name: field_schema(field) for name, field in columns}
    properties.update(extra)
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def listing(name: str) -> dict:
    return {
        "type": "object",
        "properties": {"data": {"type": "array", "items": ref(name)}},
        "required": ["data"],
        "additionalProperties": False,
    }


def single(name: str) -> dict:
    return {
        "type": "object",
        "properties": {"data": ref(name)},
        "required": ["data"],
        "additionalProperties": False,
    }


def ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadParameter"},
    "404": {"$ref": "#/components/responses/NotFound"},
}
YEAR = {
    "name": "year",
    "in": "path",
    "required": True,
    "description": "计划年度，例如 2024。",
    "schema": {"type": "integer"},
}


def operation(operation_id: str, summary: str, response: dict, *, params=(), errors=("404",)):
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": list(params),
            "responses": {"200": response, **{code: ERRORS[code] for code in errors}},
        }
    }


def query(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


@functools.cache
def description() -> dict:
    schemas = {
        "Plan": record_schema(resources.PublicPlanResource, "一个年度计划及其总体进度。"),
        "Domain": record_schema(resources.PublicDomainResource, "一个领域及其进度。"),
        "Item": record_schema(resources.PublicItemResource, "一项民生实事及其进度。"),
        "ItemDetail": record_schema(
            resources.PublicItemResource,
            "一项民生实事，含各项指标和工作节点。",
            indicators={"type": "array", "items": ref("Indicator")},
            milestones={"type": "array", "items": ref("Milestone")},
        ),
        "Indicator": record_schema(resources.PublicIndicatorResource, "一个指标及其进度。"),
        "Milestone": record_schema(resources.PublicMilestoneResource, "一个工作节点。"),
        "Figure": record_schema(resources.PublicFigureResource, "一份已审核月度报告中的一个数值。"),
        "PlannedValue": record_schema(
            resources.PublicPlannedValueResource, "一个指标某月的计划累计值。"
        ),
        "Report": record_schema(
            resources.PublicReportResource,
            "一份报送过的月度报告：报送、审核日期，已审核的进展情况和滞后原因。",
        ),
        "Correction": record_schema(
            resources.PublicCorrectionResource, "一个已公开数值的一次更正。"
        ),
        "Unit": record_schema(resources.PublicUnitResource, "一个牵头单位。"),
        "Street": record_schema(resources.PublicStreetResource, "一个街镇。"),
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "integer", "description": "HTTP 状态码。"},
                        "code": {
                            "type": "string",
                            "enum": ["not_found", "bad_parameter", "method_not_allowed"],
                        },
                        "message": {"type": "string", "description": "中文说明。"},
                    },
                    "required": ["status", "code", "message"],
                    "additionalProperties": False,
                }
            },
            "required": ["error"],
            "additionalProperties": False,
        },
    }
    url = {"type": "string", "format": "uri"}
    index = {
        "type": "object",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    name: url
                    for name in ("plans", "units", "streets", "openapi", "feed", "data_page")
                },
                "required": ["plans", "units", "streets", "openapi", "feed", "data_page"],
                "additionalProperties": False,
            }
        },
        "required": ["data"],
        "additionalProperties": False,
    }
    figure_page = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": ref("Figure")},
            "limit": {"type": "integer", "description": "本页最多条数。"},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "下一页的地址；已是最后一页时为 null。",
            },
        },
        "required": ["data", "limit", "next"],
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "瑶海区民生实事进度公开平台数据接口",
            "version": "1.0.0",
            "summary": "民生实事计划、事项、指标和各月已审核数值，只读。",
            "description": (
                "只含经区民生办审核公开的数据，不含未审核的报告和工作人员信息。"
                "进度、序时进度和状态与网页显示相同；"
                "百分比为保留一位小数的百分数（31.3 即 31.3%）。"
                "“is_demo”为 true 的记录是系统生成的演示数据，不能引用。"
                + TERMS
                + "\n\n计算方法（与网页“关于本平台”所列相同）：\n"
                + method.text()
            ),
            "contact": {"name": "瑶海区发展和改革委员会（区民生办）"},
        },
        "servers": [{"url": "/api/v1", "description": "本平台"}],
        "paths": {
            "/": operation("index", "接口目录", ok("各接口和相关页面的地址。", index), errors=()),
            "/plans": operation(
                "listPlans", "年度计划", ok("全部年度计划，最新在前。", listing("Plan")), errors=()
            ),
            "/plans/{year}": operation(
                "getPlan", "一个年度计划", ok("该年度计划。", single("Plan")), params=[YEAR]
            ),
            "/plans/{year}/domains": operation(
                "listDomains",
                "领域",
                ok("该年度各领域，按序号。", listing("Domain")),
                params=[YEAR],
            ),
            "/plans/{year}/items": operation(
                "listItems",
                "事项",
                ok("该年度事项，按领域和事项序号。", listing("Item")),
                params=[
                    YEAR,
                    query("domain", "只列该领域序号的事项。", {"type": "integer", "minimum": 0}),
                    query("unit", "只列该牵头单位（代码）牵头的事项。", {"type": "string"}),
                ],
                errors=("400", "404"),
            ),
            "/plans/{year}/items/{code}": operation(
                "getItem",
                "一个事项",
                ok("该事项，含指标和工作节点。", single("ItemDetail")),
                params=[
                    YEAR,
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "description": "事项编号，例如 3-2。",
                        "schema": {"type": "string"},
                    },
                ],
            ),
            "/plans/{year}/figures": operation(
                "listFigures",
                "月度审核数值",
                ok("一页数值；按 next 翻页。", figure_page),
                params=[
                    YEAR,
                    query(
                        "month",
                        "只列该月份的数值，格式 YYYY-MM。",
                        {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                    ),
                    query("item", "只列该事项编号的数值。", {"type": "string"}),
                    query("street", "只列该街镇代码的分街镇数值。", {"type": "string"}),
                    query(
                        "scope",
                        "district 只列全区合计；street 只列分街镇数值。",
                        {"type": "string", "enum": list(SCOPES)},
                    ),
                    query(
                        "limit",
                        f"每页条数，默认 {DEFAULT_PAGE_SIZE}，最多 {MAX_PAGE_SIZE}。",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_PAGE_SIZE,
                            "default": DEFAULT_PAGE_SIZE,
                        },
                    ),
                    query("cursor", "翻页位置，取自上一页的 next 地址。", {"type": "string"}),
                ],
                errors=("400", "404"),
            ),
            **{
                f"/plans/{{year}}/{dataset}": operation(
                    f"list{schema}s",
                    label,
                    ok(f"该年度全部{label}。", listing(schema)),
                    params=[YEAR],
                )
                for dataset, schema, label in (
                    ("planned-values", "PlannedValue", "月度计划值"),
                    ("milestones", "Milestone", "工作节点"),
                    ("reports", "Report", "月度报告"),
                    ("corrections", "Correction", "更正记录"),
                )
            },
            "/units": operation(
                "listUnits", "牵头单位", ok("全部牵头单位。", listing("Unit")), errors=()
            ),
            "/streets": operation(
                "listStreets", "街镇", ok("全部街镇。", listing("Street")), errors=()
            ),
            "/openapi.json": operation(
                "getOpenApi",
                "本接口说明",
                ok("OpenAPI 3.1 接口说明（即本文档）。", {"type": "object"}),
                errors=(),
            ),
        },
        "components": {
            "schemas": schemas,
            "responses": {
                "NotFound": {
                    "description": "年度、事项或接口地址不存在。",
                    "content": {"application/json": {"schema": ref("Error")}},
                },
                "BadParameter": {
                    "description": "参数不正确，message 说明应当如何填写。",
                    "content": {"application/json": {"schema": ref("Error")}},
                },
            },
        },
    }
