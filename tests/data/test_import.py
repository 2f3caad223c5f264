"""Importing a unit's monthly figures from a spreadsheet (livelihood/data/figures.py), in the admin
and from the command line: what people type is read, everything goes through the workflow."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from livelihood.data.figures import figures_import
from livelihood.data.import_templates import figure_template
from livelihood.models import (
    Figure,
    ImportUpload,
    MonthlyReport,
    PublicationVersion,
)
from livelihood.reporting import services
from tests import import_files
from tests.admin_forms import body
from tests.builders import login
from tests.import_files import JUNE, read, row, state, value_of, xlsx

world = import_files.world  # the fixture

pytestmark = pytest.mark.django_db


def run(world, rows, user="clerk", **kwargs):
    kwargs.setdefault("month", JUNE)
    return figures_import(data=xlsx(rows, **kwargs.pop("file", {})), user=world[user], **kwargs)


# ------------------------------------------------------------------------------
# Tolerant of what people type
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１１，５００", "11500"),
        ("１.１５万", "11500"),
        ("1.15万", "11500"),
        ("1.15万人", "11500"),
        (11500, "11500"),
        (11500.0, "11500"),
        ("11500", "11500"),  # a number stored as text
        ("11,500", "11500"),
        (" 11500 ", "11500"),
        ("11500\u3000", "11500"),
    ],
)
def test_a_count_in_every_form_people_type(world, typed, expected):
    outcome = run(world, [row("1-1", 1, typed)])
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "percent_cell", "expected"),
    [
        ("98%", False, "98"),
        (98, False, "98"),
        ("0.98", False, "98"),
        (0.98, True, "98"),
        ("９８％", False, "98"),
        ("99.5", False, "99.5"),
    ],
)
def test_a_rate_as_percent_whole_number_or_fraction(world, typed, percent_cell, expected):
    file = {"percent": [(0, 5)]} if percent_cell else {}
    outcome = run(world, [row("1-2", 1, typed, unit="%")], file=file)
    assert outcome.ok, outcome.errors
    assert value_of(world["rate"]) == Decimal(expected)


@pytest.mark.parametrize(
    ("code", "month"),
    [
        ("1-1  ", "2024-06"),
        ("１-１", "2024年6月"),
        (" 1-1", datetime.datetime(2024, 6, 1)),
        ("1-1", 45444),  # Excel's serial day number
        ("1-1", "２０２４年６月份"),
        ("1-1", None),  # no month in the row: the chosen month
    ],
)
def test_codes_and_months_as_typed(world, code, month):
    outcome = run(world, [row(code, 1, "2300", month=month)])
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 2300


def test_the_unit_column_may_name_the_unit_as_written(world):
    outcome = run(world, [row("1-1", 1, "1.2", unit="万人")])
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 12000


def test_title_rows_blank_rows_and_street_rows(world):
    first, second = world["streets"]
    rows = [
        row("1-3", 1, "30"),
        [None] * 8,
        row("1-3", 1, "12", street="明光路街道"),
        [],
        row("1-3", 1, "18", street="hongqiao"),
    ]
    outcome = run(world, rows)
    assert outcome.ok, outcome.errors
    assert value_of(world["by_street"]) == 30
    assert value_of(world["by_street"], street=first) == 12
    assert value_of(world["by_street"], street=second) == 18


def test_the_header_is_found_by_its_names_in_any_order(world):
    header = ["备注", "数值", "事项编号", "无关的列", "指标序号"]
    outcome = run(world, [["", "3000", "1-1", "x", 1]], file={"header": header})
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 3000


def test_blank_values_leave_figures_as_they_are(world, report):
    draft = report(world["jobs"], "2024-06", {world["count"]: "5000"}, state="draft")
    outcome = run(world, [row("1-1", 1, ""), row("1-2", 1, "")])
    assert outcome.ok and outcome.count("未填写") == 2
    assert value_of(world["count"]) == 5000
    assert MonthlyReport.objects.get(pk=draft.pk).version == draft.version
    assert not MonthlyReport.objects.filter(item=world["rate_item"]).exists()


def test_a_csv_file_is_read_too(world):
    text = '事项编号,指标序号,数值\r\n1-1,1,"11,500"\r\n'
    outcome = figures_import(
        data=text.encode("utf-8-sig"), file_name="六月.csv", month=JUNE, user=world["clerk"]
    )
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 11500


# ------------------------------------------------------------------------------
# Written through the workflow
# ------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_import_writes_through_the_workflow(world):
    """Committed for real: the publication version rises once the import commits."""
    before = list(PublicationVersion.objects.values_list("counter", flat=True))
    outcome = run(world, [row("1-1", 1, "1.15万"), row("1-2", 1, "96%")])
    assert outcome.ok, outcome.errors
    assert outcome.count("新增") == 2
    report = MonthlyReport.objects.get(item=world["jobs"], month=JUNE)
    assert report.state == MonthlyReport.State.DRAFT
    assert report.created_by == world["clerk"] and report.updated_by == world["clerk"]
    figure = Figure.objects.get(report=report)
    assert figure.value == 11500
    history = Figure.history.filter(id=figure.pk)
    assert history.count() == 1 and history.get().history_user == world["clerk"]
    assert report.history.filter(history_user=world["clerk"]).exists()
    after = list(PublicationVersion.objects.values_list("counter", flat=True))
    assert after and after[0] > (before or [0])[0]


def test_a_dry_run_writes_nothing(world):
    before = state()
    outcome = run(world, [row("1-1", 1, "11500")], dry_run=True)
    assert outcome.ok and outcome.count("新增") == 1
    assert outcome.reports == ["1-1 城镇新增就业（草稿）"]
    assert state() == before


def test_an_existing_draft_is_updated_once_per_report(world, report):
    draft = report(world["street_item"], "2024-06", {world["by_street"]: "10"}, state="draft")
    first, _ = world["streets"]
    outcome = run(world, [row("1-3", 1, "40"), row("1-3", 1, "15", street="明光路街道")])
    assert outcome.ok, outcome.errors
    assert outcome.count("修改") == 1 and outcome.count("新增") == 1
    assert MonthlyReport.objects.get(pk=draft.pk).version == draft.version + 1
    assert value_of(world["by_street"]) == 40
    assert value_of(world["by_street"], street=first) == 15


def test_an_unchanged_approved_month_imports_as_unchanged(world, report):
    """Exporting an approved month and importing it back changes nothing (and is no error)."""
    approved = report(world["jobs"], "2024-06", {world["count"]: "11500"})
    before = state()
    export_like = ["事项编号", "指标序号", "指标名称", "月份", "街镇", "数值", "计量单位"]
    rows = [["1-1", 1, "城镇就业人员新增", "2024-06", "", 11500, "人"]]
    outcome = run(world, rows, file={"header": export_like, "title": False})
    assert outcome.ok, outcome.errors
    assert outcome.count("未变化") == 1
    assert state() == before
    assert MonthlyReport.objects.get(pk=approved.pk).version == approved.version


def test_a_correction_below_the_approved_figure_needs_a_note(world, report):
    report(world["jobs"], "2024-05", {world["count"]: "9000"})
    refused = run(world, [row("1-1", 1, "8000")])
    assert not refused.ok
    assert "第 4 行“备注”列" in str(refused.errors[0]) and "更正原因" in str(refused.errors[0])
    accepted = run(world, [row("1-1", 1, "8000", note="5月数据重复统计，已更正")])
    assert accepted.ok, accepted.errors
    assert Figure.objects.get(report__month=JUNE).note == "5月数据重复统计，已更正"


def test_a_correction_is_checked_against_an_older_month_when_the_latest_lacks_the_row(
    world, report
):
    """The approved figures an import checks against are read from each item's latest
    approved report first; a row that report lacks is looked up in the older ones."""
    first, _ = world["streets"]
    report(
        world["street_item"],
        "2024-04",
        {world["by_street"]: "50"},
        streets={(world["by_street"], first): "30"},
    )
    report(world["street_item"], "2024-05", {world["by_street"]: "60"})
    refused = run(world, [row("1-3", 1, "61"), row("1-3", 1, "20", street="明光路街道")])
    assert not refused.ok
    assert "第 5 行“备注”列" in str(refused.errors[0]) and "低于4月已审核的30" in str(
        refused.errors[0]
    )
    assert value_of(world["by_street"], street=first) is None
    accepted = run(world, [row("1-3", 1, "61"), row("1-3", 1, "31", street="明光路街道")])
    assert accepted.ok, accepted.errors
    assert value_of(world["by_street"], street=first) == 31


def test_every_imported_figure_has_its_history_row(world, report):
    """New figures are written in batches with their history rows copied in the database:
    one "+" row each, with the figure's value, note, report and the importer."""
    report(world["street_item"], "2024-06", {world["by_street"]: "10"}, state="draft")
    outcome = run(
        world,
        [
            row("1-1", 1, "1.15万", note="含灵活就业"),
            row("1-2", 1, "96%"),
            row("1-3", 1, "11"),
            row("1-3", 1, "4", street="明光路街道"),
            row("1-3", 1, "7", street="红桥街道"),
        ],
    )
    assert outcome.ok, outcome.errors
    assert outcome.count("新增") == 4 and outcome.count("修改") == 1
    for figure in Figure.objects.filter(report__month=JUNE):
        rows = list(Figure.history.filter(id=figure.pk).order_by("history_id"))
        assert rows, figure
        last = rows[-1]
        assert (last.value, last.note, last.report_id, last.indicator_id, last.street_id) == (
            figure.value,
            figure.note,
            figure.report_id,
            figure.indicator_id,
            figure.street_id,
        )
        assert last.history_user == world["clerk"]
        changed = figure.indicator == world["by_street"] and figure.street is None
        assert last.history_type == ("~" if changed else "+")
    jobs = Figure.objects.get(indicator=world["count"], report__month=JUNE)
    assert Figure.history.get(id=jobs.pk).note == "含灵活就业"
    # Each new report: opened, then saved; the draft that was there: saved once more.
    opened = MonthlyReport.objects.get(item=world["jobs"], month=JUNE)
    assert [h.history_change_reason for h in opened.history.order_by("history_id")] == [
        "新建草稿",
        "保存",
    ]
    assert opened.version == 2


def test_a_sheet_whose_dimension_is_wrong_is_read_whole(world):
    """Some programs write <dimension ref="A1"/> whatever the sheet holds: every cell is read
    all the same."""
    import re
    import zipfile

    data = xlsx([row("1-1", 1, "11500"), row("1-2", 1, "97%", unit="%")])
    source, target = io.BytesIO(data), io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = old.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content, found = re.subn(
                    rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', content
                )
                assert found == 1
            new.writestr(info, content)
    outcome = figures_import(data=target.getvalue(), month=JUNE, user=world["clerk"])
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 11500 and value_of(world["rate"]) == 97


def test_a_report_saved_after_the_preview_refuses_the_confirmation(world, report):
    draft = report(world["jobs"], "2024-06", {world["count"]: "10"}, state="draft")
    preview = run(world, [row("1-1", 1, "20")], dry_run=True)
    assert preview.ok
    services.report_save(report=draft, user=world["clerk"], narrative="已有人修改")
    outcome = run(world, [row("1-1", 1, "20")], versions=preview.versions)
    assert not outcome.ok
    assert "保存了这份报告" in outcome.errors[0].message
    assert value_of(world["count"]) == 10


def test_the_office_may_import_any_units_figures(world):
    outcome = run(world, [row("1-9", 1, "120"), row("1-1", 1, "1000")], user="office")
    assert outcome.ok, outcome.errors
    assert value_of(world["foreign_indicator"]) == 120
    confined = run(world, [row("1-1", 1, "1000")], user="office", unit=world["other_unit"])
    assert not confined.ok and "不是区残疾人联合会的事项" in confined.errors[0].message


# ------------------------------------------------------------------------------
# The template
# ------------------------------------------------------------------------------
def test_the_template_lists_the_units_indicators_and_last_figures(world, report):
    report(world["jobs"], "2024-05", {world["count"]: "9000"})
    report(world["street_item"], "2024-06", {world["by_street"]: "7"}, state="draft")
    rows = read(figure_template(plan=world["plan"], month=JUNE, unit=world["unit"]))
    assert "区人力资源和社会保障局" in rows[0][0] and "2024年6月" in rows[0][0]
    assert "1.15万" in rows[1][0]
    header = rows[2]
    assert header[:6] == ["事项编号", "事项名称", "指标序号", "指标名称", "月份", "街镇"]
    assert "数值（本月）" in header and "计量单位" in header and "备注" in header
    body_rows = rows[3:]
    codes = [r[0] for r in body_rows]
    assert codes == ["1-1", "1-2", "1-3", "1-3", "1-3"]  # 1-3: total and two streets
    jobs = body_rows[0]
    assert jobs[6] == "≥1.15万人" and jobs[7] == 9000 and jobs[9] == "人"
    assert body_rows[2][8] == 7  # this month's draft figure, already entered
    assert [r[5] for r in body_rows[2:]] == [None, "明光路街道", "红桥街道"]
    assert "1-9" not in codes


def test_a_template_filled_in_as_a_clerk_would_imports(world):
    data = figure_template(plan=world["plan"], month=JUNE, unit=world["unit"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book.active
    ws["I4"] = "１.１５万"
    ws["I5"] = "97%"
    ws["I7"] = "８"
    stream = io.BytesIO()
    book.save(stream)
    outcome = figures_import(
        data=stream.getvalue(), file_name="填好的.xlsx", month=JUNE, user=world["clerk"]
    )
    assert outcome.ok, outcome.errors
    assert value_of(world["count"]) == 11500
    assert value_of(world["rate"]) == 97
    assert value_of(world["by_street"], street=world["streets"][0]) == 8
    # Downloaded again and uploaded unchanged: nothing changes (round trip).
    before = state()
    again = figures_import(
        data=figure_template(plan=world["plan"], month=JUNE, unit=world["unit"]),
        month=JUNE,
        user=world["clerk"],
    )
    assert again.ok and again.count("未变化") == 3
    assert state() == before


# ------------------------------------------------------------------------------
# The admin
# ------------------------------------------------------------------------------
def upload(client, data, name="六月.xlsx", **fields):
    url = reverse("admin:livelihood_figure_import")
    payload = {"month": "2024-06", "format": "0", "resource": "0", **fields}
    payload["import_file"] = SimpleUploadedFile(name, data)
    return client.post(url, payload)


def confirm(client, name="六月.xlsx"):
    """Click 确认导入 on the preview of the one upload waiting."""
    return client.post(
        reverse("admin:livelihood_figure_process_import"),
        {
            "import_file_name": ImportUpload.objects.get().name,
            "original_file_name": name,
            "format": "0",
            "resource": "0",
            "confirm": "1",
        },
    )


def test_a_clerk_previews_then_confirms(world):
    client = login(world["clerk"])
    page = body(client.get(reverse("admin:livelihood_figure_import")))
    assert "区人力资源和社会保障局" in page and "区残疾人联合会" not in page
    before = state()
    preview = upload(client, xlsx([row("1-1", 1, "1.15万")]))
    text = body(preview)
    assert "确认导入" in text and "数据尚未写入" in text and "11500人" in text
    assert state() == before
    upload_row = ImportUpload.objects.get()
    assert upload_row.user == world["clerk"] and upload_row.unit == world["unit"]
    confirmed = confirm(client)
    assert confirmed.status_code == 302
    assert value_of(world["count"]) == 11500
    assert not ImportUpload.objects.exists()
    done = body(client.get(confirmed["Location"]))
    assert "已导入" in done


def test_a_clerk_cancels_and_nothing_is_kept(world):
    client = login(world["clerk"])
    upload(client, xlsx([row("1-1", 1, "100")]))
    name = ImportUpload.objects.get().name
    response = client.post(
        reverse("admin:livelihood_figure_process_import"),
        {"import_file_name": name, "original_file_name": "x.xlsx", "format": "0", "cancel": "1"},
    )
    assert response.status_code == 302
    assert not ImportUpload.objects.exists() and not Figure.objects.exists()


def test_a_clerk_cannot_confirm_another_accounts_upload(world):
    upload(login(world["other_clerk"]), xlsx([row("1-9", 1, "100")]))
    name = ImportUpload.objects.get().name
    response = login(world["clerk"]).post(
        reverse("admin:livelihood_figure_process_import"),
        {"import_file_name": name, "original_file_name": "x.xlsx", "format": "0", "confirm": "1"},
        follow=True,
    )
    assert "已失效" in body(response)
    assert not Figure.objects.exists() and ImportUpload.objects.count() == 1


def test_a_clerk_cannot_import_another_units_rows(world):
    client = login(world["clerk"])
    before = state()
    response = upload(
        client,
        xlsx([row("1-1", 1, "100"), row("1-9", 1, "50")]),
        unit=str(world["other_unit"].pk),  # a field the clerk's form does not have
    )
    text = body(response)
    assert (
        "整个文件没有导入" in text
        and "第 5 行" in text
        and "不是区人力资源和社会保障局的事项" in text
    )
    assert "确认导入" not in text
    assert state() == before and not ImportUpload.objects.exists()


def test_a_clerk_downloads_their_own_template_whatever_is_asked(world):
    client = login(world["clerk"])
    response = client.get(
        reverse("admin:livelihood_figure_import_template"), {"unit": "cl", "month": "2024-06"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = read(response.content)
    assert "区人力资源和社会保障局" in rows[0][0]
    assert "1-9" not in [r[0] for r in rows]


def test_the_office_chooses_the_unit(world):
    client = login(world["office"])
    response = client.get(
        reverse("admin:livelihood_figure_import_template"), {"unit": "cl", "month": "2024-06"}
    )
    assert [r[0] for r in read(response.content)[3:]] == ["1-9"]
    preview = upload(client, xlsx([row("1-9", 1, "60")]), unit=str(world["other_unit"].pk))
    assert "确认导入" in body(preview)
    assert ImportUpload.objects.get().unit == world["other_unit"]


def test_staff_without_a_unit_or_role_cannot_import(world):
    stray = User.objects.create_user("stray", is_staff=True)
    response = login(stray).get(reverse("admin:livelihood_figure_import"))
    assert response.status_code == 403


def test_the_upload_size_limit_is_told(world, settings):
    settings.IMPORT_MAX_BYTES = 1000
    response = upload(login(world["clerk"]), xlsx([row("1-1", 1, "100")]))
    assert "超过了 1 KB 的上限" in body(response)


def test_the_office_sees_every_report_an_import_of_many_items_writes(
    world, make_item, make_indicator
):
    more = [make_item(f"1-{n}", title=f"第{n}项") for n in (4, 5, 6)]
    for item in more:
        make_indicator(item, "100", unit="人")
    rows = [row("1-1", 1, "1.15万"), row("1-2", 1, "97"), row("1-9", 1, "30")]
    rows += [row(item.code, 1, "10") for item in more]
    client = login(world["office"])
    preview = body(upload(client, xlsx(rows)))
    assert "将写入的报告 6 份，清单见下" in preview
    assert "展开 6 份报告的清单" in preview
    for label in ("1-1 城镇新增就业（草稿）", "1-9 残疾人康复（草稿）", "1-6 第6项（草稿）"):
        assert f"<li>{label}</li>" in preview
    done = body(client.get(confirm(client)["Location"]))
    assert "新增 6 项。涉及：1-1 城镇新增就业（草稿）；" in done
    assert "（草稿）等 6 份报告。" in done
    assert MonthlyReport.objects.filter(month=JUNE).count() == 6


# ------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------
def write(tmp_path, data, name="六月.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_command_imports_and_reports(world, tmp_path, capsys):
    path = write(tmp_path, xlsx([row("1-1", 1, "1.15万")]))
    call_command("import_figures", path, "--unit", "rsj", "--month", "2024-06", "--user", "clerk")
    lines = capsys.readouterr().out.splitlines()
    assert "已导入" in lines[0] and lines[0].endswith("涉及报告 1 份：")
    assert lines[1:] == ["  1-1 城镇新增就业（草稿）"]
    assert value_of(world["count"]) == 11500


def test_the_message_after_an_import_names_five_reports_and_counts_the_rest():
    from livelihood.data.admin import named_reports

    reports = [f"1-{n} 事项{n}（草稿）" for n in range(1, 8)]
    assert named_reports(reports[:5]) == "；".join(reports[:5])
    shown = named_reports(reports)
    assert shown.startswith("1-1 事项1（草稿）；")
    assert shown.endswith("1-5 事项5（草稿）等 7 份报告")
    assert "1-6" not in shown


def test_the_command_dry_run_writes_nothing(world, tmp_path, capsys):
    path = write(tmp_path, xlsx([row("1-1", 1, "100")]))
    call_command("import_figures", path, "--month", "2024-06", "--user", "clerk", "--dry-run")
    assert "试运行" in capsys.readouterr().out
    assert not Figure.objects.exists()


def test_the_command_fails_with_the_row_errors(world, tmp_path, capsys):
    path = write(tmp_path, xlsx([row("1-1", 1, "-5"), row("1-9", 1, "5")]))
    with pytest.raises(CommandError, match="2 处错误，整个文件未导入"):
        call_command("import_figures", path, "--month", "2024-06", "--user", "clerk")
    err = capsys.readouterr().err
    assert "第 4 行“数值”列：累计数不能为负数" in err
    assert "第 5 行“事项编号”列" in err
    assert not Figure.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "nope", "--user", "office"], "没有代码为“nope”的牵头单位"),
        (["--unit", "cl", "--user", "clerk"], "只能导入本单位"),
        (["--user", "ghost"], "没有名为“ghost”"),
        ([], "--user"),
    ],
)
def test_the_command_refuses_what_it_cannot_do(world, tmp_path, args, message):
    path = write(tmp_path, xlsx([row("1-1", 1, "100")]))
    with pytest.raises(CommandError, match=message):
        call_command("import_figures", path, "--month", "2024-06", *args)


# ------------------------------------------------------------------------------
# Round trip with the office's export (livelihood/data/exports.py)
# ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_months_exported_figures_import_back_changing_nothing(world, report, fmt):
    from livelihood.data.exports import write_figures

    s1, s2 = world["streets"]
    report(world["jobs"], "2024-05", {world["count"]: "9000"})
    report(world["jobs"], "2024-06", {world["count"]: "11500"})
    report(world["rate_item"], "2024-06", {world["rate"]: "97.5"})
    report(
        world["street_item"],
        "2024-06",
        {world["by_street"]: "12"},
        streets={(world["by_street"], s1): "5", (world["by_street"], s2): "7"},
    )
    report(world["foreign"], "2024-06", {world["foreign_indicator"]: "30"})
    stream = io.BytesIO()
    assert write_figures(stream, fmt, world["plan"], JUNE) == 6  # May is left out
    before = state()

    outcome = figures_import(
        data=stream.getvalue(), file_name=f"六月.{fmt}", month=JUNE, user=world["office"]
    )

    assert outcome.ok, outcome.errors
    assert outcome.count("未变化") == 6
    assert state() == before


def test_export_figures_writes_one_month_for_import_figures(world, report, tmp_path):
    report(world["jobs"], "2024-05", {world["count"]: "9000"})
    report(world["jobs"], "2024-06", {world["count"]: "11500"})
    path = tmp_path / "六月.csv"
    call_command("export_figures", "--plan", "2024", "--month", "2024年6月", "-o", str(path))
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1:] == ["1-1,1,城镇就业人员新增,2024-06,,11500,人"]
    with pytest.raises(CommandError, match="--month"):
        call_command("export_figures", "--plan", "2024", "--month", "六月", "-o", str(path))
