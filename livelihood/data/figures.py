"""
Spreadsheets in: a unit's monthly figures. `FigureResource` turns each row of a file read by
livelihood/data/reading.py into a figure; `figures_import` runs it (livelihood/data/outcomes.py
says what every import guarantees). The template a unit fills in is
livelihood/data/import_templates.py: `figure_template`.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from import_export import resources
from import_export.results import RowResult

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.data.outcomes import (
    Outcome,
    PreviewRow,
    RowError,
    row_error,
    run,
)
from livelihood.data.reading import (
    FIGURE_SPEC,
    ROW,
    Formula,
    ImportFileError,
    Percent,
    cell_text,
    is_blank,
    read_sheet,
    shown,
)
from livelihood.plan.models import Indicator, Item, LeadUnit, Plan, Street, first_of_month
from livelihood.plan.parsing import (
    ParseError,
    normalise,
    parse_decimal,
    parse_figure,
    parse_month,
)
from livelihood.progress import arithmetic as progress
from livelihood.reporting import services
from livelihood.reporting.figure_import import reports_import_figures
from livelihood.reporting.figures import (
    FigureInput,
    figure_problems,
    previous_approved_for,
)
from livelihood.reporting.models import Figure, MonthlyReport

State = MonthlyReport.State


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
# Monthly figures
# ------------------------------------------------------------------------------
STREET_TOTAL = {"", "全区", "全区合计", "合计", "全区总计", "区级"}


class FigureResource(resources.ModelResource):
    """One spreadsheet row is one figure: an indicator's district total or a street's figure.

    Rows are checked one by one (the item is the unit's, the indicator and street exist, the
    value reads, the report is not locked); the figures are then written per report through
    reports_import_figures (livelihood/reporting/figure_import.py) in `after_import`, inside
    the import's transaction."""

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
        self.pending: dict[int, list[tuple[int, FigureInput]]] = defaultdict(list)
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
                raise row_error(header, f"单元格是公式（{shown(value)}），请改为直接填写{what}。")
        code = cell_text(row.get("事项编号"))
        if not code:
            raise row_error("事项编号", "事项编号为空。")
        item = self.items.get(code)
        if item is None:
            raise row_error(
                "事项编号", f"“{shown(row['事项编号'])}”不是{self.plan.year}年度计划中的事项编号。"
            )
        if self.unit is not None and item.lead_unit_id != self.unit.pk:
            raise row_error(
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
            raise row_error(
                "指标序号",
                "指标序号应为整数，例如 1。" if not is_blank(raw_number) else "指标序号为空。",
            ) from None
        indicator = self.indicators.get((item.pk, int(indicator_number)))
        if indicator is None:
            raise row_error(
                "指标序号", f"事项 {item.code} 没有序号为 {int(indicator_number)} 的指标。"
            )
        street = None
        street_text = cell_text(row.get("街镇"))
        if street_text not in STREET_TOTAL:
            street = self.streets.get(street_text.lower())
            if street is None:
                raise row_error("街镇", f"“{shown(row['街镇'])}”不是本区的街镇名称。")
            if not indicator.has_street_breakdown:
                raise row_error("街镇", f"指标“{indicator.name}”不分街镇填报，街镇一栏应留空。")
        if "月份" in row and not is_blank(row["月份"]):
            try:
                month = parse_month(row["月份"])
            except ParseError as error:
                raise row_error("月份", str(error)) from None
            if month != self.month:
                raise row_error(
                    "月份",
                    f"本行是{month_label(month)}的数值，与所选的导入月份{month_label(self.month)}不符。",
                )
        key = (indicator.pk, street.pk if street else None)
        if key in self.seen:
            raise row_error(
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
            raise row_error(
                "数值",
                f"指标“{indicator.name}”按节点计算进度，不填数值；节点完成情况请在月度报告中填报。",
            )
        instance.value = self._value(row, indicator)
        if "备注" in row:
            note = str(row["备注"]).strip() if row["备注"] is not None else ""
            if len(note) > 200:
                raise row_error("备注", f"备注不能超过 200 字（现有 {len(note)} 字）。")
            instance.note = note
        changed = self._original != (instance.value, instance.note)
        report = self.reports.get(item.pk)
        if changed and report is not None:
            if report.state == State.APPROVED:
                raise row_error(
                    "数值",
                    f"事项 {item.code} {month_label(self.month)}的报告已审核通过并公开，已锁定，"
                    "不能导入修改；如需更正，请联系区民生办重新打开。",
                )
            if report.state == State.SUBMITTED and not self.coordinator:
                raise row_error(
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
                raise row_error(
                    "计量单位",
                    f"计量单位“{shown(row['计量单位'])}”与指标“{indicator.name}”的单位不符，应为{choices}。",
                )
        try:
            number = parse_figure(value, kind=indicator.kind, unit=unit, percent_cell=percent)
        except ParseError as error:
            raise row_error("数值", str(error)) from None
        if number != number.quantize(Decimal("0.0001")):
            raise row_error("数值", "数值最多保留 4 位小数。")
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
        """Queued: the report's figures are written together, through reports_import_figures."""
        number, item, indicator, street = self._row
        self.pending[item.pk].append(
            (
                number,
                FigureInput(
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
        # for every report of the file at once; reports_import_figures checks the
        # figures against them again before it writes.
        earlier = previous_approved_for(
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
            problems_found = figure_problems(report, inputs, earlier.get(item_pk, {}))
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
            saved = reports_import_figures(
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
