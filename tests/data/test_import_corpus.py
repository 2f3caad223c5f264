"""A corpus of bad files, each built here, each refused whole with a message that says where
and what, and each leaving the database exactly as it was (rows and history rows)."""

import datetime
import io
import zipfile

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from livelihood.data.figures import figures_import
from livelihood.models import MonthlyReport
from livelihood.reporting import services
from tests import import_files
from tests.import_files import HEADER, JUNE, row, state, xlsx

world = import_files.world  # the fixture

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def a_zip() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("数值.txt", "1-1,1,11500")
    return stream.getvalue()


def with_formula(cell_value) -> bytes:
    return xlsx([row("1-1", 1, cell_value)])


def array_formula() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER)
    ws.append(row("1-1", 1, None))
    ws["F2"] = ArrayFormula("F2", "=SUM(A1:A3)")
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def empty_workbook() -> bytes:
    stream = io.BytesIO()
    openpyxl.Workbook().save(stream)
    return stream.getvalue()


def duplicate_header() -> bytes:
    return xlsx([["1-1", 1, "5", "6"]], header=["事项编号", "指标序号", "数值", "数值"])


def approved(world, report):
    report(world["jobs"], "2024-06", {world["count"]: "5000"})
    return xlsx([row("1-1", 1, "6000")])


def submitted(world, report):
    report(world["jobs"], "2024-06", {world["count"]: "5000"}, state="submitted")
    return xlsx([row("1-1", 1, "6000")])


def lower_than_approved(world, report):
    report(world["jobs"], "2024-05", {world["count"]: "9000"})
    return xlsx([row("1-1", 1, "8000")])


# (name, the file (bytes, or a function of world and report), expected words, month)
CORPUS = [
    ("a zip archive renamed .xlsx", a_zip, "压缩包", None),
    ("a PNG image renamed .xlsx", PNG, "PNG 图片", None),
    ("a JPEG image renamed .xlsx", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "JPEG 图片", None),
    ("a PDF renamed .xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF 文件", None),
    ("a text file renamed .xlsx", "事项编号,指标序号,数值\n1-1,1,5\n".encode(), "不是 Excel", None),
    (
        "an old .xls or an encrypted workbook",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
        "另存为",
        None,
    ),
    ("a truncated workbook", lambda: xlsx([row("1-1", 1, "5")])[:300], "损坏", None),
    ("an empty file", b"", "文件是空的", None),
    ("an empty workbook", empty_workbook, "没有任何内容", None),
    (
        "a workbook without the header",
        lambda: xlsx([["1-1", 1, 5]], header=None),
        "未找到表头",
        None,
    ),
    (
        "a header without the figure column",
        lambda: xlsx([["1-1", 1]], header=["事项编号", "指标序号"]),
        "缺少“数值”列",
        None,
    ),
    ("a header twice the same column", duplicate_header, "出现了不止一次", None),
    ("a header and no rows", lambda: xlsx([]), "没有数据行", None),
    ("a formula", lambda: with_formula("=1+1"), "第 4 行“数值”列：单元格是公式", None),
    ("a formula summing cells", lambda: with_formula("=SUM(F5:F9)"), "公式", None),
    ("an array formula", array_formula, "第 2 行“数值”列：单元格是公式", None),
    (
        "a formula for a code",
        lambda: xlsx([["=A9", 1, "", "", "", "5"]]),
        "“事项编号”列：单元格是公式",
        None,
    ),
    ("a negative count", lambda: with_formula("-5"), "第 4 行“数值”列：累计数不能为负数", None),
    ("a negative count in 万", lambda: with_formula("-0.5万"), "不能为负数", None),
    ("a rate over 100 with %", lambda: xlsx([row("1-2", 1, "101%")]), "0 到 100", None),
    ("a rate of 150", lambda: xlsx([row("1-2", 1, 150)]), "0 到 100", None),
    ("a rate of 1, 1% or 100%?", lambda: xlsx([row("1-2", 1, "1")]), "1% 还是 100%", None),
    ("text that is not a number", lambda: with_formula("约2300"), "不是数值", None),
    (
        "a figure in the wrong unit",
        lambda: xlsx([row("1-1", 1, "5", unit="元")]),
        "“计量单位”列：计量单位“元”",
        None,
    ),
    ("too many decimals", lambda: with_formula("0.123456"), "最多保留 4 位小数", None),
    (
        "an unknown item code",
        lambda: xlsx([row("9-99", 1, "5")]),
        "不是2024年度计划中的事项编号",
        None,
    ),
    (
        "another unit's item",
        lambda: xlsx([row("1-1", 1, "5"), row("1-9", 1, "5")]),
        "第 5 行“事项编号”列：事项 1-9“残疾人康复”由区残疾人联合会牵头",
        None,
    ),
    (
        "an unknown indicator number",
        lambda: xlsx([row("1-1", 7, "5")]),
        "没有序号为 7 的指标",
        None,
    ),
    (
        "an indicator number that is not whole",
        lambda: xlsx([row("1-1", "1.5", "5")]),
        "指标序号应为整数",
        None,
    ),
    (
        "a milestone indicator with a figure",
        lambda: xlsx([row("1-3", 2, "5")]),
        "按节点计算进度",
        None,
    ),
    (
        "an unknown street",
        lambda: xlsx([row("1-3", 1, "5", street="火星街道")]),
        "不是本区的街镇名称",
        None,
    ),
    (
        "a street where there is no breakdown",
        lambda: xlsx([row("1-1", 1, "5", street="明光路街道")]),
        "不分街镇填报",
        None,
    ),
    (
        "a duplicate row",
        lambda: xlsx([row("1-1", 1, "5"), row("1-1", 1, "6")]),
        "第 5 行“指标序号”列：与第 4 行重复",
        None,
    ),
    (
        "a duplicate street row",
        lambda: xlsx(
            [row("1-3", 1, "5", street="明光路街道"), row("1-3", 1, "6", street="mingguanglu")]
        ),
        "与第 4 行重复",
        None,
    ),
    (
        "a row of another month",
        lambda: xlsx([row("1-1", 1, "5", month="2024年7月")]),
        "与所选的导入月份2024年6月不符",
        None,
    ),
    (
        "a month that is no month",
        lambda: xlsx([row("1-1", 1, "5", month="六月")]),
        "不是月份",
        None,
    ),
    (
        "a month in the future",
        lambda: xlsx([row("1-1", 1, "5", month="2024-07")]),
        "还没有到",
        datetime.date(2024, 7, 1),
    ),
    (
        "a month before the plan was issued",
        lambda: xlsx([row("1-1", 1, "5", month="2024-03")]),
        "不能导入更早月份",
        datetime.date(2024, 3, 1),
    ),
    (
        "a year without a plan",
        lambda: xlsx([row("1-1", 1, "5", month="2023-06")]),
        "没有2023年度的民生实事计划",
        datetime.date(2023, 6, 1),
    ),
    (
        "a note over 200 characters",
        lambda: xlsx([row("1-1", 1, "5", note="说" * 201)]),
        "备注不能超过 200 字",
        None,
    ),
    ("an approved report's figure", approved, "已审核通过并公开，已锁定", None),
    ("a submitted report's figure", submitted, "已报送，正在审核", None),
    ("a correction without a note", lower_than_approved, "“备注”列", None),
    (
        "a good row and a bad row",
        lambda: xlsx([row("1-2", 1, "90"), row("1-1", 1, "x")]),
        "第 5 行“数值”列",
        None,
    ),
]


@pytest.fixture(autouse=True)
def in_june_2024(monkeypatch):
    """Today is 15 June 2024: July is the future."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: datetime.date(2024, 6, 15))


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize(("name", "source", "words", "month"), CORPUS, ids=[c[0] for c in CORPUS])
def test_a_bad_file_is_refused_whole_and_changes_nothing(world, report, name, source, words, month):
    if callable(source):
        data = source(world, report) if source.__code__.co_argcount == 2 else source()
    else:
        data = source
    before = state()
    outcome = figures_import(
        data=data, file_name="六月.xlsx", month=month or JUNE, user=world["clerk"]
    )
    assert not outcome.ok, name
    text = "\n".join(str(error) for error in outcome.errors)
    assert words in text, text
    assert state() == before


@pytest.mark.parametrize("dry_run", [True, False])
def test_limits_are_told(world, settings, dry_run):
    settings.IMPORT_MAX_ROWS = 3
    rows = [row("1-3", 1, "1", street=s) for s in ("", "明光路街道", "红桥街道")]
    rows.append(row("1-1", 1, "1"))
    before = state()
    outcome = figures_import(data=xlsx(rows), month=JUNE, user=world["clerk"], dry_run=dry_run)
    assert "超过 3 行的上限" in outcome.errors[0].message
    settings.IMPORT_MAX_ROWS = 5000
    settings.IMPORT_MAX_BYTES = 2048
    outcome = figures_import(data=xlsx(rows), month=JUNE, user=world["clerk"], dry_run=dry_run)
    assert "超过了 2 KB 的上限" in outcome.errors[0].message
    assert state() == before


def test_an_approval_between_preview_and_confirm_refuses_the_file(world, report):
    """The lock is read from the database when the import runs, not from the preview."""
    draft = report(world["jobs"], "2024-06", {world["count"]: "100"}, state="submitted")
    preview = figures_import(
        data=xlsx([row("1-1", 1, "200")]), month=JUNE, user=world["office"], dry_run=True
    )
    assert preview.ok
    services.report_approve(report=draft, user=world["office"])
    before = state()
    outcome = figures_import(
        data=xlsx([row("1-1", 1, "200")]),
        month=JUNE,
        user=world["office"],
        versions=preview.versions,
    )
    assert not outcome.ok and "已锁定" in outcome.errors[0].message
    assert state() == before
    assert MonthlyReport.objects.get(pk=draft.pk).state == MonthlyReport.State.APPROVED
