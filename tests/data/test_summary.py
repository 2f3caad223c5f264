"""The coordinator's monthly summary and the all-figures export: what the files hold, how they
print, that no text runs as a formula, and that a file is written whole or not at all."""

import csv
import datetime
import io
import os
import re
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from livelihood.data import exports, summary, summary_sheets
from livelihood.data.exports import display_width
from livelihood.data.spreadsheet import (
    FORMULA_TRIGGERS,
    neutralise,
)
from livelihood.models import (
    Item,
    MonthlyReport,
    StaffProfile,
)
from livelihood.snapshots import build as snapshot_build
from livelihood.snapshots import read
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild, View

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
STATUS_COLUMN, PROGRESS_COLUMN, EXPECTED_COLUMN, VALUE_COLUMN = 10, 8, 9, 5


def at(day: str, hour=10) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


@pytest.fixture
def approved(report):
    """approved(item, "2024-05", {indicator: "40"}, on="2024-06-04"): submitted the day
    before `on` and approved on it."""

    def make(item, month, values=None, *, on, submitted=None, **fields):
        return report(
            item,
            month,
            values,
            state="approved",
            submitted_at=at(submitted) if submitted else at(on) - datetime.timedelta(days=1),
            reviewed_at=at(on),
            **fields,
        )

    return make


@pytest.fixture
def june(plan, domain, unit, other_unit, make_item, make_indicator, approved, report):
    """A plan with data up to June 2024: 1-1 on schedule (its June report approved, as
    reports are, in July), 1-2 over target, 1-3 behind with two indicators, 2-1 with nothing
    approved."""
    from livelihood.models import Domain

    second = Domain.objects.create(plan=plan, number=2, name="社会保障")
    on_track = make_item("1-1", title="城镇新增就业")
    jobs = make_indicator(on_track, "1.15", unit="万人", name="城镇就业人员新增")
    approved(on_track, "2024-04", {jobs: "1500"}, on="2024-05-04")
    approved(on_track, "2024-05", {jobs: "4000"}, on="2024-06-04", narrative="招聘会12场")
    approved(on_track, "2024-06", {jobs: "6000"}, on="2024-07-03")

    over = make_item("1-2", title="食品安全抽检", lead_unit=other_unit)
    batches = make_indicator(over, "200", unit="批次", name="抽检批次")
    approved(over, "2024-05", {batches: "270"}, on="2024-06-10", submitted="2024-06-09")

    behind = make_item("1-3", title="公共充电桩", lead_unit_provisional=True)
    chargers = make_indicator(behind, "190", unit="个", name="新建公共充电桩")
    rate = make_indicator(behind, "99", kind="rate", unit="%", name="验收合格率")
    approved(
        behind,
        "2024-05",
        {chargers: "10", rate: "5.5"},
        on="2024-06-04",
        delay_reason="funds",
        delay_note="资金6月下旬到位",
        narrative="已完成选址",
    )
    report(behind, "2024-06", {chargers: "150"}, state="draft")

    waiting = make_item("2-1", title="低保保障", domain=second, lead_unit=other_unit)
    make_indicator(waiting, "100", name="保障人数")
    return {"1-1": on_track, "1-2": over, "1-3": behind, "2-1": waiting}


def build(plan, month="2024-06", fmt="xlsx"):
    chosen = summary.summary_month(plan, summary.parse_month(month))
    stream = io.BytesIO()
    summary_sheets.write_summary(stream, fmt, chosen)
    return stream.getvalue()


def workbook(data):
    return openpyxl.load_workbook(io.BytesIO(data))


def item_rows(ws):
    """Code → the cells of the item's first row (column A holds the code)."""
    rows = {}
    for row in ws.iter_rows(min_row=4):
        code = row[0].value
        if isinstance(code, str) and code[:1].isdigit() and "-" in code and code not in rows:
            rows[code] = row
    return rows


def measured(item, month):
    """The item as the home page measures it while its 数据截至 is `month`."""
    return Item.objects.with_progress(month).get(pk=item.pk)


def texts(ws):
    """Every cell's value, row by row."""
    return [[c.value for c in row] for row in ws.iter_rows()]


def totals_row(ws, label="合计"):
    return next(v for v in texts(ws) if v[0] == label)


# ------------------------------------------------------------------------------
# neutralise
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_prefixes_an_apostrophe_to_each_formula_trigger(lead):
    assert neutralise(f'{lead}HYPERLINK("http://x")') == f'\'{lead}HYPERLINK("http://x")'


def test_formula_triggers_are_the_six_the_issue_names():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize(
    "value", [-5, 0, 12.5, Decimal("-1.15"), None, "", "城镇新增就业", "—", "1-1", " =x", "'=x"]
)
def test_neutralise_leaves_numbers_and_harmless_text_alone(value):
    assert neutralise(value) == value
    assert type(neutralise(value)) is type(value)


# ------------------------------------------------------------------------------
# The summary workbook
# ------------------------------------------------------------------------------
def test_progress_cell_is_the_items_snapshot_at_the_data_month(plan, june):
    ws = workbook(build(plan))["汇总表"]
    rows = item_rows(ws)
    for code, item in june.items():
        snapshot = measured(item, datetime.date(2024, 6, 1)).snapshot
        progress = rows[code][PROGRESS_COLUMN - 1].value
        if snapshot.progress_uncapped is None:
            assert progress == "—"
        else:
            assert progress == pytest.approx(float(snapshot.progress_uncapped))
            assert rows[code][EXPECTED_COLUMN - 1].value == pytest.approx(float(snapshot.expected))
    one = measured(june["1-1"], datetime.date(2024, 6, 1)).snapshot
    assert rows["1-1"][PROGRESS_COLUMN - 1].value == pytest.approx(float(one.progress))
    assert rows["1-1"][PROGRESS_COLUMN - 1].value == pytest.approx(6000 / 11500)


def test_a_months_summary_holds_its_figures_approved_in_the_month_after(plan, june):
    june_rows = item_rows(workbook(build(plan, "2024-06"))["汇总表"])
    # June's 6000 was approved on 3 July: it is June's figure (0.6万人), in June's summary.
    assert june_rows["1-1"][VALUE_COLUMN - 1].value == pytest.approx(0.6)
    assert june_rows["1-1"][6].value == "6月"
    may_rows = item_rows(workbook(build(plan, "2024-05"))["汇总表"])
    assert may_rows["1-1"][VALUE_COLUMN - 1].value == pytest.approx(0.4)
    assert may_rows["1-1"][6].value == "5月"
    assert may_rows["1-1"][14].value == "招聘会12场"
    # A draft is never shown.
    assert june_rows["1-3"][VALUE_COLUMN - 1].value == 10


def test_status_words_and_the_rest_of_an_items_row(plan, june):
    rows = item_rows(workbook(build(plan))["汇总表"])
    words = {code: row[STATUS_COLUMN - 1].value for code, row in rows.items()}
    assert words == {"1-1": "正常推进", "1-2": "超额完成", "1-3": "滞后", "2-1": "未启动"}
    # Over-completion is shown uncapped, as on the item page.
    assert rows["1-2"][PROGRESS_COLUMN - 1].value == pytest.approx(1.35)
    behind = rows["1-3"]
    assert behind[11].value == "区人力资源和社会保障局（暂定）"
    assert behind[12].value == "资金未到位"
    assert behind[13].value == "资金6月下旬到位"
    assert rows["1-1"][11].value == "区人力资源和社会保障局"
    assert rows["1-1"][3].value == "≥1.15万人"
    assert rows["1-1"][5].value == "万人"
    # 2-1 has reported nothing: 逾期未报.
    assert rows["2-1"][10].value == "是"
    assert rows["1-3"][10].value == "是"  # April's report never came, June's is a draft
    assert not rows["1-1"][10].value


def test_an_item_with_two_indicators_takes_two_rows_with_its_own_cells_merged(plan, june):
    ws = workbook(build(plan))["汇总表"]
    first = item_rows(ws)["1-3"][0].row
    assert ws.cell(first, 3).value == "新建公共充电桩"
    assert ws.cell(first + 1, 3).value == "验收合格率"
    assert ws.cell(first + 1, 4).value == "≥99%"
    assert ws.cell(first + 1, 5).value == pytest.approx(5.5)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"H{first}:H{first + 1}" in merged
    assert f"A{first}:A{first + 1}" in merged
    assert f"C{first}:C{first + 1}" not in merged


def test_domain_headings_and_totals_by_domain_and_status(plan, june):
    ws = workbook(build(plan))["汇总表"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["一、就业创业"] == [v[0] for v in values if v[0] == "一、就业创业"][:1]
    header = next(i for i, v in enumerate(values) if v[:3] == ["领域", None, "事项数"])
    assert values[header][5:11] == ["已完成", "超额完成", "正常推进", "滞后", "未启动", "逾期未报"]
    first, second, total = values[header + 1], values[header + 2], values[header + 3]
    assert first[0] == "一、就业创业" and first[2] == 3
    assert first[5:11] == [0, 1, 1, 1, 0, 2]
    assert second[0] == "二、社会保障" and second[2] == 1
    assert second[5:11] == [0, 0, 0, 0, 1, 1]
    assert total[0] == "合计" and total[2] == 4
    assert total[5:11] == [0, 1, 1, 1, 1, 3]
    # The roll-up caps each item at 100% and weighs by item weight.
    items = [measured(i, datetime.date(2024, 6, 1)) for i in june.values()]
    from livelihood.progress import arithmetic as progress

    rolled = progress.rollup((i.snapshot, i.weight) for i in items)
    assert total[3] == pytest.approx(float(rolled.progress))
    assert total[4] == pytest.approx(float(rolled.expected))
    assert ws.cell(header + 4, 4).number_format == "0.0%"


def test_units_ranked_by_punctuality_then_progress(plan, june, unit, other_unit, make_item):
    ws = workbook(build(plan))["牵头单位排名"]
    assert ws["A3"].value == "名次"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=5)]
    # April to June are due (June's report by 5 July): rsj reported 4 of its 6 item-months on
    # time (1-3 missed April, and June's is still a draft); cl was late with 1-2 in May
    # (submitted 9 June) and reported nothing else: 0 of 6.
    assert [r[1] for r in rows] == ["区人力资源和社会保障局", "区残疾人联合会"]
    assert [r[0] for r in rows] == [1, 2]
    assert rows[0][3:7] == [6, 4, 0, 2]
    assert rows[0][7] == pytest.approx(4 / 6)
    assert rows[1][3:8] == [6, 0, 1, 5, 0]
    assert ws.cell(4, 8).number_format == "0.0%"


def test_equal_units_share_a_rank(plan, domain, unit, other_unit, make_item, make_indicator):
    make_indicator(make_item(lead_unit=unit), "10")
    make_indicator(make_item(lead_unit=other_unit), "10")
    ws = workbook(build(plan))["牵头单位排名"]
    assert [ws.cell(row, 1).value for row in (4, 5)] == [1, 1]


def test_number_formats_and_print_setup(plan, june):
    book = workbook(build(plan))
    ws = book["汇总表"]
    row = item_rows(ws)["1-1"]
    assert row[PROGRESS_COLUMN - 1].data_type == "n"
    assert row[PROGRESS_COLUMN - 1].number_format == "0.0%"
    assert row[EXPECTED_COLUMN - 1].number_format == "0.0%"
    assert row[VALUE_COLUMN - 1].data_type == "n"
    assert row[VALUE_COLUMN - 1].number_format == "#,##0.0###"
    assert item_rows(ws)["1-2"][VALUE_COLUMN - 1].number_format == "#,##0"
    assert row[14].alignment.wrap_text
    assert ws["A3"].value == "编号" and ws["A3"].font.b
    assert ws.column_dimensions["O"].width == 30
    # Every column title fits its column on one line: none breaks off its last character. A
    # full-width character of the 10-point header font takes just under two widths:
    # LibreOffice sets 计量单位 (8) on one line at 7 and broke 逾期未报 after 逾期未 at 6.
    for sheet, columns in (
        (ws, summary_sheets.COLUMNS),
        (book["牵头单位排名"], summary_sheets.RANK_COLUMNS),
    ):
        for index, (title, *_) in enumerate(columns, 1):
            letter = get_column_letter(index)
            assert sheet[f"{letter}3"].value == title
            assert display_width(title) <= sheet.column_dimensions[letter].width + 1, title
    for sheet in book:
        assert sheet.freeze_panes == "C4"
        assert sheet.print_title_rows == "$3:$3"
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == 9  # A4
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text


def test_title_names_the_plan_and_month_and_marks_demo_data(plan, june):
    ws = workbook(build(plan))["汇总表"]
    assert ws["A1"].value == "瑶海区2024年50项民生实事进展情况汇总表（数据截至2024年6月）"
    assert ws["A2"].value.startswith(
        "数据截至2024年6月：4 项中 1 项已审核公开该月报告，2 项按此前最近一次审核公开的数据，"
        "1 项尚无审核公开的数据；按生成时已审核公开的数据统计　　生成时间："
    )
    assert not ws.oddHeader.center.text
    MonthlyReport.objects.filter(item=june["1-1"]).update(is_demo=True)
    book = workbook(build(plan))
    assert book["汇总表"]["A1"].value.startswith("【演示数据】瑶海区2024年")
    assert book["牵头单位排名"]["A1"].value.startswith("【演示数据】")
    assert "演示数据" in book["汇总表"].oddHeader.center.text


def test_every_leading_formula_character_is_neutralised_and_numbers_stay_numbers(
    plan, domain, make_item, make_indicator, approved
):
    for number, lead in enumerate(FORMULA_TRIGGERS, 1):
        item = make_item(f"1-{number}", title=f"{lead}1+1 事项")
        indicator = make_indicator(item, "100", name=f"{lead}SUM(A1)")
        approved(
            item,
            "2024-05",
            {indicator: "40"},
            on="2024-06-03",
            narrative=f"{lead}cmd|' /C calc'!A0",
            delay_note=f"{lead}2",
        )
    rows = item_rows(workbook(build(plan))["汇总表"])
    for number, lead in enumerate(FORMULA_TRIGGERS, 1):
        row = rows[f"1-{number}"]
        # XML reads a carriage return back as a line feed.
        shown = "\n" if lead == "\r" else lead
        for column, text in ((1, "1+1 事项"), (2, "SUM(A1)"), (14, "cmd|' /C calc'!A0")):
            assert row[column].data_type == "s"
            assert row[column].value == f"'{shown}{text}", (lead, column)
        assert row[13].value == f"'{shown}2"
        assert row[VALUE_COLUMN - 1].value == 40 and row[VALUE_COLUMN - 1].data_type == "n"
    lines = list(csv.reader(io.StringIO(build(plan, fmt="csv").decode("utf-8-sig"))))
    for line in lines[1:]:
        assert all(not field.startswith(FORMULA_TRIGGERS) for field in line), line
        assert line[5] == "40"
        assert line[2].startswith("'")


def test_csv_has_a_bom_and_the_same_rows(plan, june):
    data = build(plan, fmt="csv")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == list(summary_sheets.CSV_COLUMNS)
    ws = workbook(build(plan))["汇总表"]
    xlsx = []
    for r in ws.iter_rows(min_row=4):
        if r[0].value == "各领域事项进展汇总":
            break
        if r[2].value:  # not a domain heading
            xlsx.append((r[0].value, r[2].value, r[4].value))
    # Continuation rows of a merged item carry no code in the workbook; the CSV repeats it.
    codes, previous = [], None
    for code, _, _ in xlsx:
        previous = code or previous
        codes.append(previous)
    shown = [(c, name, value) for c, (_, name, value) in zip(codes, xlsx, strict=True)]
    assert [(line[1], line[3]) for line in lines[1:]] == [(c, n) for c, n, _ in shown]
    for line, (_, _, value) in zip(lines[1:], shown, strict=True):
        assert (Decimal(line[5]) if line[5] else "—") == (
            Decimal(str(value)) if value != "—" else "—"
        )
    by_code = {line[1]: line for line in lines[1:]}
    assert by_code["1-2"][8] == "135"
    assert by_code["1-2"][10] == "超额完成"
    assert by_code["2-1"][5] == "" and by_code["2-1"][11] == "是"


def test_query_count_does_not_grow_with_the_items(
    plan, domain, make_item, make_indicator, approved, django_assert_num_queries
):
    def add(count):
        for _ in range(count):
            item = make_item()
            approved(item, "2024-05", {make_indicator(item, "10"): "4"}, on="2024-06-03")

    add(2)
    counted = []
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        build(plan)
    counted.append(len(first))
    add(5)
    with CaptureQueriesContext(connection) as second:
        build(plan)
    counted.append(len(second))
    assert counted[0] == counted[1]


# ------------------------------------------------------------------------------
# Read from the stored snapshot (issue 16)
# ------------------------------------------------------------------------------
NOW = at("2024-07-20")
JUNE = datetime.date(2024, 6, 1)


@pytest.fixture
def written(plan, june):
    """The June plan with its snapshot written as a service writes it."""
    snapshot_build.write_pending()
    assert not snapshot_build.is_pending(plan.pk)
    return june


def exported(plan, month, fmt):
    """The summary as written on NOW: CSV rows, or every cell of every sheet."""
    chosen = summary.summary_month(plan, summary.parse_month(month), now=NOW)
    stream = io.BytesIO()
    summary_sheets.write_summary(stream, fmt, chosen)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))
    return [texts(ws) for ws in workbook(stream.getvalue()).worksheets]


@pytest.mark.parametrize(
    ("month", "stored"), [("2024-05", True), ("2024-06", True), ("2024-07", False)]
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_summary_read_from_the_snapshot_is_the_summary_computed_afresh(
    plan, written, monkeypatch, month, stored, fmt
):
    chosen = summary.summary_month(plan, summary.parse_month(month), now=NOW)
    # Up to the data month (June) the stored as_of view holds it; July is judged on a
    # schedule no stored view holds.
    assert summary.standing(chosen).stored is stored
    read_back = exported(plan, month, fmt)
    monkeypatch.setattr(read, "is_pending", lambda plan_id, using="default": True)
    assert not summary.standing(chosen).stored
    assert read_back == exported(plan, month, fmt)


def tamper(plan, item, unit):
    """Numbers no arithmetic gives, written straight into June's stored rows."""
    row = ItemSnapshot.objects.get(item=item, view=View.AS_OF, month=JUNE)
    ItemSnapshot.objects.filter(pk=row.pk).update(
        body={**row.body, "uncapped": "0.4321", "progress": "0.4321", "status": "behind"}
    )
    rollups = RollupSnapshot.objects.filter(plan=plan, view=View.AS_OF, month=JUNE)
    for rollup, value in (
        (rollups.get(scope="plan"), "0.1234"),
        (rollups.get(scope="domain", key=item.domain_id), "0.2345"),
        (rollups.get(scope="unit", key=unit.pk), "0.3456"),
    ):
        RollupSnapshot.objects.filter(pk=rollup.pk).update(body={**rollup.body, "progress": value})


def test_the_summary_shows_the_stored_snapshot(plan, written, unit):
    tamper(plan, written["1-1"], unit)
    rows = {line[1]: line for line in exported(plan, "2024-06", "csv")[1:]}
    assert (rows["1-1"][8], rows["1-1"][10]) == ("43.21", "滞后")
    sheets = exported(plan, "2024-06", "xlsx")
    total = next(v for v in sheets[0] if v[0] == "合计")
    domain = next(v for v in sheets[0] if v[0] == "一、就业创业" and v[2] is not None)
    assert (total[3], domain[3]) == (pytest.approx(0.1234), pytest.approx(0.2345))
    ranked = next(v for v in sheets[1] if v[1] == unit.name)
    assert ranked[8] == pytest.approx(0.3456)


@pytest.mark.parametrize("how", ["pending", "missing"])
def test_the_summary_computes_afresh_what_the_snapshot_does_not_hold(plan, written, unit, how):
    tamper(plan, written["1-1"], unit)
    if how == "pending":  # a change not yet written: an edit straight to the database
        report = MonthlyReport.objects.get(item=written["1-1"], month=JUNE)
        report.figures.get().save()
        assert snapshot_build.is_pending(plan.pk)
    else:
        SnapshotBuild.objects.filter(plan=plan).delete()
    rows = {line[1]: line for line in exported(plan, "2024-06", "csv")[1:]}
    assert (rows["1-1"][8], rows["1-1"][10]) == ("52.17", "正常推进")  # 6000 of 11500
    total = next(v for v in exported(plan, "2024-06", "xlsx")[0] if v[0] == "合计")
    assert total[3] != pytest.approx(0.1234)


def test_a_stored_summary_runs_the_same_queries_for_more_items(
    plan, written, make_item, make_indicator, approved
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        assert summary.standing(summary.summary_month(plan, JUNE, now=NOW)).stored
        with CaptureQueriesContext(connection) as captured:
            exported(plan, "2024-06", "xlsx")
        return len(captured)

    before = count()
    for _ in range(5):
        item = make_item()
        approved(item, "2024-06", {make_indicator(item, "10"): "4"}, on="2024-07-03")
    snapshot_build.write_pending()
    assert count() == before


# ------------------------------------------------------------------------------
# All figures
# ------------------------------------------------------------------------------
def test_all_figures_export_has_the_agreed_columns_and_only_approved_figures(plan, june, street):
    from livelihood.models import Figure

    report = MonthlyReport.objects.get(item=june["1-1"], month=datetime.date(2024, 5, 1))
    Figure.objects.create(
        report=report, indicator=june["1-1"].indicators.get(), street=street, value=800
    )
    stream = io.BytesIO()
    count = exports.write_figures(stream, "csv", plan)
    lines = list(csv.reader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))
    assert lines[0] == ["事项编号", "指标序号", "指标名称", "月份", "街镇", "数值", "计量单位"]
    assert count == len(lines) - 1 == 7  # the draft's figure is not there
    assert lines[1:5] == [
        ["1-1", "1", "城镇就业人员新增", "2024-04", "", "1500", "人"],
        ["1-1", "1", "城镇就业人员新增", "2024-05", "", "4000", "人"],
        ["1-1", "1", "城镇就业人员新增", "2024-05", "明光路街道", "800", "人"],
        ["1-1", "1", "城镇就业人员新增", "2024-06", "", "6000", "人"],
    ]
    assert ["1-3", "2", "验收合格率", "2024-05", "", "5.5", "%"] in lines
    xlsx = io.BytesIO()
    exports.write_figures(xlsx, "xlsx", plan)
    ws = openpyxl.load_workbook(xlsx).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0] == lines[0]
    assert [[str(v) if v is not None else "" for v in row] for row in cells[1:]] == lines[1:]
    assert ws.freeze_panes == "A2"
    assert ws.cell(2, 6).data_type == "n"


# ------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------
def test_command_writes_the_summary_in_the_format_of_the_suffix(plan, june, tmp_path, capsys):
    target = tmp_path / "汇总表.xlsx"
    call_command("export_summary", plan=2024, month="2024-06", output=str(target))
    assert "已导出" in capsys.readouterr().out
    assert workbook(target.read_bytes())["汇总表"]["A1"].value.endswith("（数据截至2024年6月）")
    call_command("export_summary", "--plan=2024", "--month=2024-06", f"-o={tmp_path / 'a.csv'}")
    assert (tmp_path / "a.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    call_command(
        "export_summary", plan=2024, month="2024-06", output=str(tmp_path / "x.dat"), format="csv"
    )
    assert (tmp_path / "x.dat").read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "x.dat", "汇总表.xlsx"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"plan": 2023, "month": "2024-06"}, "没有2023年度的民生实事计划"),
        ({"plan": 2024, "month": "2024-03"}, "不在2024年度计划期内"),
        ({"plan": 2024, "month": "2025-01"}, "不在2024年度计划期内"),
        ({"plan": 2024, "month": "六月"}, "格式不对"),
        ({"plan": 2024, "month": "2024-13"}, "格式不对"),
    ],
)
def test_command_refuses_in_chinese(plan, tmp_path, options, message):
    target = tmp_path / "out.xlsx"
    with pytest.raises(CommandError, match=message):
        call_command("export_summary", output=str(target), **options)
    assert list(tmp_path.iterdir()) == []


def test_command_refuses_a_month_still_to_come(plan, tmp_path, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at("2024-06-15"))
    with pytest.raises(CommandError, match="2024年7月尚未到来"):
        call_command("export_summary", plan=2024, month="2024-07", output=str(tmp_path / "a.csv"))
    call_command("export_summary", plan=2024, month="2024-06", output=str(tmp_path / "a.csv"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing/out.xlsx", "目录“.*missing”不存在"),
        ("", "是一个目录"),
        ("out.txt", "无法从文件名“out.txt”判断格式"),
    ],
)
def test_command_refuses_a_path_it_cannot_write(plan, tmp_path, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_summary", plan=2024, month="2024-06", output=str(tmp_path / name))
    assert list(tmp_path.iterdir()) == []


def test_command_says_why_the_system_refused(plan, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(exports.tempfile, "mkstemp", refuse)
    with pytest.raises(CommandError, match="没有写入权限"):
        call_command("export_summary", plan=2024, month="2024-06", output=str(tmp_path / "a.xlsx"))


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_failure_while_writing_leaves_no_partial_file(plan, june, tmp_path, monkeypatch, fmt):
    target = tmp_path / f"汇总表.{fmt}"
    target.write_bytes(b"last month's file")
    written = []

    def broken(*args, **kwargs):
        written.append(1)
        if len(written) == 2:
            raise RuntimeError("disk pulled out")
        return original(*args, **kwargs)

    original = summary.ItemLine.__init__
    monkeypatch.setattr(summary.ItemLine, "__init__", broken)
    openpyxl_files = list(ALL_TEMP_FILES)
    with pytest.raises(RuntimeError, match="disk pulled out"):
        call_command("export_summary", plan=2024, month="2024-06", output=str(target))
    assert len(written) == 2  # it failed after the first item was written
    assert target.read_bytes() == b"last month's file"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    # The sheet openpyxl was streaming to a temporary file of its own is gone too.
    assert ALL_TEMP_FILES == openpyxl_files


def test_atomic_output_replaces_only_a_complete_file(tmp_path):
    target = tmp_path / "a.csv"
    with exports.atomic_output(target) as stream:
        stream.write(b"x" * 10)
        assert not target.exists()
    assert target.read_bytes() == b"x" * 10
    assert oct(os.stat(target).st_mode & 0o777) == "0o644"


def test_export_figures_command(plan, june, tmp_path):
    call_command("export_figures", plan="2024", output=str(tmp_path / "f.csv"))
    call_command("export_figures", plan="all", output=str(tmp_path / "all.xlsx"))
    assert (tmp_path / "f.csv").read_bytes().count(b"\r\n") == 7
    with pytest.raises(CommandError, match="--plan 应为年度"):
        call_command("export_figures", plan="last", output=str(tmp_path / "g.csv"))


# ------------------------------------------------------------------------------
# The staff view
# ------------------------------------------------------------------------------
URL = "/admin/exports/summary/"


@pytest.fixture
def routed(settings):
    settings.ROOT_URLCONF = "tests.urls_summary"


def staff(unit=None, *, profile=True, **fields):
    user = User.objects.create_user(
        f"user{User.objects.count()}", password="x-long-password-1", is_staff=True, **fields
    )
    if profile:
        StaffProfile.objects.create(user=user, lead_unit=unit)
    return user


def test_the_coordinator_gets_the_form_and_the_file(client, routed, plan, june):
    client.force_login(staff())
    page = client.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "导出月度汇总表" in text and 'type="month"' in text
    download = client.get(URL, {"plan": 2024, "month": "2024-06", "format": "xlsx"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in download["Content-Disposition"]
    assert unquote(download["Content-Disposition"]).endswith(
        "2024年民生实事进展情况汇总表-数据截至2024-06.xlsx"
    )
    data = b"".join(download.streaming_content)
    assert workbook(data)["汇总表"]["A1"].value.endswith("（数据截至2024年6月）")
    csv_file = client.get(URL, {"plan": 2024, "month": "2024-06", "format": "csv"})
    assert b"".join(csv_file.streaming_content).startswith(b"\xef\xbb\xbf")
    assert "private" in download["Cache-Control"] or "no-cache" in download["Cache-Control"]


def test_a_superuser_gets_the_file(client, routed, plan, june):
    client.force_login(User.objects.create_superuser("root", password="x-long-password-1"))
    response = client.get(URL, {"plan": 2024, "month": "2024-06", "format": "csv"})
    assert response.status_code == 200


def test_lead_unit_staff_and_staff_without_a_profile_get_403(client, routed, plan, june, unit):
    client.force_login(staff(unit))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"plan": 2024, "month": "2024-06", "format": "xlsx"}).status_code == 403
    client.force_login(staff(profile=False))
    assert client.get(URL).status_code == 403


def test_a_visitor_is_sent_to_the_login(client, routed, plan):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_form_explains_a_month_outside_the_plan(client, routed, plan, june):
    client.force_login(staff())
    response = client.get(URL, {"plan": 2024, "month": "2024-02", "format": "xlsx"})
    assert response.status_code == 200
    assert "不在2024年度计划期内" in response.content.decode()


@pytest.mark.parametrize(
    ("number", "words"),
    [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (35, "三十五")],
)
def test_domain_headings_count_in_chinese(number, words):
    assert summary_sheets.chinese_number(number) == words


def test_control_characters_xml_cannot_hold_are_dropped(plan, domain, make_item):
    make_item("1-1", title="事项\x01名称\x0b")
    ws = workbook(build(plan))["汇总表"]
    assert item_rows(ws)["1-1"][1].value == "事项名称"


# ------------------------------------------------------------------------------
# The month a summary holds: the data month, as the home page's 数据截至 names it
# ------------------------------------------------------------------------------
MONTHS = [f"2024-{number:02d}" for number in range(4, 13)]


def following(month: str, day=4) -> str:
    """The `day`th of the month after `month`: "2024-11" → "2024-12-04"."""
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return f"{year}-{number:02d}-{day:02d}"


@pytest.fixture
def monthly(approved):
    """monthly(item, indicator, "2024-11"): a report for each month from April to that one,
    each approved on the 4th of the month after, the figure 10 more each month."""

    def make(item, indicator, last):
        for number, month in enumerate(MONTHS[: MONTHS.index(last) + 1], 1):
            approved(item, month, {indicator: str(10 * number)}, on=following(month))

    return make


@pytest.fixture
def now(monkeypatch):
    """now("2025-01-08"): the portal's clock, at 10:00 that day."""

    def set_to(day):
        monkeypatch.setattr(timezone, "now", lambda: at(day))

    return set_to


def csv_rows(path):
    lines = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    return {line[1]: line for line in lines[1:]}


def test_the_november_summary_holds_novembers_data_and_says_so(
    plan, domain, make_item, make_indicator, monthly, now, tmp_path
):
    now("2024-12-20")
    full = make_item("1-1", title="城镇新增就业")
    monthly(full, make_indicator(full, "200", name="新增就业"), "2024-11")
    lagging = make_item("1-2", title="食品安全抽检")
    monthly(lagging, make_indicator(lagging, "200", name="抽检批次"), "2024-10")

    call_command("export_summary", plan=2024, month="2024-11", output=str(tmp_path / "11.xlsx"))
    book = workbook((tmp_path / "11.xlsx").read_bytes())
    ws = book["汇总表"]
    assert ws["A1"].value == "瑶海区2024年50项民生实事进展情况汇总表（数据截至2024年11月）"
    assert ws["A2"].value == (
        "数据截至2024年11月：2 项中 1 项已审核公开该月报告，其余 1 项按此前最近一次审核公开的"
        "数据；按生成时已审核公开的数据统计　　生成时间：2024年12月20日 10:00"
    )
    rows = item_rows(ws)
    # November's report, approved on 4 December, is November's summary's.
    assert rows["1-1"][VALUE_COLUMN - 1].value == 80
    assert rows["1-1"][6].value == "11月"
    assert rows["1-1"][PROGRESS_COLUMN - 1].value == pytest.approx(80 / 200)
    assert rows["1-2"][VALUE_COLUMN - 1].value == 70
    assert rows["1-2"][6].value == "10月"
    # 1-2's November report was due on 5 December.
    assert rows["1-2"][10].value == "是"
    assert not rows["1-1"][10].value
    ranking = book["牵头单位排名"]
    assert ranking["A1"].value == "牵头单位报送及时率和进度排名（数据截至2024年11月）"
    assert ranking["A2"].value == ws["A2"].value
    for sheet in book:
        assert sheet.oddFooter.left.text == "瑶海区2024年50项民生实事 · 数据截至2024年11月"
    notes = [v[0] for v in texts(ws) if isinstance(v[0], str) and v[0][:2] in ("1.", "4.")]
    assert all("2024年11月及以前" in note for note in notes), notes

    call_command("export_summary", plan=2024, month="2024-11", output=str(tmp_path / "11.csv"))
    by_code = csv_rows(tmp_path / "11.csv")
    assert by_code["1-1"][5:8] == ["80", "人", "2024-11"]
    assert by_code["1-2"][5:8] == ["70", "人", "2024-10"]
    assert by_code["1-2"][11] == "是" and by_code["1-1"][11] == ""

    call_command("export_summary", plan=2024, month="2024-10", output=str(tmp_path / "10.xlsx"))
    october = workbook((tmp_path / "10.xlsx").read_bytes())["汇总表"]
    assert october["A1"].value.endswith("（数据截至2024年10月）")
    assert october["A2"].value.startswith("数据截至2024年10月：2 项均已审核公开该月报告；")
    assert item_rows(october)["1-1"][VALUE_COLUMN - 1].value == 70


def test_the_year_end_summary_is_exportable_in_january_and_matches_the_home_page(
    client, plan, domain, other_unit, make_item, make_indicator, monthly, now, tmp_path
):
    now("2025-01-08")
    done = make_item("1-1", title="城镇新增就业")
    monthly(done, make_indicator(done, "90", name="新增就业"), "2024-12")
    november = make_item("1-2", title="食品安全抽检", lead_unit=other_unit)
    monthly(november, make_indicator(november, "100", name="抽检批次"), "2024-11")
    make_indicator(make_item("1-3", title="公共充电桩"), "190", name="新建公共充电桩")

    target = tmp_path / "全年.xlsx"
    call_command("export_summary", plan=2024, month="2024-12", output=str(target))
    ws = workbook(target.read_bytes())["汇总表"]
    assert ws["A1"].value == "瑶海区2024年50项民生实事进展情况汇总表（数据截至2024年12月）"
    assert ws["A2"].value.startswith(
        "数据截至2024年12月：3 项中 1 项已审核公开该月报告，1 项按此前最近一次审核公开的数据，"
        "1 项尚无审核公开的数据；"
    )
    assert item_rows(ws)["1-1"][6].value == "12月"

    home = client.get("/")
    assert home.context["data_month"] == datetime.date(2024, 12, 1)
    overall = home.context["overall"]
    assert f"全部事项完成 <strong>{overall.progress_display}</strong>" in home.content.decode()
    total = totals_row(ws)
    assert total[2] == overall.total == 3
    assert total[3] == pytest.approx(float(overall.progress))
    assert total[4] == pytest.approx(float(overall.expected))
    assert total[5:10] == [
        overall.counts.get(status, 0) for status in summary_sheets.STATUS_COLUMNS
    ]
    assert total[10] == overall.overdue == 2  # 1-2 missed December, 1-3 reported nothing


@pytest.mark.parametrize(
    ("today", "allowed"),
    [
        ("2025-01-08", "2024年度计划的汇总表可选2024年4月至2024年12月"),
        ("2026-03-01", "2024年度计划的汇总表可选2024年4月至2024年12月"),
        ("2024-08-15", "2024年度计划的汇总表可选2024年4月至2024年8月"),
    ],
    ids=["in-january", "years-later", "in-august"],
)
def test_a_month_after_december_is_refused_naming_the_months_one_can_choose(
    plan, june, now, tmp_path, today, allowed
):
    now(today)
    with pytest.raises(CommandError) as refused:
        call_command("export_summary", plan=2024, month="2025-01", output=str(tmp_path / "a.xlsx"))
    assert allowed in str(refused.value)
    assert "全年情况请选2024年12月" in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_december_can_be_chosen_any_time_after_the_year(plan, june, now):
    chosen = summary.summary_month(plan, datetime.date(2024, 12, 1), now=at("2026-03-01"))
    assert chosen.title.endswith("（数据截至2024年12月）")
    assert chosen.filename == "2024年民生实事进展情况汇总表-数据截至2024-12"
    # 逾期未报 counts the months up to December only, the last due on 5 January.
    assert chosen.today == datetime.date(2025, 1, 6)


def test_overdue_in_a_months_summary_counts_the_months_up_to_it_unreported_today(
    plan, domain, make_item, make_indicator, approved, now
):
    now("2024-12-20")
    months = ("2024-04", "2024-05", "2024-06")
    through_june = make_item("1-1")
    indicator = make_indicator(through_june)
    for month in months:
        approved(through_june, month, {indicator: "10"}, on=following(month))
    missed_june = make_item("1-2")
    indicator = make_indicator(missed_june)
    for month in months[:2]:
        approved(missed_june, month, {indicator: "10"}, on=following(month))
    june_late = make_item("1-3")
    indicator = make_indicator(june_late)
    for month in months[:2]:
        approved(june_late, month, {indicator: "10"}, on=following(month))
    approved(june_late, "2024-06", {indicator: "20"}, on="2024-08-02", submitted="2024-08-01")

    book = workbook(build(plan, "2024-06"))
    june_rows = item_rows(book["汇总表"])
    # June's report was due on 5 July: 1-2 has still not sent it; 1-3 sent it late.
    assert {code: row[10].value for code, row in june_rows.items()} == {
        "1-1": None,
        "1-2": "是",
        "1-3": None,
    }
    assert totals_row(book["汇总表"])[10] == 1
    ranked = [c.value for c in next(book["牵头单位排名"].iter_rows(min_row=4, max_row=4))]
    assert ranked[3:7] == [9, 7, 1, 1]
    # July to November are due by now and none was reported: every item is behind with them.
    november_rows = item_rows(workbook(build(plan, "2024-11"))["汇总表"])
    assert all(row[10].value == "是" for row in november_rows.values())


def test_the_forms_default_month_is_the_data_month(
    client, routed, plan, domain, make_item, make_indicator, monthly, now
):
    now("2024-12-20")
    client.force_login(staff())

    def month_input():
        page = client.get(URL).content.decode()
        assert "该月及以前各月已审核公开的数据" in page
        return re.search(r'<input type="month"[^>]*>', page)[0]

    # Nothing approved yet: this month.
    field = month_input()
    assert 'value="2024-12"' in field
    assert 'min="2024-04"' in field and 'max="2024-12"' in field
    item = make_item()
    monthly(item, make_indicator(item), "2024-10")
    # October's reports are the latest approved: the home page says 数据截至2024年10月.
    assert 'value="2024-10"' in month_input()


def test_the_form_refuses_january_naming_december(client, routed, plan, june, now):
    now("2025-01-08")
    client.force_login(staff())
    page = client.get(URL, {"plan": 2024, "month": "2025-01", "format": "xlsx"})
    assert page.status_code == 200
    assert "2024年度计划的汇总表可选2024年4月至2024年12月" in page.content.decode()
    december = client.get(URL, {"plan": 2024, "month": "2024-12", "format": "csv"})
    assert december.status_code == 200
    assert unquote(december["Content-Disposition"]).endswith(
        "2024年民生实事进展情况汇总表-数据截至2024-12.csv"
    )
