"""
Open data for everyone: the data page and the downloads of each plan year's datasets
(livelihood/data/resources/) as CSV, XLSX and JSON.

- CSV is UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly.
- In CSV and XLSX every text a spreadsheet would run as a formula is neutralised
  (`spreadsheet.neutralise`); numbers stay numbers (numeric cells in XLSX).
- Progress, 序时进度, status and 数据截至 are the stored snapshot's, read through the datasets
  (livelihood/data/resources/) and livelihood/snapshots/read.py as residents' pages read them;
  a plan with nothing stored, or a change not yet written, is computed afresh by the reader.
  The data page lists each year's 数据截至 from the approved reports in one grouped query.
- The large dataset (the monthly figures) is never held in memory: CSV and JSON are streamed
  as the rows arrive in chunks from the database; XLSX is written by openpyxl's write-only mode
  to a temporary file, which is then streamed and deleted.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db.models import Max
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from livelihood.data import resources
from livelihood.data.base import (
    DEFAULT_PAGE_SIZE,
    FEED_SIZE,
    MAX_PAGE_SIZE,
    SOURCE,
    TERMS,
    to_json,
)
from livelihood.data.spreadsheet import neutralise
from livelihood.plan.models import Plan
from livelihood.progress import method
from livelihood.progress.querysets import approved_q
from livelihood.reporting.models import MonthlyReport
from livelihood.snapshots import read as snapshots

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}
DATASETS = {resource.slug: resource for resource in resources.DOWNLOADS}
BATCH = 500  # rows per chunk of a streamed response

TYPE_LABELS = {
    resources.STRING: "文本",
    resources.INTEGER: "整数",
    resources.NUMBER: "数值",
    resources.BOOLEAN: "是/否",
    resources.DATE: "日期",
    resources.MONTH: "年月",
}


def header(field) -> str:
    """A column's heading in CSV and XLSX: the Chinese name, with (%) for percentages."""
    suffix = "（%）" if field.unit == resources.PERCENT else ""
    return f"{field.column_name}{suffix}"


def filename(plan, resource, fmt) -> str:
    return f"yaohai-minsheng-{plan.year}-{resource.slug}.{fmt}"


# ------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------
def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return neutralise(value)


def xlsx_cell(value):
    """Numbers and dates as such; text neutralised, without the control characters an .xlsx
    cannot hold."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)) or None  # "" as an empty cell
    return value


# ------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------
class _Line:
    """csv.writer writes a row into this and hands the text back."""

    def write(self, text):
        return text


def csv_chunks(resource) -> Iterator[bytes]:
    writer = csv.writer(_Line())
    yield "\ufeff".encode() + writer.writerow([header(f) for _, f in resource.columns()]).encode()
    for batch in _batches(resource.rows()):
        yield "".join(writer.writerow([csv_cell(v) for v in row]) for row in batch).encode()


def json_chunks(resource, meta: dict) -> Iterator[bytes]:
    head = to_json({**meta, "data": []})
    yield head[:-2].encode()  # up to and including "data":[
    first = True
    for batch in _batches(resource.records()):
        text = ",".join(to_json(record) for record in batch)
        yield (text if first else "," + text).encode()
        first = False
    yield b"]}"


def xlsx_file(resource, meta: dict):
    """The dataset as an .xlsx in a temporary file (deleted when closed), positioned at 0:
    a sheet of data with a frozen, bold header row, and a sheet 说明."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(resource.label)
    sheet.freeze_panes = "A2"
    columns = resource.columns()
    bold = Font(bold=True)
    for number, (_, field) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = _width(field)
    cells = []
    for _, field in columns:
        cell = WriteOnlyCell(sheet, value=header(field))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    date_columns = [number for number, (_, f) in enumerate(columns) if f.type == resources.DATE]
    for row in resource.rows():
        values = [xlsx_cell(v) for v in row]
        for number in date_columns:
            if values[number] is not None:
                cell = WriteOnlyCell(sheet, value=values[number])
                cell.number_format = "yyyy-mm-dd"
                values[number] = cell
        sheet.append(values)

    # 说明: what the file is, its terms, and every column; column B holds the long texts.
    notes = workbook.create_sheet("说明")
    for letter, width in zip("ABCD", (22, 80, 10, 8), strict=True):
        notes.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for label, value in (
        ("数据集", f"{meta['plan_year']}年 {meta['title']}"),
        ("来源", meta["source"]),
        ("数据截至", meta["data_month"] or "暂无已审核的月度数据"),
        ("生成时间", meta["generated_at"]),
        ("演示数据", "含演示数据（见“演示数据”列）" if meta["demo_data"] else "无"),
        ("使用条款", meta["terms"]),
    ):
        notes.append([_bold(notes, label), _wrapped(notes, value, wrap)])
    notes.append([])
    notes.append([_bold(notes, t) for t in ("列名", "含义", "类型", "单位")])
    for field in meta["fields"]:
        notes.append(
            [
                xlsx_cell(field["column"]),
                _wrapped(notes, field["description"], wrap),
                TYPE_LABELS[field["type"]],
                xlsx_cell(field["unit"]),
            ]
        )
    file = tempfile.TemporaryFile()
    workbook.save(file)
    file.seek(0)
    return file


def _bold(sheet, value):
    cell = WriteOnlyCell(sheet, value=xlsx_cell(value))
    cell.font = Font(bold=True)
    return cell


def _wrapped(sheet, value, alignment):
    cell = WriteOnlyCell(sheet, value=xlsx_cell(value))
    cell.alignment = alignment
    return cell


def _width(field) -> float:
    if field.type in (resources.STRING,) and field.column_name in ("事项", "名称", "指标"):
        return 36
    if field.type == resources.STRING:
        return max(12, len(str(field.column_name)) * 2 + 2)
    return max(10, len(header(field)) * 2 + 2)


def _batches(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# ------------------------------------------------------------------------------
# What a download says of itself
# ------------------------------------------------------------------------------
def field_docs(resource) -> list[dict]:
    """Every field: its JSON name, its column heading, type, unit and meaning."""
    return [
        {
            "name": name,
            "column": header(field),
            "type": field.type,
            "unit": field.unit,
            "description": field.help or f"{field.column_name}。",
            "nullable": field.nullable,
        }
        for name, field in resource.columns()
    ]


def download_meta(plan, resource) -> dict:
    month = snapshots.plan_data_month(plan)
    return {
        "dataset": resource.slug,
        "title": resource.label,
        "plan_year": plan.year,
        "source": SOURCE,
        "terms": TERMS,
        "data_month": resources.month_text(month),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "demo_data": resources.demo_present(),
        "fields": field_docs(resource),
    }


# ------------------------------------------------------------------------------
# Views
# ------------------------------------------------------------------------------
def download(request, year, dataset, fmt):
    resource_class = DATASETS.get(dataset)
    if resource_class is None or fmt not in FORMATS:
        raise Http404("没有这项数据")
    plan = get_object_or_404(Plan.objects.published(), year=year)
    resource = resource_class(plan=plan)
    name = filename(plan, resource, fmt)
    if fmt == "xlsx":
        response = FileResponse(
            xlsx_file(resource, download_meta(plan, resource)),
            as_attachment=True,
            filename=name,
            content_type=FORMATS[fmt],
        )
        return response
    if fmt == "csv":
        chunks = csv_chunks(resource)
    else:
        chunks = json_chunks(resource, download_meta(plan, resource))
    if resource.large:
        response = StreamingHttpResponse(chunks, content_type=FORMATS[fmt])
    else:
        response = HttpResponse(b"".join(chunks), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def data_page(request):
    plans = list(Plan.objects.published().order_by("-year"))
    months = dict(
        MonthlyReport.objects.filter(approved_q())
        .order_by()
        .values("item__plan")
        .annotate(m=Max("month"))
        .values_list("item__plan", "m")
    )
    datasets = [resource_class() for resource_class in resources.DOWNLOADS]
    context = {
        "plan": plans[0] if plans else None,
        "plans": [
            {
                "plan": plan,
                "data_month": months.get(plan.pk),
                "downloads": [
                    {
                        "resource": resource,
                        "links": [
                            (
                                fmt.upper(),
                                reverse(
                                    "livelihood:download", args=[plan.year, resource.slug, fmt]
                                ),
                            )
                            for fmt in FORMATS
                        ],
                    }
                    for resource in datasets
                ],
            }
            for plan in plans
        ],
        "datasets": [
            {
                "resource": resource,
                "fields": [
                    {**doc, "type_label": TYPE_LABELS[doc["type"]]} for doc in field_docs(resource)
                ],
            }
            for resource in datasets
        ],
        "method_rules": method.rules(),
        "max_page_size": MAX_PAGE_SIZE,
        "default_page_size": DEFAULT_PAGE_SIZE,
        "feed_size": FEED_SIZE,
    }
    return render(request, "livelihood/data.html", context)
