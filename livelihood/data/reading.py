"""
Spreadsheets in: a unit's monthly figures, and the plan itself, read through django-import-export
resources; the admin (admin_imports.py) and the commands (import_figures, import_plan) run the
same code.

What is guaranteed:

- All or nothing. A file is imported in one transaction; any error, in any row, rolls the whole
  file back (`rollback_on_validation_errors=True`). A dry run is the same import, rolled back.
- Every write goes through the reporting workflow's rules. Figures are saved through
  `services.reports_import_figures`, which does for all of a file's reports at once what
  `services.report_open` / `services.report_save` do for one: the approval lock, the
  optimistic lock on the report's version, the correction-note rule, the history rows and the
  publication version all apply. An approved report's figure that the file would change is an
  error, not a write; one the file repeats unchanged is simply unchanged (so exporting a month
  and importing it back changes nothing). Plan rows are saved one by one with `full_clean()`.
- Confinement. The unit comes from the server (the account's unit; the coordinating office
  chooses one). A row naming another unit's item is an error.
- Errors say where: the row number as the spreadsheet shows it, the column by its header, and
  what is wrong, in Chinese.
- Bounded: IMPORT_MAX_BYTES (5 MB) and IMPORT_MAX_ROWS (5000) by default; a formula cell, a
  file that is not a spreadsheet, an empty file and a file without the header are refused.

Reading: the header row is found by its column names (a merged title and notes may stand
above it); blank rows are skipped; formula cells are read as formulas (openpyxl with
data_only=False) and refused; a number in a cell formatted as a percentage is a fraction.
Values are then read by livelihood/data/parsing.py, the one parser of what people type.
"""

import csv
import datetime
import io
import logging
import re
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError
from django.utils import timezone
from import_export import resources
from import_export.formats import base_formats
from import_export.results import RowResult
from import_export.tmp_storages import BaseStorage

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.data.parsing import (
    ParseError,
    normalise,
    parse_decimal,
    parse_figure,
    parse_month,
)
from livelihood.models import (
    Domain,
    Figure,
    ImportUpload,
    Indicator,
    Item,
    LeadUnit,
    MonthlyReport,
    Plan,
    Street,
    first_of_month,
)
from livelihood.progress import arithmetic as progress
from livelihood.reporting import services

logger = logging.getLogger(__name__)

State = MonthlyReport.State

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


# ------------------------------------------------------------------------------
# Months
# ------------------------------------------------------------------------------
def month_problem(month: datetime.date, plan: Plan | None) -> str:
    """Why figures cannot be imported for `month`, or ""."""
    if plan is None:
        return f"没有{month.year}年度的民生实事计划，无法导入该月数值。"
    if month < plan.first_month:
        return (
            f"计划于{plan.issued_on:%Y年%-m月%-d日}印发，"
            f"不能导入更早月份（{month:%Y年%-m月}）的数值。"
        )
    if month > first_of_month(timezone.localdate()):
        return f"{month:%Y年%-m月}还没有到，不能导入未来月份的数值。"
    return ""


def month_label(month: datetime.date) -> str:
    return f"{month:%Y年%-m月}"


# ------------------------------------------------------------------------------
# Errors and outcomes
# ------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class RowError:
    row: int  # 0: the file as a whole
    column: str
    message: str

    def __str__(self):
        if not self.row:
            return self.message
        where = f"第 {self.row} 行"
        return (
            f"{where}“{self.column}”列：{self.message}"
            if self.column
            else f"{where}：{self.message}"
        )


@dataclass
class PreviewRow:
    row: int
    item: str
    indicator: str
    street: str
    before: str
    after: str
    action: str  # 新增 / 修改 / 未变化 / 未填写


@dataclass
class Outcome:
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def summary(self) -> str:
        parts = [
            f"{action} {self.count(action)} 项" for action in self.ACTIONS if self.count(action)
        ]
        return "，".join(parts) or "没有需要导入的数值"

    ACTIONS = ("新增", "修改", "未变化", "未填写")


def outcome_from(result, resource, dataset, *, dry_run: bool) -> Outcome:
    """Our outcome from django-import-export's Result: errors by row and column."""
    outcome = Outcome(dry_run=dry_run, total=len(dataset))
    sheet_rows = dataset[ROW] if len(dataset) else []
    labels = getattr(resource, "field_labels", {})

    def sheet_row(number):
        return sheet_rows[number - 1] if 0 < number <= len(sheet_rows) else number

    for error in result.base_errors:
        outcome.errors.append(RowError(0, "", _message(error.error)))
    for number, errors in result.row_errors():
        for error in errors:
            outcome.errors.append(RowError(sheet_row(number), "", _message(error.error)))
    for invalid in result.invalid_rows:
        for name, messages in invalid.error.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else labels.get(name, name)
            for message in messages:
                outcome.errors.append(RowError(sheet_row(invalid.number), column, message))
    outcome.errors = sorted(set(outcome.errors))
    outcome.rows = sorted(resource.preview, key=lambda row: row.row)
    outcome.reports = resource.report_labels()
    outcome.versions = resource.versions_seen
    return outcome


def _message(error) -> str:
    if isinstance(error, ImportFileError | services.TransitionError):
        return error.message
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    logger.error("import failed", exc_info=error)
    if isinstance(error, DatabaseError):
        # A full disk, a database that went away: the import's transaction is rolled back.
        return (
            f"写入数据库失败（{error}），整个文件未导入；"
            "请检查磁盘空间和数据库连接后重新导入，或联系区民生办。"
        )
    return f"导入时出现系统错误（{type(error).__name__}），整个文件未导入；请联系区民生办。"


def _row_error(column: str, message: str) -> ValidationError:
    return ValidationError({column: [message]})


# ------------------------------------------------------------------------------
# Monthly figures
# ------------------------------------------------------------------------------
STREET_TOTAL = {"", "全区", "全区合计", "合计", "全区总计", "区级"}


class FigureResource(resources.ModelResource):
    """One spreadsheet row is one figure: an indicator's district total or a street's figure.

    Rows are checked one by one (the item is the unit's, the indicator and street exist, the
    value reads, the report is not locked); the figures are then written per report through
    services.py in `after_import`, inside the import's transaction."""

    field_labels = {
        "value": "数值",
        "note": "备注",
        "indicator": "指标序号",
        "street": "街镇",
        "report": "事项编号",
    }

    class Meta:
        model = Figure
        fields = ()
        # No row writes to the database: save_instance() queues it, and after_import() writes
        # each report's figures together once every row is known good. With use_bulk off,
        # django-import-export wraps every row in a savepoint of its own (two statements, two
        # round trips on PostgreSQL, per row) to undo writes a row never makes; on, its own
        # bulk lists stay empty. The file is still one transaction (use_transactions).
        use_bulk = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_diff = True
        use_transactions = True

    def __init__(self, *, month: datetime.date, user, unit: LeadUnit | None = None, versions=None):
        super().__init__()
        self.month = first_of_month(month)
        self.user = user
        self.unit = unit
        self.versions_expected = {int(k): v for k, v in (versions or {}).items()}
        self.versions_seen: dict[str, int | None] = {}
        self.coordinator = is_coordinator(user)
        self.ready = False
        self.preview: list[PreviewRow] = []
        self.pending: dict[int, list[tuple[int, services.FigureInput]]] = defaultdict(list)
        self.seen: dict[tuple, int] = {}
        self.touched: dict[int, Item] = {}

    # The context, read once inside the import's transaction.
    def before_import(self, dataset, **kwargs):
        plan = Plan.objects.filter(year=self.month.year).first()
        problem = month_problem(self.month, plan)
        if problem:
            raise ImportFileError(problem)
        if not self.coordinator:
            own = unit_of(self.user)
            if own is None or (self.unit is not None and self.unit.pk != own.pk):
                raise ImportFileError("只能导入本单位牵头事项的数值。")
            self.unit = own
        self.plan = plan
        self.items = {
            item.code: item
            for item in Item.objects.filter(plan=plan)
            .select_related("lead_unit", "plan")
            .prefetch_related("indicators")
        }
        self.indicators = {
            (item.pk, indicator.number): indicator
            for item in self.items.values()
            for indicator in item.indicators.all()
        }
        self.streets = {}
        for street in Street.objects.all():
            for name in (street.name, street.code):
                self.streets[normalise(name).lower()] = street
        self.reports = {
            report.item_id: report
            for report in MonthlyReport.objects.filter(item__plan=plan, month=self.month)
        }
        self.figures = {
            (figure.report.item_id, figure.indicator_id, figure.street_id): figure
            for figure in Figure.objects.filter(
                report__item__plan=plan, report__month=self.month
            ).select_related("report")
        }
        self.ready = True

    def import_row(self, row, instance_loader, **kwargs):
        if not self.ready:  # the file as a whole was refused (before_import): rows say nothing
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        return super().import_row(row, instance_loader, **kwargs)

    # --------------------------------------------------------------------------
    # One row
    # --------------------------------------------------------------------------
    def get_or_init_instance(self, instance_loader, row):
        number = row[ROW]
        for header, value in row.items():
            if isinstance(value, Formula):
                what = "数值（可“选择性粘贴—数值”）" if header == "数值" else "内容"
                raise _row_error(header, f"单元格是公式（{shown(value)}），请改为直接填写{what}。")
        code = cell_text(row.get("事项编号"))
        if not code:
            raise _row_error("事项编号", "事项编号为空。")
        item = self.items.get(code)
        if item is None:
            raise _row_error(
                "事项编号", f"“{shown(row['事项编号'])}”不是{self.plan.year}年度计划中的事项编号。"
            )
        if self.unit is not None and item.lead_unit_id != self.unit.pk:
            raise _row_error(
                "事项编号",
                f"事项 {item.code}“{item.title}”由{item.lead_unit}牵头，"
                f"不是{self.unit}的事项，不能导入。",
            )
        raw_number = row.get("指标序号")
        try:
            indicator_number = parse_decimal(
                raw_number if not isinstance(raw_number, Percent) else ""
            )
            if indicator_number != int(indicator_number):
                raise ParseError("")
        except ParseError:
            raise _row_error(
                "指标序号",
                "指标序号应为整数，例如 1。" if not is_blank(raw_number) else "指标序号为空。",
            ) from None
        indicator = self.indicators.get((item.pk, int(indicator_number)))
        if indicator is None:
            raise _row_error(
                "指标序号", f"事项 {item.code} 没有序号为 {int(indicator_number)} 的指标。"
            )
        street = None
        street_text = cell_text(row.get("街镇"))
        if street_text not in STREET_TOTAL:
            street = self.streets.get(street_text.lower())
            if street is None:
                raise _row_error("街镇", f"“{shown(row['街镇'])}”不是本区的街镇名称。")
            if not indicator.has_street_breakdown:
                raise _row_error("街镇", f"指标“{indicator.name}”不分街镇填报，街镇一栏应留空。")
        if "月份" in row and not is_blank(row["月份"]):
            try:
                month = parse_month(row["月份"])
            except ParseError as error:
                raise _row_error("月份", str(error)) from None
            if month != self.month:
                raise _row_error(
                    "月份",
                    f"本行是{month_label(month)}的数值，与所选的导入月份{month_label(self.month)}不符。",
                )
        key = (indicator.pk, street.pk if street else None)
        if key in self.seen:
            raise _row_error(
                "指标序号",
                f"与第 {self.seen[key]} 行重复："
                f"同一指标{('、同一街镇' if street else '')}只能填一行。",
            )
        self.seen[key] = number
        existing = self.figures.get((item.pk, indicator.pk, key[1]))
        self._row = (number, item, indicator, street)
        if existing is not None:
            return existing, False
        report = self.reports.get(item.pk)
        return Figure(report=report, indicator=indicator, street=street), True

    def import_instance(self, instance, row, **kwargs):
        _, item, indicator, _ = self._row
        self._original = (instance.value, instance.note) if instance.pk else None
        self._blank = is_blank(row.get("数值"))
        if self._blank:
            return
        if not indicator.measured:
            raise _row_error(
                "数值",
                f"指标“{indicator.name}”按节点计算进度，不填数值；节点完成情况请在月度报告中填报。",
            )
        instance.value = self._value(row, indicator)
        if "备注" in row:
            note = str(row["备注"]).strip() if row["备注"] is not None else ""
            if len(note) > 200:
                raise _row_error("备注", f"备注不能超过 200 字（现有 {len(note)} 字）。")
            instance.note = note
        changed = self._original != (instance.value, instance.note)
        report = self.reports.get(item.pk)
        if changed and report is not None:
            if report.state == State.APPROVED:
                raise _row_error(
                    "数值",
                    f"事项 {item.code} {month_label(self.month)}的报告已审核通过并公开，已锁定，"
                    "不能导入修改；如需更正，请联系区民生办重新打开。",
                )
            if report.state == State.SUBMITTED and not self.coordinator:
                raise _row_error(
                    "数值",
                    f"事项 {item.code} {month_label(self.month)}的报告已报送，正在审核，"
                    "不能导入修改；如需修改，请联系区民生办退回。",
                )

    def _value(self, row, indicator) -> Decimal:
        raw = row["数值"]
        percent = isinstance(raw, Percent)
        value = raw.value if percent else raw
        unit = indicator.unit
        written = cell_text(row.get("计量单位"))
        plain = indicator.plain_unit
        if written:
            accepted = {normalise(plain), normalise(unit)}
            if indicator.kind == Indicator.Kind.RATE:
                accepted |= {"%", "百分比"}
            if written not in accepted:
                choices = "或".join(f"“{u}”" for u in dict.fromkeys([plain, unit]) if u)
                raise _row_error(
                    "计量单位",
                    f"计量单位“{shown(row['计量单位'])}”与指标“{indicator.name}”的单位不符，应为{choices}。",
                )
        try:
            number = parse_figure(value, kind=indicator.kind, unit=unit, percent_cell=percent)
        except ParseError as error:
            raise _row_error("数值", str(error)) from None
        if number != number.quantize(Decimal("0.0001")):
            raise _row_error("数值", "数值最多保留 4 位小数。")
        if written and indicator.scale != 1 and written == normalise(unit):
            # The row says its numbers are in the unit as written: 1.15 with 万人 is 11500,
            # unless the number carries its own 万 (1.15万 is 11500 either way).
            text = cell_text(value)
            if plain and text.endswith(normalise(plain)):
                text = text[: -len(normalise(plain))]
            if not text.endswith(tuple(progress.UNIT_PREFIXES)):
                number = number * indicator.scale
        return number

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if self._blank:
            self._preview(instance, "未填写")
            return True
        if self._original is not None and self._original == (instance.value, instance.note):
            self._preview(instance, "未变化")
            return True
        return False

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """The model's own validation (`full_clean`) of a row that read well; a report not
        opened yet is opened when the figures are written."""
        if import_validation_errors:
            raise ValidationError(import_validation_errors)
        # The indicator and the street were read from the database for this row: asking the
        # database again whether they exist (a query each, per row) adds nothing.
        exclude = ["indicator", "street"]
        if instance.report_id is None:
            exclude.append("report")
        # The model's constraints are unique pairs and triples over the report, the indicator
        # and the street, all excluded here: Django would skip each of them after working out
        # that it must (a fifth of a 5,000-row import's validation). The resource refuses a
        # duplicate row itself, and the database enforces them when the figures are written.
        instance.full_clean(
            exclude=exclude, validate_unique=validate_unique, validate_constraints=False
        )

    def save_instance(self, instance, is_create, row, **kwargs):
        """Queued: the report's figures are written together, through services.py."""
        number, item, indicator, street = self._row
        self.pending[item.pk].append(
            (
                number,
                services.FigureInput(
                    indicator_id=indicator.pk,
                    street_id=street.pk if street else None,
                    value=instance.value,
                    note=instance.note,
                    unsaved=instance if is_create else None,
                ),
            )
        )
        self.touched[item.pk] = item
        self._preview(instance, "新增" if is_create else "修改")

    def _preview(self, instance, action):
        number, item, indicator, street = self._row
        before = self._original[0] if self._original else None
        after = None if action == "未填写" else instance.value
        self.preview.append(
            PreviewRow(
                row=number,
                item=f"{item.code} {item.title}",
                indicator=f"{indicator.number}. {indicator.name}",
                street=street.name if street else "全区合计",
                before=progress.format_plain(before, indicator.unit) if before is not None else "",
                after=progress.format_plain(after, indicator.unit) if after is not None else "",
                action=action,
            )
        )

    # --------------------------------------------------------------------------
    # The writes, once every row is known good
    # --------------------------------------------------------------------------
    def after_import(self, dataset, result, **kwargs):
        if not self.ready or result.has_errors() or result.has_validation_errors():
            return
        problems = False
        # The approved figures of earlier months the file's rows are checked against, read
        # for every report of the file at once; services.reports_import_figures checks the
        # figures against them again before it writes.
        earlier = services.previous_approved_for(
            self.pending,
            self.month,
            {
                item_pk: [(figure.indicator_id, figure.street_id) for _, figure in queued]
                for item_pk, queued in self.pending.items()
            },
        )
        for item_pk, queued in self.pending.items():
            item = self.touched[item_pk]
            report = self.reports.get(item_pk) or MonthlyReport(item=item, month=self.month)
            self.versions_seen[str(item_pk)] = report.version if report.pk else None
            inputs = [figure for _, figure in queued]
            problems_found = services.figure_problems(report, inputs, earlier.get(item_pk, {}))
            for index, errors in problems_found.items():
                number = queued[index][0]
                position = dataset[ROW].index(number) + 1
                result.append_invalid_row(
                    position,
                    dict(zip(dataset.headers, dataset[position - 1], strict=True)),
                    ValidationError(errors),
                )
                problems = True
        if problems:
            return
        try:
            saved = services.reports_import_figures(
                month=self.month,
                user=self.user,
                figures={
                    self.touched[item_pk]: [figure for _, figure in queued]
                    for item_pk, queued in self.pending.items()
                },
                versions=self.versions_expected,
                earlier=earlier,
            )
        except services.TransitionError as error:
            item = getattr(error, "item", None)
            where = f"事项 {item.code}：" if item is not None else ""
            raise ImportFileError(f"{where}{error.message}") from None
        self.reports.update(saved)

    def report_labels(self) -> list[str]:
        labels = []
        for item_pk, item in self.touched.items():
            report = self.reports.get(item_pk)
            state = (
                report.get_state_display() if report is not None and report.pk else "草稿（新建）"
            )
            labels.append(f"{item.code} {item.title}（{state}）")
        return labels


def figures_import(
    *,
    data: bytes,
    file_name: str = "",
    month: datetime.date,
    user,
    unit: LeadUnit | None = None,
    dry_run: bool = False,
    versions: dict | None = None,
) -> Outcome:
    """Import a unit's figures for a month from a spreadsheet: everything or nothing.

    `versions` are the report versions the preview saw ({item pk: version}); a report saved
    by someone else since then refuses the import (services.ConcurrentEditError)."""
    try:
        dataset = read_sheet(data, FIGURE_SPEC, file_name).dataset()
    except ImportFileError as error:
        return Outcome(dry_run=dry_run, errors=[RowError(0, "", error.message)])
    resource = FigureResource(month=month, user=user, unit=unit, versions=versions)
    return run(resource, dataset, dry_run=dry_run, user=user)


def run(resource, dataset, *, dry_run: bool, user) -> Outcome:
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
    )
    return outcome_from(result, resource, dataset, dry_run=dry_run)


# ------------------------------------------------------------------------------
# The template a unit fills in
# ------------------------------------------------------------------------------
TEMPLATE_COLUMNS = (
    # header, width, filled in by the unit
    ("事项编号", 9, False),
    ("事项名称", 24, False),
    ("指标序号", 7, False),
    ("指标名称", 26, False),
    ("月份", 9, False),
    ("街镇", 12, False),
    ("目标（原文）", 13, False),
    ("上期已审核数值", 13, False),
    ("数值（本月）", 14, True),
    ("计量单位", 8, False),
    ("备注", 28, True),
)


def template_rows(items, month: datetime.date):
    """(item, indicator, street, previous approved figure, this month's figure) in reading
    order: each measured indicator's district total, then its streets where it has them."""
    streets = list(Street.objects.order_by("order", "code"))
    items = list(items.prefetch_related("indicators"))
    current = {
        (f.report.item_id, f.indicator_id, f.street_id): f
        for f in Figure.objects.filter(report__item__in=items, report__month=month).select_related(
            "report"
        )
    }
    earlier = {}
    for f in (
        Figure.objects.filter(
            report__item__in=items, report__state=State.APPROVED, report__month__lt=month
        )
        .select_related("report")
        .order_by("report__month")
    ):
        earlier[(f.indicator_id, f.street_id)] = f
    for item in items:
        for indicator in item.indicators.all():
            if not indicator.measured:
                continue
            for street in [None, *(streets if indicator.has_street_breakdown else [])]:
                key = (indicator.pk, street.pk if street else None)
                yield (
                    item,
                    indicator,
                    street,
                    earlier.get(key),
                    current.get((item.pk, *key)),
                )


def figure_template(*, plan: Plan, month: datetime.date, unit: LeadUnit | None) -> bytes:
    """The .xlsx a unit downloads, fills in (the 数值 and 备注 columns) and uploads."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    items = Item.objects.filter(plan=plan).order_by("domain__number", "order", "code")
    if unit is not None:
        items = items.filter(lead_unit=unit)
    book = Workbook()
    ws = book.active
    ws.title = f"{month:%Y-%m}"
    book.properties.creator = "瑶海区民生实事进度公开平台"
    who = unit.name if unit is not None else "全部牵头单位"
    book.properties.title = f"{who}{month_label(month)}民生实事数值填报表"
    width = len(TEMPLATE_COLUMNS)
    last = get_column_letter(width)
    thin = Side(style="thin", color="808080")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey = PatternFill("solid", fgColor="EDEDED")
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    wrap = Alignment(vertical="center", wrap_text=True)

    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = f"{plan.title} · {who} · {month_label(month)}月度数值填报表"
    ws["A1"].font = Font(name="黑体", size=14, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = (
        "填表说明：只填白色的“数值（本月）”和“备注”两列，灰色列请勿修改。"
        "数值填截至本月底的累计数，单位见“计量单位”列：例如计量单位为“人”时填 11500，"
        "也可以写 1.15万；比率填 98%、98 或 0.98 均可。不填的行保持原样。"
        "街镇为空的行是全区合计。本月数低于上期已审核数的，请在“备注”中写明更正原因。"
        "请勿使用公式；填好后在管理后台“导入”页面上传。"
    )
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws["A2"].font = Font(size=10)
    ws.row_dimensions[2].height = 58
    header_row = 3
    for index, (title, column_width, _) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=index, value=title)
        cell.font = Font(name="黑体", size=10, bold=True)
        cell.fill = header_fill
        cell.border = grid
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = column_width
    row_number = header_row
    for item, indicator, street, before, now in template_rows(items, month):
        row_number += 1
        values = (
            item.code,
            item.title,
            indicator.number,
            indicator.name,
            f"{month:%Y-%m}",
            street.name if street else "",
            indicator.target_display if indicator.target is not None else "",
            _number(before.value) if before else None,
            _number(now.value) if now else None,
            indicator.plain_unit,
            now.note if now else "",
        )
        for index, value in enumerate(values, start=1):
            cell = ws.cell(row=row_number, column=index, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a name that starts with = stays text
            cell.border = grid
            cell.alignment = wrap
            if not TEMPLATE_COLUMNS[index - 1][2]:
                cell.fill = grey
            else:
                cell.protection = Protection(locked=False)
        ws.cell(row=row_number, column=9).number_format = "General"
    if row_number == header_row:
        ws.cell(
            row=header_row + 1, column=1, value="（本单位在该年度计划中没有需要填报数值的事项）"
        )
    else:
        check = DataValidation(
            type="custom",
            formula1=f"ISNUMBER(I{header_row + 1})+ISTEXT(I{header_row + 1})",
            allow_blank=True,
            showErrorMessage=False,
        )
        check.add(f"I{header_row + 1}:I{row_number}")
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    # Locked grey columns: a protection without a password, against slips, not people.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _number(value: Decimal | None):
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())


# ------------------------------------------------------------------------------
# The plan
# ------------------------------------------------------------------------------
KINDS = {
    "累计数": "count",
    "累计": "count",
    "数量": "count",
    "count": "count",
    "比率": "rate",
    "比例": "rate",
    "百分比": "rate",
    "rate": "rate",
    "标准": "standard",
    "standard": "standard",
    "定性": "qualitative",
    "qualitative": "qualitative",
}
COMPARATORS = {
    "": "",
    "≥": "gte",
    ">=": "gte",
    "不低于": "gte",
    "不少于": "gte",
    "达到": "gte",
    "=": "eq",
    "等于": "eq",
    "≈": "approx",
    "约": "approx",
    "≤": "lte",
    "<=": "lte",
    "不高于": "lte",
    "不超过": "lte",
}
YES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO = {"", "否", "n", "no", "false", "0", "×"}
ITEM_CODE = re.compile(r"^(?P<domain>\d{1,2})-(?P<number>\d{1,3})$")


class PlanResource(resources.ModelResource):
    """One row is one indicator of an item (an item without indicators: a row with the
    indicator columns blank). Item columns may be left blank on an item's later rows, as
    merged cells read. Items and indicators are matched by code and number and saved one by
    one with `full_clean()` (history kept); nothing is deleted."""

    field_labels = {
        "name": "指标名称",
        "kind": "指标类型",
        "comparator": "比较",
        "target": "目标值",
        "unit": "单位",
        "baseline": "基数",
        "weight": "指标权重",
        "number": "指标序号",
        "item": "事项编号",
        "has_street_breakdown": "分街镇填报",
    }

    class Meta:
        model = Indicator
        fields = ()
        use_bulk = False
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_diff = True
        use_transactions = True

    def __init__(self, *, plan: Plan, user=None, overwrite_approved: bool = False):
        super().__init__()
        self.plan = plan
        self.user = user
        self.overwrite_approved = overwrite_approved
        self.preview: list[PreviewRow] = []
        self.versions_seen = {}
        self.ready = False
        self.items_seen: dict[str, tuple[int, dict]] = {}
        self.indicators_seen: dict[tuple, int] = {}
        self.last_code = ""
        self.changed_items: set[str] = set()

    def before_import(self, dataset, **kwargs):
        if self.user is not None and not is_coordinator(self.user):
            raise ImportFileError("只有区民生办可以导入年度计划。")
        self.domains = {d.number: d for d in Domain.objects.filter(plan=self.plan)}
        self.units = {}
        for unit in LeadUnit.objects.all():
            for name in (unit.name, unit.short_name, unit.code):
                if name:
                    self.units[normalise(name).lower()] = unit
        self.items = {
            item.code: item
            for item in Item.objects.filter(plan=self.plan)
            .select_related("domain", "lead_unit")
            .prefetch_related("partner_units", "indicators")
        }
        self.approved = set(
            MonthlyReport.objects.filter(item__plan=self.plan, state=State.APPROVED).values_list(
                "item__code", flat=True
            )
        )
        self.with_figures = set(
            Figure.objects.filter(report__item__plan=self.plan).values_list(
                "indicator_id", flat=True
            )
        )
        self.next_order = max((item.order for item in self.items.values()), default=0) + 1
        self.ready = True

    def import_row(self, row, instance_loader, **kwargs):
        if not self.ready:
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        return super().import_row(row, instance_loader, **kwargs)

    # --------------------------------------------------------------------------
    # The item a row belongs to
    # --------------------------------------------------------------------------
    def get_or_init_instance(self, instance_loader, row):
        for header, value in row.items():
            if isinstance(value, Formula):
                raise _row_error(header, f"单元格是公式（{shown(value)}），请改为直接填写内容。")
        number = row[ROW]
        code = cell_text(row.get("事项编号")).replace("—", "-")
        item_columns = [
            "领域序号",
            "领域",
            "事项名称",
            "牵头单位",
            "牵头单位待确认",
            "配合单位",
            "事项权重",
            "文件原文",
        ]
        if not code:
            if not self.last_code or any(not is_blank(row.get(c)) for c in item_columns):
                raise _row_error("事项编号", "事项编号为空。")
            code = self.last_code
        else:
            self.last_code = code
            found = ITEM_CODE.match(code)
            if not found:
                raise _row_error(
                    "事项编号",
                    f"事项编号“{shown(row['事项编号'])}”应写成“领域序号-事项序号”，例如 3-2。",
                )
            self._item(code, found, row, number)
        item = self.items.get(code)
        if item is None or (code in self.items_seen and self.items_seen[code][1] is None):
            raise _row_error("事项编号", f"事项 {code} 所在的第一行有误，请先改正那一行。")
        self._row = (number, item)
        indicator_number = row.get("指标序号")
        if is_blank(indicator_number) and is_blank(row.get("指标名称")):
            self._item_only = True
            return Indicator(item=item), True
        self._item_only = False
        try:
            value = parse_decimal(indicator_number if indicator_number is not None else "")
            if value != int(value) or value < 1:
                raise ParseError("")
        except ParseError:
            raise _row_error("指标序号", "指标序号应为正整数，例如 1。") from None
        key = (code, int(value))
        if key in self.indicators_seen:
            raise _row_error(
                "指标序号",
                f"与第 {self.indicators_seen[key]} 行重复：事项 {code} 的第 {int(value)} 个指标。",
            )
        self.indicators_seen[key] = number
        existing = (
            next((i for i in item.indicators.all() if i.number == int(value)), None)
            if item.pk
            else None
        )
        if existing is not None:
            return existing, False
        return Indicator(item=item, number=int(value)), True

    def _item(self, code, found, row, number) -> Item:
        """The item the row names, created or updated on its first row; later rows repeat it
        or leave its columns blank."""
        fields = {}
        domain_number = row.get("领域序号")
        if not is_blank(domain_number):
            try:
                domain_number = int(parse_decimal(cell_text(domain_number)))
            except ParseError:
                raise _row_error("领域序号", "领域序号应为整数。") from None
            if domain_number != int(found["domain"]):
                raise _row_error(
                    "领域序号",
                    f"事项编号 {code} 属于第 {found['domain']} 领域，"
                    f"与领域序号 {domain_number} 不符。",
                )
        domain = self.domains.get(int(found["domain"]))
        if domain is None:
            raise _row_error(
                "事项编号",
                f"{self.plan.year}年度计划中没有第 {found['domain']} 个领域，请先在后台添加领域。",
            )
        name = cell_text(row.get("领域"))
        if name and name != normalise(domain.name):
            raise _row_error(
                "领域", f"第 {domain.number} 个领域是“{domain.name}”，不是“{shown(row['领域'])}”。"
            )
        fields["domain"] = domain
        title = str(row.get("事项名称") or "").strip()
        if title:
            fields["title"] = title
        lead = cell_text(row.get("牵头单位"))
        if lead:
            unit = self.units.get(lead.lower())
            if unit is None:
                raise _row_error(
                    "牵头单位",
                    f"“{shown(row['牵头单位'])}”不是已登记的牵头单位；请写全称或简称，或先在后台添加该单位。",
                )
            fields["lead_unit"] = unit
        provisional = cell_text(row.get("牵头单位待确认")).lower()
        if provisional:
            if provisional not in YES | NO:
                raise _row_error("牵头单位待确认", "请填“是”或“否”。")
            fields["lead_unit_provisional"] = provisional in YES
        partners = None
        if not is_blank(row.get("配合单位")):
            partners = []
            for part in re.split(r"[、,，;；/\s]+", str(row["配合单位"])):
                if not part.strip():
                    continue
                unit = self.units.get(normalise(part).lower())
                if unit is None:
                    raise _row_error("配合单位", f"“{part.strip()}”不是已登记的单位。")
                partners.append(unit)
        if not is_blank(row.get("事项权重")):
            try:
                fields["weight"] = parse_decimal(row["事项权重"])
            except ParseError as error:
                raise _row_error("事项权重", str(error)) from None
        if not is_blank(row.get("文件原文")):
            fields["source_text"] = str(row["文件原文"]).strip()

        if code in self.items_seen:
            first, first_fields = self.items_seen[code]
            for key, value in fields.items():
                if key != "domain" and first_fields.get(key, value) != value:
                    raise _row_error(
                        "事项名称" if key == "title" else "事项编号",
                        f"与第 {first} 行中事项 {code} 的内容不一致；同一事项各行应相同，或留空。",
                    )
            return self.items.get(code)
        self.items_seen[code] = (number, None)  # until the item is known good

        item = self.items.get(code)
        new = item is None
        if new:
            missing = [
                label
                for key, label in (("title", "事项名称"), ("lead_unit", "牵头单位"))
                if key not in fields
            ]
            if missing:
                raise _row_error(missing[0], f"新事项 {code} 须填写{'、'.join(missing)}。")
            item = Item(plan=self.plan, code=code, order=self.next_order)
            self.next_order += 1
        before = _item_state(item) if not new else None
        for key, value in fields.items():
            setattr(item, key, value)
        changed = new or _item_state(item) != before
        if partners is not None and (
            new or {p.pk for p in partners} != {p.pk for p in item.partner_units.all()}
        ):
            changed = True
        if changed and not new:
            self._refuse_if_approved(code, "事项名称")
        if changed:
            try:
                item.full_clean(exclude=["partner_units"])
            except ValidationError as error:
                raise ValidationError(
                    {self._item_label(k): v for k, v in error.message_dict.items()}
                ) from None
            item._history_user = self.user
            item.save()
            if partners is not None:
                item.partner_units.set(partners)
            self.items[code] = item
            self.changed_items.add(code)
            self.preview.append(
                PreviewRow(
                    number,
                    f"{code} {item.title}",
                    "（事项）",
                    "",
                    "",
                    "",
                    "新增" if new else "修改",
                )
            )
        self.items[code] = item
        self.items_seen[code] = (number, fields)
        return item

    @staticmethod
    def _item_label(key):
        return {
            "title": "事项名称",
            "lead_unit": "牵头单位",
            "weight": "事项权重",
            "domain": "领域序号",
            "code": "事项编号",
        }.get(key, "事项编号")

    def _refuse_if_approved(self, code, column):
        if code in self.approved and not self.overwrite_approved:
            raise _row_error(
                column,
                f"事项 {code} 已有审核通过的月度报告，修改会改变已公开的进度；"
                "确需修改，请勾选“允许修改已有审核报告的事项”（命令行加 --overwrite-approved）。",
            )

    # --------------------------------------------------------------------------
    # The indicator
    # --------------------------------------------------------------------------
    def import_instance(self, instance, row, **kwargs):
        if self._item_only:
            return
        item = self._row[1]
        self._before = _indicator_state(instance) if instance.pk else None
        name = str(row.get("指标名称") or "").strip()
        if not name:
            raise _row_error("指标名称", "指标名称为空。")
        instance.name = name
        kind = cell_text(row.get("指标类型")).lower()
        if kind not in KINDS:
            raise _row_error("指标类型", "指标类型应为“累计数”“比率”“标准”或“定性”。")
        instance.kind = KINDS[kind]
        comparator = cell_text(row.get("比较"))
        if comparator not in COMPARATORS:
            raise _row_error("比较", "比较应为“≥”“=”“≈”或“≤”（也可写“不低于”“约”“不超过”）。")
        instance.comparator = COMPARATORS[comparator]
        unit = cell_text(row.get("单位"))
        instance.unit = unit
        instance.target = self._decimal(row, "目标值", unit)
        instance.baseline = self._decimal(row, "基数", unit)
        weight = self._decimal(row, "指标权重", "")
        if weight is not None:
            instance.weight = weight
        streets = cell_text(row.get("分街镇填报")).lower()
        if streets not in YES | NO:
            raise _row_error("分街镇填报", "请填“是”或“否”。")
        instance.has_street_breakdown = streets in YES
        if self._before is not None and instance.pk in self.with_figures:
            if (instance.unit, instance.kind) != (self._before["unit"], self._before["kind"]):
                raise _row_error(
                    "单位" if instance.unit != self._before["unit"] else "指标类型",
                    "该指标已有填报数值，不能修改单位或类型（已填的数值会随之失真）；"
                    "如确需调整，请新增一个指标。",
                )
        if self._before is not None and _indicator_state(instance) != self._before:
            self._refuse_if_approved(item.code, "指标名称")

    def _decimal(self, row, column, unit):
        raw = row.get(column)
        if is_blank(raw):
            return None
        if isinstance(raw, Percent):
            return parse_decimal(raw.value) * 100
        text = cell_text(raw)
        for suffix in (unit, "%"):
            if suffix and text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
        try:
            return parse_decimal(text if isinstance(raw, str) else raw)
        except ParseError as error:
            raise _row_error(column, str(error)) from None

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if self._item_only:
            return True
        if self._before is not None and _indicator_state(instance) == self._before:
            self._plan_preview(instance, "未变化")
            return True
        return False

    def save_instance(self, instance, is_create, row, **kwargs):
        instance._history_user = self.user
        instance.save()
        self._plan_preview(instance, "新增" if is_create else "修改")

    def _plan_preview(self, instance, action):
        number, item = self._row
        self.preview.append(
            PreviewRow(
                number,
                f"{item.code} {item.title}",
                f"{instance.number}. {instance.name}",
                "分街镇" if instance.has_street_breakdown else "",
                "",
                instance.target_display if instance.target is not None else "",
                action,
            )
        )

    def after_import(self, dataset, result, **kwargs):
        if not self.ready or result.has_errors() or result.has_validation_errors():
            return
        count = Item.objects.filter(plan=self.plan).count()
        if count > self.plan.declared_item_count:
            raise ImportFileError(
                f"导入后计划共有 {count} 项事项，"
                f"超过文件所列的 {self.plan.declared_item_count} 项；"
                "请检查事项编号是否写错。"
            )
        super().after_import(dataset, result, **kwargs)

    def report_labels(self):
        return [f"{code} {self.items[code].title}" for code in sorted(self.changed_items)]


def _item_state(item) -> dict:
    return {
        key: getattr(item, key)
        for key in (
            "title",
            "domain_id",
            "lead_unit_id",
            "lead_unit_provisional",
            "weight",
            "source_text",
        )
    }


def _indicator_state(indicator) -> dict:
    return {
        key: getattr(indicator, key)
        for key in (
            "name",
            "kind",
            "comparator",
            "target",
            "unit",
            "baseline",
            "weight",
            "has_street_breakdown",
        )
    }


def plan_import(
    *,
    data: bytes,
    file_name: str = "",
    plan: Plan,
    user=None,
    dry_run: bool = False,
    overwrite_approved: bool = False,
) -> Outcome:
    """Import items and indicators of `plan` from a spreadsheet: everything or nothing."""
    try:
        dataset = read_sheet(data, PLAN_SPEC, file_name).dataset()
    except ImportFileError as error:
        return Outcome(dry_run=dry_run, errors=[RowError(0, "", error.message)])
    resource = PlanResource(plan=plan, user=user, overwrite_approved=overwrite_approved)
    return run(resource, dataset, dry_run=dry_run, user=user)


COMPARATOR_SYMBOLS = {"gte": "≥", "eq": "=", "approx": "≈", "lte": "≤", "": ""}
KIND_LABELS = dict(Indicator.Kind.choices)


def plan_template(plan: Plan) -> bytes:
    """The plan as it stands, one row per indicator (an item without indicators: one row),
    in the columns `plan_import` reads: add the missing items, upload it back."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = f"{plan.year}年度计划"
    headers = PLAN_SPEC.headers()
    last = get_column_letter(len(headers))
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = f"{plan.title}（{plan.document_number}）事项和指标"
    ws["A1"].font = Font(name="黑体", size=14, bold=True)
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = (
        "说明：每行一个指标；同一事项的各行，事项各列可以留空（合并单元格亦可）。"
        "按“事项编号”和“指标序号”匹配：已有的更新，没有的新增，文件中没有的不删除。"
        "指标类型填 累计数、比率、标准 或 定性；比较填 ≥、=、≈ 或 ≤；目标值按“单位”一栏填写"
        "（单位为万人时填 1.15）；分街镇填报填 是 或 否；牵头单位写全称或简称。"
    )
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 48
    for index, title in enumerate(headers, start=1):
        cell = ws.cell(row=3, column=index, value=title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        ws.column_dimensions[get_column_letter(index)].width = 12
    for letter, width in (("D", 26), ("I", 30), ("K", 26)):
        ws.column_dimensions[letter].width = width
    items = (
        Item.objects.filter(plan=plan)
        .select_related("domain", "lead_unit")
        .prefetch_related("partner_units", "indicators")
        .order_by("domain__number", "order", "code")
    )
    row = 3
    for item in items:
        indicators = list(item.indicators.all()) or [None]
        for indicator in indicators:
            row += 1
            values = [
                item.code,
                item.domain.number,
                item.domain.name,
                item.title,
                item.lead_unit.name,
                "是" if item.lead_unit_provisional else "否",
                "、".join(unit.name for unit in item.partner_units.all()),
                _number(item.weight),
                item.source_text,
            ]
            if indicator is None:
                values += [None] * 9
            else:
                values += [
                    indicator.number,
                    indicator.name,
                    KIND_LABELS[indicator.kind],
                    COMPARATOR_SYMBOLS.get(indicator.comparator, ""),
                    _number(indicator.target),
                    indicator.unit,
                    _number(indicator.baseline),
                    _number(indicator.weight),
                    "是" if indicator.has_street_breakdown else "否",
                ]
            for index, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=index, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
    ws.freeze_panes = "A4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()
