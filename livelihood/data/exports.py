"""
Spreadsheet exports for the coordinating office: writing files whole or not at all, and the
"all figures" export of a plan.

All figures (`write_figures`): every approved figure, one row each, as .xlsx or .csv, with
exactly these columns, in this order:

    事项编号   the item's code, e.g. 3-2
    指标序号   the indicator's number within the item (1, 2, …)
    指标名称   the indicator's name
    月份       the report's month, as text YYYY-MM
    街镇       the street or town of a breakdown row; blank for the district total (全区)
    数值       the figure, a number in 计量单位 (the plain unit it is stored in: 11500, not 1.15)
    计量单位   that plain unit: 人 for an indicator written in 万人, % for a rate

Rows come in reading order: plan year, domain, item, indicator, month, then the district
total before the streets in their order. Only approved figures are exported; the figures are
read with `.iterator()` and written as they arrive (openpyxl's write-only mode, `csv`), so
memory does not grow with the number of figures. The import of a month's figures reads the
same columns (round trip: exporting and importing the file back changes nothing).

Every text cell goes through `spreadsheet.neutralise()`; numbers are written as numbers.
"""

import contextlib
import copy
import csv
import errno
import io
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from django.db.models import F
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from livelihood.data.spreadsheet import neutralise
from livelihood.progress.arithmetic import plain_unit
from livelihood.progress.querysets import approved_q
from livelihood.reporting.models import Figure

FORMATS = ("xlsx", "csv")
CHUNK = 2000

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}

FIGURE_COLUMNS = ("事项编号", "指标序号", "指标名称", "月份", "街镇", "数值", "计量单位")
FIGURE_WIDTHS = (10, 9, 30, 10, 16, 14, 10)


class ExportError(Exception):
    """The export cannot be written; the message says why, in Chinese."""


# ------------------------------------------------------------------------------
# Files written whole or not at all
# ------------------------------------------------------------------------------
def format_for(path, requested: str | None = None) -> str:
    """The format asked for, or the one the file name's suffix names."""
    if requested:
        if requested not in FORMATS:
            raise ExportError(f"不支持的格式“{requested}”，可选 xlsx 或 csv。")
        return requested
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ExportError(
            f"无法从文件名“{Path(path).name}”判断格式：请使用 .xlsx 或 .csv 后缀，"
            "或用 --format xlsx / --format csv 指定。"
        )
    return suffix


def check_output(path) -> Path:
    """The path, if a file can be written there: not a directory, in a directory that exists."""
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"“{path}”是一个目录，请给出文件名。")
    if not path.parent.is_dir():
        raise ExportError(f"目录“{path.parent}”不存在，无法写入“{path.name}”。")
    return path


@contextlib.contextmanager
def atomic_output(path):
    """A binary file that becomes `path` only once everything has been written.

    The data goes to a temporary file in the same directory (so that the final rename stays
    on one file system), is flushed to disk, and then replaces `path` in one `os.replace`.
    If anything fails on the way, the temporary file is removed and an existing file at
    `path` is left as it was: no reader ever sees half a file.
    """
    path = check_output(path)
    directory = path.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise ExportError(f"无法在目录“{directory}”中写入文件：{os_reason(error)}。") from None
    try:
        with os.fdopen(handle, "w+b") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def os_reason(error: OSError) -> str:
    """Why the operating system refused, in Chinese where the reason is a common one."""
    reasons = {
        errno.EACCES: "没有写入权限",
        errno.EPERM: "没有写入权限",
        errno.ENOENT: "目录不存在",
        errno.EROFS: "文件系统只读",
        errno.ENOSPC: "磁盘空间不足",
        errno.EDQUOT: "超出磁盘配额",
        errno.EISDIR: "目标是一个目录",
        errno.ENAMETOOLONG: "文件名过长",
    }
    return reasons.get(error.errno, error.strerror or str(error))


@contextlib.contextmanager
def csv_writer(stream):
    """A csv.writer on a binary stream, in UTF-8 with a byte-order mark (Excel then reads the
    Chinese text as UTF-8) and CRLF line ends, with every text neutralised."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    try:
        yield _NeutralisingWriter(writer)
    finally:
        text.flush()
        text.detach()


class _NeutralisingWriter:
    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        self.writer.writerow([_csv_value(value) for value in row])


def _csv_value(value):
    """Numbers as plain digits (no exponent, no thousands separator); texts neutralised."""
    if isinstance(value, Decimal):
        number = plain_number(value)
        return str(number) if isinstance(number, int) else format(number, "f")
    return neutralise(value)


@contextlib.contextmanager
def write_only_workbook(title: str):
    """An openpyxl write-only workbook (rows stream to disk as they are appended). If writing
    fails, its sheets' temporary files are closed and removed at once rather than when the
    process exits (openpyxl's own clean-up), and no half-written sheet is left open."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "瑶海区民生实事进度公开平台"
    workbook.properties.title = title
    try:
        yield workbook
    except BaseException:
        _discard(workbook)
        raise


def _discard(workbook):
    # openpyxl 3.1's write-only sheets keep their row generator in `_rows` and their
    # temporary file's writer in `_writer`.
    for ws in workbook.worksheets:
        rows, writer = getattr(ws, "_rows", None), getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            if rows is not None:
                rows.close()
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(Exception):
                writer.cleanup()


# ------------------------------------------------------------------------------
# Cells
# ------------------------------------------------------------------------------
def plain_number(value: Decimal | None):
    """A stored Decimal as a spreadsheet number: an int when whole, else without trailing
    zeros (11500.0000 → 11500, 1.1500 → 1.15)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def text(value):
    """A text cell's content: characters XML cannot hold are dropped, then neutralised."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise(value)


def cell(ws, value, *, font=None, fill=None, border=None, alignment=None, number_format=None):
    """A write-only cell; every text goes through `text()`. A string that still looked like a
    formula would be stored as one by openpyxl, so the type is set to text explicitly.

    Assigning a style makes openpyxl hash it to find it in the workbook's style lists, which
    costs more than writing the cell; each combination is therefore worked out once per
    workbook and copied after (`_style` is openpyxl 3.1's array of those list positions)."""
    made = WriteOnlyCell(ws, value=text(value))
    if isinstance(made.value, str):
        made.data_type = "s"
    style = (font, fill, border, alignment, number_format)
    if style == (None, None, None, None, None):
        return made
    cache = ws.parent.__dict__.setdefault("_export_styles", {})
    key = (*map(id, style[:4]), number_format)
    known = cache.get(key)
    if known is not None:
        made._style = copy.copy(known[1])
        return made
    if font is not None:
        made.font = font
    if fill is not None:
        made.fill = fill
    if border is not None:
        made.border = border
    if alignment is not None:
        made.alignment = alignment
    if number_format is not None:
        made.number_format = number_format
    # The style objects are kept with their positions, so that no id() in a key is reused.
    cache[key] = (style, copy.copy(made._style))
    return made


THIN = Side(style="thin", color="808080")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
HEADER_FONT = Font(name="黑体", size=10, bold=True)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


def display_width(value) -> int:
    """Columns a text takes in a cell: Chinese and full-width characters count two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in str(value))


# ------------------------------------------------------------------------------
# All figures of a plan
# ------------------------------------------------------------------------------
def figure_rows(plan=None, month=None):
    """Every approved figure of `plan` (of every plan when None), of `month` only when given
    (the file a unit's import of that month reads back), as tuples in FIGURE_COLUMNS order,
    read in chunks."""
    figures = Figure.objects.filter(approved_q("report__"), report__item__plan__published=True)
    if plan is not None:
        figures = figures.filter(report__item__plan=plan)
    if month is not None:
        figures = figures.filter(report__month=month)
    rows = (
        figures.order_by(
            "report__item__plan__year",
            "report__item__domain__number",
            "report__item__order",
            "report__item__code",
            "indicator__number",
            "report__month",
            F("street__order").asc(nulls_first=True),
            "street__code",
        )
        .values_list(
            "report__item__code",
            "indicator__number",
            "indicator__name",
            "report__month",
            "street__name",
            "value",
            "indicator__unit",
        )
        .iterator(chunk_size=CHUNK)
    )
    for code, number, name, month, street, value, unit in rows:
        yield (code, number, name, f"{month:%Y-%m}", street or "", value, plain_unit(unit))


def write_figures(stream, fmt: str, plan=None, month=None) -> int:
    """Write all approved figures of `plan` (of `month` only, when given) to a binary stream;
    returns the number of rows."""
    if fmt == "csv":
        return _figures_csv(stream, plan, month)
    return _figures_xlsx(stream, plan, month)


def _figures_csv(stream, plan, month) -> int:
    count = 0
    with csv_writer(stream) as writer:
        writer.writerow(FIGURE_COLUMNS)
        for row in figure_rows(plan, month):
            writer.writerow(row)
            count += 1
    return count


def _figures_xlsx(stream, plan, month) -> int:
    title = f"{plan.title}全部已审核数值" if plan else "全部年度计划已审核数值"
    if month is not None:
        title += f"（{month:%Y年%-m月}）"
    with write_only_workbook(title) as workbook:
        count = _figures_sheet(workbook, plan, month)
        workbook.save(stream)
    return count


def _figures_sheet(workbook, plan, month=None) -> int:
    ws = workbook.create_sheet("全部数值")
    for index, width in enumerate(FIGURE_WIDTHS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A2"
    ws.append(
        [
            cell(ws, title, font=HEADER_FONT, fill=HEADER_FILL, border=GRID, alignment=HEADER_ALIGN)
            for title in FIGURE_COLUMNS
        ]
    )
    count = 0
    for code, number, name, shown_month, street, value, unit in figure_rows(plan, month):
        # Plain values: styling each of a quarter of a million cells would cost more than
        # writing them. Texts are neutralised; numbers stay numbers.
        ws.append(
            [
                text(code),
                number,
                text(name),
                shown_month,
                text(street),
                plain_number(value),
                text(unit),
            ]
        )
        count += 1
    ws.auto_filter.ref = f"A1:G{count + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    return count
