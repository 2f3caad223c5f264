"""
Spreadsheets in, the reading: what every import (livelihood/data/figures.py,
livelihood/data/plan_import.py) does before a row means anything.

- Bounded: IMPORT_MAX_BYTES (5 MB) and IMPORT_MAX_ROWS (5000) by default; a formula cell, a
  file that is not a spreadsheet, an empty file and a file without the header are refused.
- The columns of each kind of file (`FIGURE_SPEC`, `PLAN_SPEC`), by their headers and aliases.
- django-import-export's pieces for them: the formats (`SheetFormat`, `PlanSheetFormat`) and
  the temporary storage between preview and confirmation (`DatabaseStorage`).

Reading: the header row is found by its column names (a merged title and notes may stand
above it); blank rows are skipped; formula cells are read as formulas (openpyxl with
data_only=False) and refused; a number in a cell formatted as a percentage is a fraction.
Values are then read by livelihood/plan/parsing.py, the one parser of what people type.
"""

import csv
import datetime
import io
import logging
import re
import uuid
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import tablib
from django.conf import settings
from django.utils import timezone
from import_export.formats import base_formats
from import_export.tmp_storages import BaseStorage

from livelihood.data.models import ImportUpload
from livelihood.plan.parsing import normalise
from livelihood.progress import arithmetic as progress

logger = logging.getLogger(__name__)

ROW = "行号"  # the column the reader adds: the row number as the spreadsheet shows it
HEADER_SEARCH_ROWS = 30
MAX_COLUMNS = 40
UPLOAD_LIFETIME = datetime.timedelta(days=1)


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 5000))


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{progress.format_number(Decimal(size) / (1024 * 1024))[:5].rstrip('.')} MB"
    return f"{max(1, size // 1024)} KB"


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message` says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------
# Cells that need more than their value
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Formula:
    """A formula cell: refused wherever it stands."""

    text: str

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class Percent:
    """A number in a cell formatted as a percentage: the cell holds the fraction (0.98)."""

    value: object

    def __str__(self):
        return f"{self.value}"


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not normalise(value))


def cell_text(value) -> str:
    """A cell as text: full-width folded, spaces removed, the apostrophe an export puts in front
    of a text that would start a formula taken off."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        value = value.value
    if isinstance(value, float) and value == int(value):
        value = int(value)
    text = normalise(str(value))
    if text.startswith("'"):
        text = text[1:]
    return text


def shown(value) -> str:
    """A cell's content quoted in a message, shortened."""
    text = str(value.value if isinstance(value, Percent) else value).strip()
    return text if len(text) <= 30 else text[:30] + "…"


# ------------------------------------------------------------------------------
# Columns
# ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple = ()
    required: bool = False


def header_key(text) -> str:
    """A header cell reduced to what identifies it: 数值（本月） and ＊数值 are 数值."""
    text = normalise(str(text or ""))
    text = re.sub(r"[（(][^）)]*[）)]", "", text)
    return text.strip("*＊:：")


class Spec:
    """The columns of one kind of import file."""

    def __init__(self, name: str, columns: list[Column]):
        self.name = name
        self.columns = columns
        self.by_name = {}
        for column in columns:
            for label in (column.header, *column.aliases):
                self.by_name[header_key(label)] = column

    @property
    def required(self):
        return [column for column in self.columns if column.required]

    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


FIGURE_SPEC = Spec(
    "月度数值",
    [
        Column("code", "事项编号", ("编号", "事项代码"), required=True),
        Column("number", "指标序号", ("指标编号",), required=True),
        Column("name", "指标名称"),
        Column("month", "月份", ("填报月份", "所属月份")),
        Column("street", "街镇", ("街道", "街道镇", "街镇名称")),
        Column("value", "数值", ("本月数值", "本月累计数", "本月数"), required=True),
        Column("unit", "计量单位"),
        Column("note", "备注", ("更正说明", "说明")),
    ],
)

PLAN_SPEC = Spec(
    "年度计划",
    [
        Column("code", "事项编号", ("编号",), required=True),
        Column("domain", "领域序号", ("领域编号",)),
        Column("domain_name", "领域", ("领域名称",)),
        Column("title", "事项名称", ("事项",), required=True),
        Column("lead", "牵头单位"),
        Column("lead_provisional", "牵头单位待确认"),
        Column("partners", "配合单位"),
        Column("item_weight", "事项权重"),
        Column("source", "文件原文", ("原文",)),
        Column("number", "指标序号", ("指标编号",)),
        Column("name", "指标名称", ("指标",), required=True),
        Column("kind", "指标类型", ("类型",)),
        Column("comparator", "比较", ("比较方式",)),
        Column("target", "目标值", ("目标",)),
        Column("unit", "单位", ("原文单位", "计量单位")),
        Column("baseline", "基数"),
        Column("weight", "指标权重"),
        Column("streets", "分街镇填报", ("分街镇",)),
    ],
)


# ------------------------------------------------------------------------------
# Reading a file
# ------------------------------------------------------------------------------
MAGIC = (
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"%PDF", "PDF 文件"),
    (b"BM", "位图图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NOT_A_SPREADSHEET = "请上传 Excel 工作簿（.xlsx）：可先下载模板，填好后直接上传。"


def check_size(size: int):
    if size == 0:
        raise ImportFileError("文件是空的（0 字节），请重新选择文件。")
    limit = max_bytes()
    if size > limit:
        raise ImportFileError(
            f"文件大小为 {size_label(size)}，超过了 {size_label(limit)} 的上限；"
            "请删去无关的工作表、图片后再上传，或分成几个文件导入。"
        )


def read_upload(upload) -> bytes:
    """An uploaded file's bytes, refusing it as soon as it is over the limit."""
    limit = max_bytes()
    if upload.size is not None:
        check_size(upload.size)
    data = bytearray()
    for chunk in upload.chunks():
        data += chunk
        if len(data) > limit:
            check_size(len(data))
    check_size(len(data))
    return bytes(data)


@dataclass
class Sheet:
    """The rows under the header: (row number as shown, {column key: cell value})."""

    title: str
    header_row: int
    columns: list[Column]
    rows: list[tuple[int, dict]]

    def has(self, key: str) -> bool:
        return any(column.key == key for column in self.columns)

    def dataset(self) -> tablib.Dataset:
        headers = [column.header for column in self.columns] + [ROW]
        data = tablib.Dataset(headers=headers)
        for number, values in self.rows:
            data.append([values.get(column.key) for column in self.columns] + [number])
        return data


def read_sheet(data: bytes, spec: Spec, file_name: str = "") -> Sheet:
    """The rows of `data` (an .xlsx workbook, or a .csv text) under the header `spec` names."""
    check_size(len(data))
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, spec)
    if head.startswith(OLE):
        raise ImportFileError(
            "这是旧版 Excel（.xls）文件或加了密码的文件，无法读取；"
            "请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx），去掉密码后再上传。"
        )
    for magic, what in MAGIC:
        if head.startswith(magic):
            raise ImportFileError(f"文件内容是 {what}，不是电子表格。{NOT_A_SPREADSHEET}")
    if file_name.lower().endswith(".csv"):
        return _read_csv(data, spec)
    raise ImportFileError(f"文件不是 Excel 工作簿（.xlsx），无法读取。{NOT_A_SPREADSHEET}")


def _read_xlsx(data: bytes, spec: Spec) -> Sheet:
    import openpyxl

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(f"文件已损坏，无法打开。{NOT_A_SPREADSHEET}") from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(
            f"文件是一个压缩包（zip），不是 Excel 工作簿。{NOT_A_SPREADSHEET}"
        ) from None
    if unpacked > 40 * max_bytes():
        raise ImportFileError("文件解压后过大，无法读取；请只保留需要导入的工作表。")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many types for one cause: not a readable workbook
        logger.info("unreadable workbook", exc_info=True)
        raise ImportFileError(
            f"文件已损坏或不是 Excel 工作簿，无法读取。{NOT_A_SPREADSHEET}"
        ) from None
    try:
        sheets = [book.active] + [ws for ws in book.worksheets if ws is not book.active]
        problems = []
        for ws in sheets:
            if ws is None or not hasattr(ws, "iter_rows"):
                continue
            # The cells the sheet holds, not the rectangle its <dimension> claims: that may be
            # absent or wrong, and padding every row out to MAX_COLUMNS cost a 5,000-row
            # import 145,000 empty cells.
            ws.reset_dimensions()
            rows = (
                (index, [_cell_value(cell) for cell in row[:MAX_COLUMNS]])
                for index, row in enumerate(ws.iter_rows(), start=1)
            )
            try:
                return _table(rows, spec, ws.title)
            except _NoHeader as missing:
                problems.append(missing)
        raise ImportFileError(_no_header_message(spec, problems))
    finally:
        book.close()


def _cell_value(cell):
    value = cell.value
    if value is None:
        return None
    if getattr(cell, "data_type", None) == "f" or (
        not isinstance(value, str | int | float | Decimal | datetime.date)
        and not isinstance(value, bool)
    ):
        return Formula(str(getattr(value, "text", None) or value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "%" in (getattr(cell, "number_format", None) or ""):
            return Percent(value)
    return value


def _read_csv(data: bytes, spec: Spec) -> Sheet:
    if b"\x00" in data:
        raise ImportFileError(f"文件不是文本表格（CSV），无法读取。{NOT_A_SPREADSHEET}")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string without NUL
        raise ImportFileError("CSV 文件的编码无法识别，请保存为 UTF-8 编码。")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = ((index, [value or None for value in row]) for index, row in enumerate(reader, 1))
    try:
        return _table(rows, spec, "")
    except _NoHeader as missing:
        raise ImportFileError(_no_header_message(spec, [missing])) from None
    except csv.Error:
        raise ImportFileError("CSV 文件格式有误，无法读取。") from None


class _NoHeader(Exception):
    def __init__(self, sheet: str, near: tuple[int, list[str]] | None, empty: bool):
        self.sheet, self.near, self.empty = sheet, near, empty


def _no_header_message(spec: Spec, problems: list[_NoHeader]) -> str:
    names = "、".join(f"“{column.header}”" for column in spec.required)
    if problems and all(problem.empty for problem in problems):
        return "文件中没有任何内容。请下载模板，填好后再上传。"
    for problem in problems:
        if problem.near:
            row, missing = problem.near
            where = f"工作表“{problem.sheet}”" if problem.sheet else "文件"
            return (
                f"{where}第 {row} 行像是表头，但缺少"
                f"{'、'.join(f'“{name}”' for name in missing)}列。表头应包含{names}。"
            )
    return f"未找到表头：文件中应有一行写着{names}等列名。请使用下载的模板。"


def _table(rows, spec: Spec, title: str) -> Sheet:
    """Find the header among the first rows, then read the rows under it."""
    limit = max_rows()
    near = None
    empty = True
    header = None
    for number, values in rows:
        if any(not is_blank(value) for value in values):
            empty = False
        found = {}
        duplicates = []
        for position, value in enumerate(values):
            if isinstance(value, str | int) and not isinstance(value, bool):
                column = spec.by_name.get(header_key(value))
                if column is not None:
                    if column.key in found:
                        duplicates.append(column.header)
                    found[column.key] = (position, column)
        missing = [column.header for column in spec.required if column.key not in found]
        if not missing:
            if duplicates:
                raise ImportFileError(
                    f"第 {number} 行表头中“{duplicates[0]}”列出现了不止一次，请只保留一列。"
                )
            header = (number, found)
            break
        if len(missing) < len(spec.required) and near is None:
            near = (number, missing)
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise _NoHeader(title, near, empty)
    header_row, found = header
    positions = sorted(found.values(), key=lambda pair: pair[0])
    table = []
    blank_run = 0
    for number, values in rows:
        record = {}
        for position, column in positions:
            value = values[position] if position < len(values) else None
            if isinstance(value, str) and not value.strip():
                value = None
            record[column.key] = value
        if all(value is None for value in record.values()):
            blank_run += 1
            if blank_run > 10 * limit:
                break  # a sheet formatted down to row 1 048 576: nothing more to read
            continue
        blank_run = 0
        table.append((number, record))
        if len(table) > limit:
            raise ImportFileError(
                f"文件的数据超过 {limit} 行的上限（读到第 {number} 行时已超过）；"
                "请分成几个文件导入。"
            )
    if not table:
        raise ImportFileError(f"第 {header_row} 行表头下面没有数据行；请填好后再上传。")
    return Sheet(title, header_row, [column for _, column in positions], table)


class SheetFormat(base_formats.XLSX):
    """django-import-export's format for our workbooks: the header found by its names,
    formulas kept as formulas (to refuse them), percentages marked. `spec` says the columns."""

    spec = FIGURE_SPEC

    def get_title(self):
        return "Excel 工作簿（.xlsx）"

    def create_dataset(self, in_stream):
        return read_sheet(bytes(in_stream), self.spec).dataset()


class PlanSheetFormat(SheetFormat):
    spec = PLAN_SPEC


# ------------------------------------------------------------------------------
# Holding an upload between preview and confirmation
# ------------------------------------------------------------------------------
class DatabaseStorage(BaseStorage):
    """django-import-export's temporary storage in the database (IMPORT_EXPORT_TMP_STORAGE_CLASS):
    every app server reads what another stored, and nothing lands under the web root.
    Names are random (128 bits); the admin also checks the row's owner."""

    def save(self, data):
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        self.name = self.name or uuid.uuid4().hex
        ImportUpload.objects.filter(created_at__lt=timezone.now() - UPLOAD_LIFETIME).delete()
        ImportUpload.objects.update_or_create(name=self.name, defaults={"data": bytes(data)})

    def read(self):
        row = ImportUpload.objects.filter(name=self.name).first()
        if row is None:
            raise ImportFileError("该导入文件已失效（已确认、已取消或超过一天），请重新上传。")
        data = bytes(row.data)
        return data if "b" in (self.read_mode or "") else data.decode(self.encoding or "utf-8")

    def remove(self):
        ImportUpload.objects.filter(name=self.name).delete()
