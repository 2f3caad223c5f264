"""
An evaluation round's results as an .xlsx workbook (the admin's 导出 button): the lead units'
ranking with each criterion's score and share, the streets' peer-review scores, the criteria
and their weights. It writes what evaluation/scoring.py `results()` gives, and no rater and no
comment.
"""

from decimal import Decimal

from django.utils import timezone

from livelihood.evaluation.scoring import Results, rounded

SCORE_FORMAT = "0.00"
PERCENT_FORMAT = "0.0%"


def results_workbook(table: Results):
    """The results as an .xlsx workbook: a ranking of lead units with each criterion's score
    and share, the streets' peer-review scores, and the criteria with their weights. No
    rater and no comment is in it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from livelihood.data.spreadsheet import neutralise

    round_ = table.round
    state = "已公布" if round_.is_published else ("得分已固定" if table.frozen else "预览，未固定")
    moment = timezone.localtime(round_.cutoff_at)
    subtitle = (
        f"数据截至{round_.cutoff_month:%Y年%-m月}"
        f"（{moment:%Y年%-m月%-d日 %H:%M}前审核公开的数据）；"
        f"{state}；导出时间 {timezone.localtime():%Y-%m-%d %H:%M}"
    )
    book = Workbook()
    book.remove(book.active)

    def sheet(title, heading, header, rows, widths, formats):
        ws = book.create_sheet(title)
        ws.append([neutralise(heading)])
        ws.append([neutralise(subtitle)])
        ws.append([neutralise(h) for h in header])
        ws["A1"].font = Font(bold=True, size=14)
        for cell in ws[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for row in rows:
            ws.append([neutralise(v) for v in row])
        for index, width in enumerate(widths, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = width
            number_format = formats.get(index)
            if number_format:
                for (cell,) in ws.iter_rows(min_row=4, min_col=index, max_col=index):
                    cell.number_format = number_format
        ws.freeze_panes = "A4"
        ws.print_title_rows = "3:3"
        ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        return ws

    criteria = table.criteria
    header = ["排名", "牵头单位"]
    for c in criteria:
        header += [f"{c.name}\n得分", f"{c.name}\n折算分"]
    header.append("总分")
    rows = []
    for row in table.units:
        values = [row.rank, row.party.name]
        for cell in row.cells:
            values += [_float(cell.score), _float(cell.share)]
        values.append(_float(row.total))
        rows.append(values)
    formats = {3 + i: SCORE_FORMAT for i in range(2 * len(criteria) + 1)}
    sheet(
        "牵头单位",
        f"{round_}结果",
        header,
        rows,
        [7, 30] + [12] * (2 * len(criteria)) + [10],
        formats,
    )
    if table.streets:
        street_rows = []
        for row in table.streets:
            street_rows.append([row.rank, row.party.name, _float(row.total)])
        sheet(
            "街镇互评",
            f"{round_}街镇互评得分",
            ["排名", "街镇", "互评得分"],
            street_rows,
            [7, 24, 12],
            {3: SCORE_FORMAT},
        )
    total_weight = sum((c.weight for c in criteria), Decimal(0))
    sheet(
        "考核指标",
        f"{round_}考核指标和权重",
        ["指标", "计分方式", "权重", "权重占比", "评分说明"],
        [
            [
                c.name,
                c.get_kind_display(),
                _float(c.weight),
                float(c.weight / total_weight) if total_weight else None,
                c.description,
            ]
            for c in criteria
        ],
        [20, 24, 10, 12, 50],
        {3: "0.##", 4: PERCENT_FORMAT},
    )
    return book


def _float(value: Decimal | None):
    """A score as openpyxl writes it: a float, to the two places the table shows."""
    return None if value is None else float(rounded(value))
