"""
The workbooks handed out to be filled in and uploaded back: a unit's month of figures
(`figure_template`, read back by livelihood/data/figures.py) and the plan as it stands
(`plan_template`, read back by livelihood/data/plan_import.py). Their columns are the ones
livelihood/data/reading.py looks for.
"""

import datetime
import io
from decimal import Decimal

from livelihood.data.figures import month_label
from livelihood.data.reading import PLAN_SPEC
from livelihood.plan.models import Indicator, Item, LeadUnit, Plan, Street
from livelihood.reporting.models import Figure, MonthlyReport

State = MonthlyReport.State


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
# The plan as a workbook
# ------------------------------------------------------------------------------
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
