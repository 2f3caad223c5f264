"""
The coordinating office's monthly summary (汇总表) as a formatted .xlsx or as CSV: the rows and
totals livelihood/data/summary.py composes, written out.

Sheet 汇总表: a title naming the plan and the month (and 演示数据 while the plan has demo
data), then one row per indicator, grouped by domain: item code and title, the indicator,
its target as written, the latest figure in the unit as written, progress, 序时进度, status,
逾期未报, lead unit (暂定 marked), delay reason and note, and the narrative of the latest
approved report. An item's own cells span its indicators' rows. Progress is shown uncapped,
as on the item page (135% is news); the domain and plan totals below the items are the
capped, weight-normalised roll-ups of `progress.rollup()` (stored or computed), with the
count of items in each status. Sheet 牵头单位排名: the lead units ranked by reporting punctuality
(`progress.punctuality`), then by the roll-up of their items' progress.

The CSV holds the same item rows without the title and totals, one row per indicator with the
item's values repeated, a 领域 column, percentages as numbers of percent, and a 演示数据
column. The plan's items (a plan year's few tens) are read at once, as residents' pages
read them (livelihood/snapshots/read.py); the totals are the stored roll-ups where the items
were read from the stored snapshot (livelihood/data/summary.py says when).
"""

import math
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from livelihood.data.exports import (
    GRID,
    HEADER_FILL,
    HEADER_FONT,
    cell,
    csv_writer,
    display_width,
    write_only_workbook,
)
from livelihood.data.summary import (
    ItemLine,
    SummaryMonth,
    Totals,
    item_lines,
    lines_with_totals,
    unit_ranking,
)
from livelihood.progress import arithmetic as progress

# The item table: (header, width in characters, the item's own cell rather than the
# indicator's).
COLUMNS = (
    ("编号", 6, True),
    ("事项", 18, True),
    ("指标", 16, False),
    ("目标（原文）", 12, False),
    ("最新数值", 10, False),
    ("计量单位", 7, False),
    ("数据月份", 7, False),
    ("进度", 8, True),
    ("序时进度", 8, True),
    ("状态", 8, True),
    ("逾期未报", 8, True),
    ("牵头单位", 14, True),
    ("滞后原因", 9, True),
    ("滞后说明", 18, True),
    ("进展情况", 30, True),
)
LAST_COLUMN = get_column_letter(len(COLUMNS))
HEADER_ROW = 3

CSV_COLUMNS = (
    "领域",
    "事项编号",
    "事项名称",
    "指标",
    "目标（原文）",
    "最新数值",
    "计量单位",
    "数据月份",
    "进度（%）",
    "序时进度（%）",
    "状态",
    "逾期未报",
    "牵头单位",
    "滞后原因",
    "滞后说明",
    "进展情况",
    "演示数据",
)

STATUS_COLUMNS = (
    progress.Status.DONE,
    progress.Status.EXCEEDED,
    progress.Status.ON_TRACK,
    progress.Status.BEHIND,
    progress.Status.NOT_STARTED,
)

RANK_COLUMNS = (
    ("名次", 6),
    ("牵头单位", 24),
    ("牵头事项", 8),
    ("应报送（项·月）", 15),
    ("按时报送", 8),
    ("逾期报送", 8),
    ("未报送", 8),
    ("按时报送率", 10),
    ("平均进度", 10),
    ("序时进度", 10),
    ("滞后事项", 8),
    ("完成事项", 8),
)

CHINESE_DIGITS = "零一二三四五六七八九"


# ------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------
def write_summary(stream, fmt: str, summary: SummaryMonth) -> int:
    """Write the summary to a binary stream; returns the number of items written."""
    if fmt == "csv":
        return _summary_csv(stream, summary)
    return _summary_xlsx(stream, summary)


def _percent(value: Decimal | None) -> Decimal | None:
    """Percent with two decimals in the CSV: the same rounding as the pages, one place more."""
    return progress.percent(value, places=2)


def _summary_csv(stream, summary: SummaryMonth) -> int:
    count = 0
    with csv_writer(stream) as writer:
        writer.writerow(CSV_COLUMNS)
        for item in item_lines(summary):
            count += 1
            for line in item.lines:
                writer.writerow(
                    (
                        item.domain_name,
                        item.code,
                        item.title,
                        line.name,
                        line.target,
                        _csv_number(line.value),
                        line.unit,
                        f"{line.month:%Y-%m}" if line.month else "",
                        _csv_number(_percent(item.progress)),
                        _csv_number(_percent(item.expected)),
                        item.snapshot.status.label,
                        "是" if item.snapshot.overdue else "",
                        item.lead_unit,
                        item.delay_reason,
                        item.delay_note,
                        item.narrative,
                        "是" if item.demo else "",
                    )
                )
    return count


def _csv_number(value):
    if value is None:
        return ""
    return value if isinstance(value, Decimal) else str(value)


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (domain headings: 一、就业创业)."""
    if number < 10:
        return CHINESE_DIGITS[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return (
            (CHINESE_DIGITS[tens] if tens > 1 else "")
            + "十"
            + (CHINESE_DIGITS[ones] if ones else "")
        )
    return str(number)


BODY_FONT = Font(name="宋体", size=10)
BOLD_FONT = Font(name="宋体", size=10, bold=True)
TITLE_FONT = Font(name="黑体", size=16, bold=True)
SUBTITLE_FONT = Font(name="宋体", size=10, color="404040")
DEMO_FONT = Font(name="黑体", size=16, bold=True, color="C00000")
SECTION_FILL = PatternFill("solid", fgColor="F2F2F2")
BEHIND_FILL = PatternFill("solid", fgColor="FCE4D6")
OVERDUE_FONT = Font(name="宋体", size=10, bold=True, color="C00000")
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")
TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
PERCENT = "0.0%"
LINE_HEIGHT = 13.5
NO_BORDER = Border()
BOTTOM = Border(bottom=Side(style="thin", color="808080"))


def _lines_needed(value, width: float) -> int:
    """Lines a wrapped text takes in a column `width` characters wide (an estimate: row
    heights are not fitted by Excel on opening, nor ever for merged cells)."""
    if value is None or value == "":
        return 1
    usable = max(width - 1, 1)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in str(value).split("\n"))


def _height(lines: int) -> float:
    return round(lines * LINE_HEIGHT + 4, 1)


def _number_format(value) -> str:
    return "#,##0" if isinstance(value, int) else "#,##0.0###"


class _Sheet:
    """A write-only sheet with the styles of the summary; tracks the row being written."""

    def __init__(self, workbook, title, widths):
        self.ws = workbook.create_sheet(title)
        self.widths = widths
        for index, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.row = 0
        self.merges = []

    def merge(self, ref: str):
        """Merge a range when the sheet is finished: openpyxl checks each range it is given
        against all before it, which grows with the square of their number."""
        self.merges.append(CellRange(ref))

    def finish(self):
        self.ws.merged_cells = MultiCellRange(self.merges)

    def append(self, cells, *, height=None):
        self.row += 1
        if height is not None:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(cells)

    def banner(self, value, *, font, height, alignment=CENTER, fill=None, border=NO_BORDER):
        """A row of one text across the whole width."""
        last = get_column_letter(len(self.widths))
        self.append(
            [cell(self.ws, value, font=font, alignment=alignment, fill=fill, border=border)]
            + [cell(self.ws, None, fill=fill, border=border) for _ in self.widths[1:]],
            height=height,
        )
        self.merge(f"A{self.row}:{last}{self.row}")

    def header(self, titles):
        lines = max(_lines_needed(t, w) for t, w in zip(titles, self.widths, strict=False))
        self.append(
            [
                cell(self.ws, t, font=HEADER_FONT, fill=HEADER_FILL, border=GRID, alignment=CENTER)
                for t in titles
            ],
            height=_height(lines),
        )

    def value(self, value, *, alignment=CENTER, number_format=None, font=BODY_FONT, fill=None):
        if value is None:
            return cell(self.ws, "—", font=font, border=GRID, alignment=CENTER, fill=fill)
        return cell(
            self.ws,
            value,
            font=font,
            border=GRID,
            alignment=alignment,
            number_format=number_format,
            fill=fill,
        )

    def setup_print(self, summary: SummaryMonth, *, title_rows: str, freeze: str):
        ws = self.ws
        ws.freeze_panes = freeze
        ws.print_title_rows = title_rows
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = 0.6
        ws.page_margins.bottom = 0.6
        ws.page_margins.header = ws.page_margins.footer = 0.3
        escaped = summary.plan.title.replace("&", "&&")
        ws.oddFooter.left.text = f"{escaped} · {summary.month_words}"
        ws.oddFooter.left.size = 8
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.oddFooter.center.size = 9
        ws.oddFooter.right.text = (
            f"生成于 {timezone.localtime(summary.generated_at):%Y-%m-%d %H:%M}"
        )
        ws.oddFooter.right.size = 8
        if summary.demo:
            ws.oddHeader.center.text = "演示数据，不是正式统计"
            ws.oddHeader.center.color = "C00000"
            ws.oddHeader.center.size = 10


def _summary_xlsx(stream, summary: SummaryMonth) -> int:
    with write_only_workbook(summary.title) as workbook:
        count = _summary_sheets(workbook, summary)
        workbook.save(stream)
    return count


def _summary_sheets(workbook, summary: SummaryMonth) -> int:
    totals = Totals()
    sheet = _Sheet(workbook, "汇总表", [width for _, width, _ in COLUMNS])
    sheet.setup_print(summary, title_rows=f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"C{HEADER_ROW + 1}")
    sheet.banner(summary.title, font=DEMO_FONT if summary.demo else TITLE_FONT, height=30)
    sheet.banner(summary.subtitle, font=SUBTITLE_FONT, height=18, alignment=RIGHT)
    sheet.header([title for title, _, _ in COLUMNS])

    count = 0
    domain = None
    for item in lines_with_totals(summary, totals):
        count += 1
        if item.domain_number != domain:
            domain = item.domain_number
            sheet.banner(
                f"{chinese_number(domain)}、{item.domain_name}",
                font=BOLD_FONT,
                height=_height(1),
                alignment=LEFT,
                fill=SECTION_FILL,
                border=GRID,
            )
        _write_item(sheet, item)

    _write_totals(sheet, summary, totals)
    _write_notes(sheet, summary)
    sheet.finish()
    _write_ranking(workbook, summary, totals)
    return count


def _write_item(sheet: _Sheet, item: ItemLine):
    snapshot = item.snapshot
    status = snapshot.status
    behind = BEHIND_FILL if status is progress.Status.BEHIND else None
    own = {
        0: sheet.value(item.code),
        1: sheet.value(item.title, alignment=LEFT),
        7: sheet.value(_float(item.progress), number_format=PERCENT),
        8: sheet.value(_float(item.expected), number_format=PERCENT),
        9: sheet.value(status.label, fill=behind),
        10: sheet.value("是", font=OVERDUE_FONT) if snapshot.overdue else sheet.value(""),
        11: sheet.value(item.lead_unit, alignment=LEFT),
        12: sheet.value(item.delay_reason),
        13: sheet.value(item.delay_note, alignment=TOP_LEFT),
        14: sheet.value(item.narrative, alignment=TOP_LEFT),
    }
    texts = {
        0: item.code,
        1: item.title,
        11: item.lead_unit,
        12: item.delay_reason,
        13: item.delay_note,
        14: item.narrative,
    }
    widths = sheet.widths
    spread = len(item.lines)
    item_lines_needed = max(_lines_needed(texts[i], widths[i]) for i in texts)
    first = sheet.row + 1
    for index, line in enumerate(item.lines):
        cells = []
        for column in range(len(COLUMNS)):
            if column in own:
                cells.append(own[column] if index == 0 else sheet.value("", fill=None))
            elif column == 2:
                cells.append(sheet.value(line.name, alignment=LEFT))
            elif column == 3:
                cells.append(sheet.value(line.target))
            elif column == 4:
                cells.append(
                    sheet.value(
                        line.value, alignment=RIGHT, number_format=_number_format(line.value)
                    )
                )
            elif column == 5:
                cells.append(sheet.value(line.unit))
            elif column == 6:
                cells.append(sheet.value(f"{line.month.month}月" if line.month else None))
        needed = max(
            _lines_needed(line.name, widths[2]),
            _lines_needed(line.target, widths[3]),
            math.ceil(item_lines_needed / spread),
        )
        sheet.append(cells, height=_height(needed))
    if spread > 1:
        last = sheet.row
        for column, (_, _, item_own) in enumerate(COLUMNS, 1):
            if item_own:
                letter = get_column_letter(column)
                sheet.merge(f"{letter}{first}:{letter}{last}")


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _write_totals(sheet: _Sheet, summary: SummaryMonth, totals: Totals):
    """Totals by domain and status, on the columns of the item table: the domain across the
    first two, then items, progress, 序时进度, the count in each status and 逾期未报."""
    sheet.append([], height=_height(1))
    sheet.banner("各领域事项进展汇总", font=BOLD_FONT, height=_height(1), alignment=LEFT)
    titles = ["领域", "", "事项数", "平均进度", "序时进度"]
    titles += [status.label for status in STATUS_COLUMNS] + ["逾期未报"]
    sheet.header(titles)
    sheet.merge(f"A{sheet.row}:B{sheet.row}")
    domains = list(summary.plan.domains.order_by("number"))
    for domain in domains:
        _totals_row(sheet, f"{chinese_number(domain.number)}、{domain.name}", totals.domain(domain))
    _totals_row(sheet, "合计", totals.plan(), font=BOLD_FONT)


def _totals_row(sheet: _Sheet, label: str, rolled: progress.Rollup, *, font=BODY_FONT):
    cells = [
        sheet.value(label, alignment=LEFT, font=font),
        sheet.value(""),
        sheet.value(rolled.total, font=font, number_format="0"),
        sheet.value(_float(rolled.progress), number_format=PERCENT, font=font),
        sheet.value(_float(rolled.expected), number_format=PERCENT, font=font),
    ]
    cells += [
        sheet.value(rolled.counts.get(status, 0), font=font, number_format="0")
        for status in STATUS_COLUMNS
    ]
    cells.append(sheet.value(rolled.overdue, font=font, number_format="0"))
    sheet.append(cells, height=_height(_lines_needed(label, sum(sheet.widths[:2]))))
    sheet.merge(f"A{sheet.row}:B{sheet.row}")


def _notes(summary: SummaryMonth) -> list[str]:
    return [
        "说明：",
        f"1. 本表{summary.month_words}，与公开网站首页“{summary.month_words}”时的口径一致：统计"
        f"{summary.month:%Y年%-m月}及以前各月的月度报告中至本表生成时已经区民生办审核公开的"
        "（次月及以后审核公开的也计入）；"
        "“最新数值”为上述报告中该指标最近一个月份的全区数值，按文件原文单位填写，“数据月份”为该数值所属月份。",
        "2. “进度”为事项完成进度，多个指标按权重加权平均，超额完成时按实际显示（可超过100%）；"
        "领域和合计的“平均进度”按各事项权重加权平均，单个事项按100%计入。",
        f"3. “序时进度”按指标的月度计划计算，未定月度计划的按自印发当月至12月均匀推进计算；"
        f"进度低于序时进度超过{settings.PROGRESS_TOLERANCE_POINTS}个百分点的为“滞后”。",
        f"4. 次月{settings.REPORT_DUE_DAY}日（含）前未报送上月进展的，标注“逾期未报”；"
        f"只计{summary.month:%Y年%-m月}及以前已过报送期限的月份，是否已报送以本表生成时为准。",
        "5. 牵头单位标注“（暂定）”的，来源文件未写明牵头单位，由区民生办按职能暂定。",
    ] + (["6. 本表含演示数据，不是正式统计，不得对外引用。"] if summary.demo else [])


def _write_notes(sheet: _Sheet, summary: SummaryMonth):
    sheet.append([], height=_height(1))
    total_width = sum(sheet.widths)
    for note in _notes(summary):
        sheet.banner(
            note,
            font=BODY_FONT,
            height=_height(_lines_needed(note, total_width)),
            alignment=LEFT,
        )


def _write_ranking(workbook, summary: SummaryMonth, totals: Totals):
    sheet = _Sheet(workbook, "牵头单位排名", [width for _, width in RANK_COLUMNS])
    sheet.setup_print(summary, title_rows=f"{HEADER_ROW}:{HEADER_ROW}", freeze=f"C{HEADER_ROW + 1}")
    mark = "【演示数据】" if summary.demo else ""
    sheet.banner(
        f"{mark}牵头单位报送及时率和进度排名（{summary.month_words}）",
        font=DEMO_FONT if summary.demo else TITLE_FONT,
        height=30,
    )
    sheet.banner(summary.subtitle, font=SUBTITLE_FONT, height=18, alignment=RIGHT)
    sheet.header([title for title, _ in RANK_COLUMNS])
    for row in unit_ranking(totals):
        punctual, rolled = row.punctuality, row.rollup
        finished = rolled.counts.get(progress.Status.DONE, 0) + rolled.counts.get(
            progress.Status.EXCEEDED, 0
        )
        sheet.append(
            [
                sheet.value(row.rank, number_format="0"),
                sheet.value(
                    f"{row.unit.name}（暂定）" if row.unit.provisional else row.unit.name,
                    alignment=LEFT,
                ),
                sheet.value(row.items, number_format="0"),
                sheet.value(punctual.due, number_format="0"),
                sheet.value(punctual.on_time, number_format="0"),
                sheet.value(punctual.late, number_format="0"),
                sheet.value(punctual.missing, number_format="0"),
                sheet.value(_float(punctual.rate), number_format=PERCENT),
                sheet.value(_float(rolled.progress), number_format=PERCENT),
                sheet.value(_float(rolled.expected), number_format=PERCENT),
                sheet.value(rolled.counts.get(progress.Status.BEHIND, 0), number_format="0"),
                sheet.value(finished, number_format="0"),
            ],
            height=_height(_lines_needed(row.unit.name, RANK_COLUMNS[1][1])),
        )
    sheet.append([], height=_height(1))
    note = (
        "说明：先按“按时报送率”、再按“平均进度”从高到低排名，两项均相同的名次并列。"
        f"按时报送指次月{settings.REPORT_DUE_DAY}日（含）前报送；“应报送”为"
        f"{summary.month:%Y年%-m月}及以前已过报送期限的月份数与牵头事项数之积；“平均进度”按各事项权重加权平均，单个事项按100%计入。"
    )
    sheet.banner(
        note,
        font=BODY_FONT,
        height=_height(_lines_needed(note, sum(sheet.widths))),
        alignment=LEFT,
    )
    sheet.finish()
