"""Spreadsheets built by the import tests, and what the database holds before and after."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from livelihood.models import (
    Domain,
    Figure,
    Indicator,
    Item,
    Milestone,
    MonthlyReport,
    PublicationVersion,
)

HEADER = ["事项编号", "指标序号", "指标名称", "月份", "街镇", "数值", "计量单位", "备注"]
JUNE = datetime.date(2024, 6, 1)


def xlsx(rows, *, header=HEADER, title=True, percent=(), formulas=None, sheet=None) -> bytes:
    """A workbook: a merged title row (and a note) above the header, then `rows`.
    `percent`: (row index, column index) cells formatted as percentages."""
    book = openpyxl.Workbook()
    ws = book.active
    if sheet:
        ws.title = sheet
    if title:
        ws.append(["瑶海区人社局 2024年6月 民生实事数值填报表"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header or [1]))
        ws.append(["填表说明：只填数值和备注两列。"])
    if header is not None:
        ws.append(header)
    first = ws.max_row + 1 if header is not None else ws.max_row
    for row in rows:
        ws.append(list(row))
    for r, c in percent:
        ws.cell(row=first + r, column=c + 1).number_format = "0%"
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def row(code="1-1", number=1, value="", *, name="", month="2024-06", street="", unit="", note=""):
    return [code, number, name, month, street, value, unit, note]


def read(data: bytes):
    """The rows of a downloaded workbook's first sheet, as values."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def state():
    """Everything an import could touch, rows and history rows."""
    return {
        "reports": list(MonthlyReport.objects.order_by("pk").values()),
        "figures": list(Figure.objects.order_by("pk").values()),
        "milestones": list(Milestone.objects.order_by("pk").values()),
        "items": list(Item.objects.order_by("pk").values()),
        "indicators": list(Indicator.objects.order_by("pk").values()),
        "domains": Domain.objects.count(),
        "history": [
            model.history.count() for model in (MonthlyReport, Figure, Milestone, Item, Indicator)
        ],
        "version": list(PublicationVersion.objects.values_list("counter", flat=True)),
    }


@pytest.fixture
def world(plan, domain, unit, other_unit, street, make_item, make_indicator, make_staff):
    """A unit with a count in 万人, a rate, a count broken down by street and a qualitative
    indicator; another unit with one item; a clerk of each, and the office."""
    from livelihood.models import Street

    second = Street.objects.create(code="hongqiao", name="红桥街道", kind="subdistrict", order=2)
    jobs = make_item("1-1", title="城镇新增就业")
    jobs_count = make_indicator(jobs, "1.15", unit="万人", name="城镇就业人员新增")
    rate = make_item("1-2", title="养老服务")
    rate_indicator = make_indicator(rate, "98", kind="rate", unit="%", name="覆盖率")
    streets = make_item("1-3", title="老旧小区改造")
    by_street = make_indicator(
        streets, "120", unit="个", name="改造小区", has_street_breakdown=True
    )
    make_indicator(streets, None, kind="qualitative", comparator="", unit="", name="群众满意")
    foreign = make_item("1-9", title="残疾人康复", lead_unit=other_unit)
    foreign_indicator = make_indicator(foreign, "300", unit="人", name="康复人数")
    return {
        "plan": plan,
        "unit": unit,
        "other_unit": other_unit,
        "streets": (street, second),
        "jobs": jobs,
        "count": jobs_count,
        "rate_item": rate,
        "rate": rate_indicator,
        "street_item": streets,
        "by_street": by_street,
        "foreign": foreign,
        "foreign_indicator": foreign_indicator,
        "clerk": make_staff("clerk", unit),
        "other_clerk": make_staff("other-clerk", other_unit),
        "office": make_staff("office"),
    }


def value_of(indicator, month=JUNE, street=None) -> Decimal | None:
    figure = Figure.objects.filter(indicator=indicator, report__month=month, street=street).first()
    return None if figure is None else figure.value
