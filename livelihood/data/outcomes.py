"""
Spreadsheets in: a unit's monthly figures (livelihood/data/figures.py) and the plan itself
(livelihood/data/plan_import.py), read (livelihood/data/reading.py) and run through
django-import-export resources; the admin (livelihood/data/admin.py) and the commands
(import_figures, import_plan) run the same code. This module runs an import and says what came
of it, row by row.

What is guaranteed:

- All or nothing. A file is imported in one transaction; any error, in any row, rolls the whole
  file back (`rollback_on_validation_errors=True`). A dry run is the same import, rolled back.
- Every write goes through the reporting workflow's rules. Figures are saved through
  `reports_import_figures` (livelihood/reporting/figure_import.py), which does for all of a
  file's reports at once what `services.report_open` / `services.report_save` do for one: the
  approval lock, the optimistic lock on the report's version, the correction-note rule, the
  history rows and the publication version all apply. An approved report's figure that the
  file would change is an error, not a write; one the file repeats unchanged is simply
  unchanged (so exporting a month and importing it back changes nothing). Plan rows are saved
  one by one with `full_clean()`.
- Confinement. The unit comes from the server (the account's unit; the coordinating office
  chooses one). A row naming another unit's item is an error.
- Errors say where: the row number as the spreadsheet shows it, the column by its header, and
  what is wrong, in Chinese.
- Bounded: see livelihood/data/reading.py.
"""

import logging
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError

from livelihood.data.reading import ROW, ImportFileError
from livelihood.reporting.services import TransitionError

logger = logging.getLogger(__name__)


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
    if isinstance(error, ImportFileError | TransitionError):
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


def row_error(column: str, message: str) -> ValidationError:
    return ValidationError({column: [message]})


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
