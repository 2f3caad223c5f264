"""The coordinating office loads the rest of the plan from a spreadsheet (import_plan)."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from livelihood.data.import_templates import plan_template
from livelihood.data.plan_import import plan_import
from livelihood.data.reading import PLAN_SPEC
from livelihood.models import (
    Domain,
    Indicator,
    Item,
    LeadUnit,
)
from tests import import_files
from tests.admin_forms import body
from tests.import_files import read, state, xlsx

world = import_files.world  # the fixture

pytestmark = pytest.mark.django_db

HEADER = PLAN_SPEC.headers()


def plan_row(
    code="1-5",
    number=1,
    name="培训人次",
    kind="累计数",
    comparator="≥",
    target="2000",
    unit="人次",
    *,
    title="技能培训",
    lead="区人力资源和社会保障局",
    **extra,
):
    values = {
        "事项编号": code,
        "领域序号": None,
        "领域": None,
        "事项名称": title,
        "牵头单位": lead,
        "牵头单位待确认": None,
        "配合单位": None,
        "事项权重": None,
        "文件原文": None,
        "指标序号": number,
        "指标名称": name,
        "指标类型": kind,
        "比较": comparator,
        "目标值": target,
        "单位": unit,
        "基数": None,
        "指标权重": None,
        "分街镇填报": None,
        **extra,
    }
    return [values[h] for h in HEADER]


def run(world, rows, **kwargs):
    kwargs.setdefault("user", world["office"])
    return plan_import(data=xlsx(rows, header=HEADER), plan=world["plan"], **kwargs)


def test_a_new_item_with_its_indicators(world):
    rows = [
        plan_row("1-5", 1, "培训人次", "累计数", "≥", "0.2", "万人次", 配合单位="区残疾人联合会"),
        plan_row(
            None, 2, "就业率", "比率", "不低于", "90%", "%", title=None, lead=None, 分街镇填报="是"
        ),
    ]
    outcome = run(world, rows)
    assert outcome.ok, outcome.errors
    item = Item.objects.get(code="1-5")
    assert item.lead_unit == world["unit"] and item.title == "技能培训"
    assert list(item.partner_units.all()) == [world["other_unit"]]
    first, second = item.indicators.order_by("number")
    assert (first.kind, first.comparator, first.target, first.scale) == (
        "count",
        "gte",
        Decimal("0.2"),
        10000,
    )
    assert (second.kind, second.target, second.has_street_breakdown) == ("rate", 90, True)
    assert item.history.count() == 1 and first.history.get().history_user == world["office"]


def test_the_downloaded_plan_imports_back_unchanged(world):
    before = state()
    outcome = plan_import(
        data=plan_template(world["plan"]), plan=world["plan"], user=world["office"]
    )
    assert outcome.ok, outcome.errors
    assert {row.action for row in outcome.rows} == {"未变化"}
    assert state() == before


def test_a_dry_run_writes_nothing(world):
    before = state()
    outcome = run(world, [plan_row()], dry_run=True)
    assert outcome.ok and outcome.count("新增") == 2  # the item and its indicator
    assert state() == before


def test_an_item_with_approved_reports_needs_the_flag(world, report):
    report(world["jobs"], "2024-06", {world["count"]: "100"})
    rows = [
        plan_row("1-1", 1, "城镇就业人员新增", "累计数", "≥", "1.2", "万人", title="城镇新增就业")
    ]
    before = state()
    refused = run(world, rows)
    assert not refused.ok and "已有审核通过的月度报告" in refused.errors[0].message
    assert state() == before
    accepted = run(world, rows, overwrite_approved=True)
    assert accepted.ok, accepted.errors
    assert Indicator.objects.get(pk=world["count"].pk).target == Decimal("1.2")


def test_an_indicators_unit_or_kind_cannot_change_once_figures_exist(world, report):
    report(world["jobs"], "2024-06", {world["count"]: "100"}, state="draft")
    rows = [
        plan_row("1-1", 1, "城镇就业人员新增", "累计数", "≥", "11500", "人", title="城镇新增就业")
    ]
    before = state()
    outcome = run(world, rows, overwrite_approved=True)
    assert not outcome.ok and "不能修改单位或类型" in outcome.errors[0].message
    assert state() == before


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([plan_row(lead="区火星局")], "不是已登记的牵头单位"),
        ([plan_row(kind="很多")], "指标类型应为"),
        ([plan_row(kind="比率", target="120", unit="%")], "比率目标不能超过 100%"),
        ([plan_row(comparator="大概")], "比较应为"),
        ([plan_row(code="一-五")], "应写成“领域序号-事项序号”"),
        ([plan_row(code="7-1")], "没有第 7 个领域"),
        ([plan_row(target="=1+1")], "公式"),
        ([plan_row(), plan_row()], "与第 5 行重复"),
        ([plan_row(), plan_row(number=2, title="另一个名称")], "内容不一致"),
        ([plan_row(title=None)], "须填写事项名称"),
        ([plan_row(kind="累计数", comparator="", target=None)], "必须有目标值"),
    ],
)
def test_bad_plan_rows_are_refused_whole(world, rows, words):
    before = state()
    outcome = run(world, [plan_row("1-6", title="另一项"), *rows])
    assert not outcome.ok
    assert words in "\n".join(str(e) for e in outcome.errors)
    assert state() == before


def test_more_items_than_the_plan_declares_are_refused(world):
    world["plan"].declared_item_count = 4
    world["plan"].save()
    before = state()
    outcome = run(world, [plan_row("1-5"), plan_row("1-6", title="另一项")])
    assert not outcome.ok and "超过文件所列的 4 项" in outcome.errors[0].message
    assert state() == before


def test_only_the_office_imports_the_plan(world):
    before = state()
    outcome = run(world, [plan_row()], user=world["clerk"])
    assert not outcome.ok and "只有区民生办" in outcome.errors[0].message
    client = Client()
    client.force_login(world["clerk"])
    assert client.get(reverse("admin:livelihood_item_import")).status_code == 403
    assert client.get(reverse("admin:livelihood_item_import_template")).status_code == 403
    assert state() == before


def test_the_office_previews_and_confirms_in_the_admin(world):
    client = Client()
    client.force_login(world["office"])
    assert "下载（.xlsx）" in body(client.get(reverse("admin:livelihood_item_import")))
    preview = client.post(
        reverse("admin:livelihood_item_import"),
        {
            "plan": world["plan"].pk,
            "format": "0",
            "resource": "0",
            "import_file": SimpleUploadedFile("计划.xlsx", xlsx([plan_row()], header=HEADER)),
        },
    )
    assert "确认导入" in body(preview) and not Item.objects.filter(code="1-5").exists()
    from livelihood.models import ImportUpload

    name = ImportUpload.objects.get().name
    done = client.post(
        reverse("admin:livelihood_item_process_import"),
        {"import_file_name": name, "original_file_name": "计划.xlsx", "format": "0"},
    )
    assert done.status_code == 302
    assert Item.objects.filter(code="1-5").exists()


def test_the_command(world, tmp_path, capsys):
    path = tmp_path / "计划.xlsx"
    path.write_bytes(xlsx([plan_row()], header=HEADER))
    call_command("import_plan", str(path), "--plan", "2024", "--dry-run")
    assert "试运行" in capsys.readouterr().out and not Item.objects.filter(code="1-5").exists()
    call_command("import_plan", str(path), "--plan", "2024", "--user", "office")
    assert "已导入" in capsys.readouterr().out and Item.objects.filter(code="1-5").exists()
    path.write_bytes(xlsx([plan_row(lead="无此单位")], header=HEADER))
    with pytest.raises(CommandError, match="整个文件未导入"):
        call_command("import_plan", str(path), "--plan", "2024")
    assert "第 4 行“牵头单位”列" in capsys.readouterr().err
    with pytest.raises(CommandError, match="只有区民生办"):
        call_command("import_plan", str(path), "--plan", "2024", "--user", "clerk")


def test_the_plan_template_lists_items_and_indicators(world):
    rows = read(plan_template(world["plan"]))
    assert rows[2] == HEADER
    codes = [r[0] for r in rows[3:]]
    assert codes == ["1-1", "1-2", "1-3", "1-3", "1-9"]
    assert Domain.objects.count() == 1 and LeadUnit.objects.count() == 2
    book = openpyxl.load_workbook(io.BytesIO(plan_template(world["plan"])))
    assert book.active.freeze_panes == "A4"
