"""
The shipped 2024 plan fixture holds what the source states (reference/plan-2024-items.md),
nothing more, and loads idempotently through natural keys; `load_plan` keeps the office's
edits unless told to update.

The expected values below are transcribed from the reference table, not read from the fixture.
"""

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from livelihood.models import (
    Domain,
    Indicator,
    Item,
    LeadUnit,
    Plan,
    Street,
)

FIXTURE_DIR = Path(django_settings.BASE_DIR) / "fixtures"
FIXTURE_FILE = FIXTURE_DIR / "plan_2024.json"

DOMAINS = [
    "就业创业", "社会保障", "困难群体救助", "教育惠民", "卫生健康",
    "环境保护", "交通出行", "文体服务", "城乡建设", "公共安全",
]  # fmt: skip

STREETS = [
    ("mingguanglu", "明光路街道", "subdistrict"),
    ("shenglilu", "胜利路街道", "subdistrict"),
    ("sanlijie", "三里街街道", "subdistrict"),
    ("tonglinglu", "铜陵路街道", "subdistrict"),
    ("qilizhan", "七里站街道", "subdistrict"),
    ("hongguang", "红光街道", "subdistrict"),
    ("hepinglu", "和平路街道", "subdistrict"),
    ("chengdong", "城东街道", "subdistrict"),
    ("changhuai", "长淮街道", "subdistrict"),
    ("fangmiao", "方庙街道", "subdistrict"),
    ("jiashanlu", "嘉山路街道", "subdistrict"),
    ("daxing", "大兴镇", "town"),
    ("longgang", "合肥龙岗综合经济开发区", "zone"),
]

# code, domain, item (the reference table's "item" column), provisional lead unit.
ITEMS = [
    ("1-1", "就业创业", "城镇新增就业", "rsj"),
    ("1-2", "就业创业", "毕业生求职创业补贴", "rsj"),
    ("1-3", "就业创业", "家政服务人员培训和新增", "rsj"),
    ("2-1", "社会保障", "城乡低保和特困人员生活保障", "mzj"),
    ("2-2", "社会保障", "“企业职工退休一件事一次办”线上线下办理流程", "rsj"),
    ("3-1", "困难群体救助", "困难职工生活救助、子女助学、医疗救助", "zgh"),
    ("3-2", "困难群体救助", "残疾人康复救助", "cl"),
    ("3-3", "困难群体救助", "残疾人职业技能和创业培训", "cl"),
    ("3-4", "困难群体救助", "残疾人托养服务", "cl"),
    ("3-5", "困难群体救助", "家庭适老化改造", "mzj"),
    ("3-6", "困难群体救助", "法律援助", "sfj"),
    ("3-7", "困难群体救助", "低收入人口和脱贫人口医保参保", "ybj"),
    ("4-1", "教育惠民", "公办园在园幼儿占比", "jtj"),
    ("4-2", "教育惠民", "高等教育阶段及中等职业教育残疾学生资助", "jtj"),
    ("4-3", "教育惠民", "老年学校新增学习人数", "jtj"),
    ("4-4", "教育惠民", "社区家长学校", "fl"),
    ("5-1", "卫生健康", "口腔医疗资源供给（局部涂氟、窝沟封闭）", "wjw"),
    ("5-2", "卫生健康", "新生儿疾病筛查", "wjw"),
    ("6-1", "环境保护", "餐饮油烟、噪声及恶臭异味扰民问题整治行动", "sthj"),
    ("7-1", "交通出行", "城市停车泊位", "cgj"),
    ("8-1", "文体服务", "文化和旅游市场消费补助", "wlj"),
    ("8-2", "文体服务", "“15分钟阅读圈”公共文化空间", "wlj"),
    ("9-1", "城乡建设", "公共充电桩", "fgw"),
    ("9-2", "城乡建设", "房屋安置", "zjj"),
    ("9-3", "城乡建设", "全省示范性服务站点", "tyjrj"),
    ("9-4", "城乡建设", "全民健身场所", "jtj"),
    ("9-5", "城乡建设", "菜市整治管理", "swj"),
    ("10-1", "公共安全", "放心满意消费创建", "scjgj"),
    ("10-2", "公共安全", "遏制电信网络诈骗犯罪", "gafj"),
    ("10-3", "公共安全", "食品安全“你点我检”", "scjgj"),
]

# One row per target in the reference table:
# code, number within the item, indicator, target, comparator, unit, kind, unit inferred.
TARGETS = [
    ("1-1", 1, "城镇就业人员新增", "1.15", "gte", "万人", "count", False),
    ("1-2", 1, "补贴标准（符合条件的毕业生）", "1500", "eq", "元/人", "standard", False),
    ("3-1", 1, "救助人次", "45", "gte", "人次", "count", False),
    ("3-2", 1, "康复救助人数", "856", "gte", "名", "count", False),
    ("3-3", 1, "培训人次", "85", "gte", "人（次）", "count", False),
    ("3-4", 1, "托养服务人数", "600", "gte", "人", "count", True),
    ("3-5", 1, "改造户数", "6", "gte", "户", "count", False),
    ("3-6", 1, "办理法律援助案件", "680", "gte", "件", "count", True),
    ("3-7", 1, "参保率", "99", "gte", "%", "rate", False),
    ("4-1", 1, "公办园在园幼儿占比", "65", "eq", "%", "rate", False),
    ("4-2", 1, "资助人次", "31", "gte", "人次", "count", False),
    ("4-3", 1, "新增学习人数", "0.69", "approx", "万人", "count", False),
    ("4-4", 1, "培育社区家长学校", "4", "gte", "所", "count", False),
    ("5-1", 1, "局部涂氟覆盖适龄儿童比例", "22", "gte", "%", "rate", False),
    ("5-1", 2, "窝沟封闭覆盖适龄儿童比例", "22", "gte", "%", "rate", False),
    ("5-2", 1, "遗传代谢病筛查率", "98", "gte", "%", "rate", False),
    ("5-2", 2, "听力障碍筛查率", "95", "gte", "%", "rate", False),
    ("7-1", 1, "新增城市停车泊位", "1.265", "gte", "万个", "count", False),
    ("7-1", 2, "其中公共停车泊位", "0.2586", "gte", "万个", "count", False),
    ("8-2", 1, "建成公共文化空间", "3", "gte", "个", "count", False),
    ("9-1", 1, "新建公共充电桩", "190", "gte", "个", "count", False),
    ("9-2", 1, "解决安置房屋", "6493", "gte", "套", "count", False),
    ("9-3", 1, "建成示范性服务站点", "6", "gte", "个", "count", False),
    ("9-4", 1, "新增全民健身场所", "30", "gte", "个", "count", False),
    ("10-1", 1, "示范单位", "1", "gte", "个", "count", False),
    ("10-1", 2, "示范街区", "1", "gte", "个", "count", False),
    ("10-3", 1, "抽检批次", "200", "gte", "批次", "count", False),
]

QUALITATIVE = ["1-3", "2-1", "2-2", "6-1", "8-1", "9-5", "10-2"]

WAN_TARGETS = [
    ("1-1", 1, "≥1.15万人"),
    ("4-3", 1, "约0.69万人"),
    ("7-1", 1, "≥1.265万个"),
    ("7-1", 2, "≥0.2586万个"),
]

FIXTURE_MODELS = [
    Plan, Domain, Street, LeadUnit, Item, Item.partner_units.through, Indicator,
]  # fmt: skip


@pytest.fixture
def plan(db):
    call_command("loaddata", "plan_2024", verbosity=0)
    return Plan.objects.get(year=2024)


def database_state():
    return {
        model._meta.label: list(model.objects.order_by("pk").values()) for model in FIXTURE_MODELS
    }


def run_load_plan(*args):
    out = io.StringIO()
    call_command("load_plan", *args, stdout=out)
    return out.getvalue()


def indicator(code, number):
    return Indicator.objects.get(item__plan__year=2024, item__code=code, number=number)


# ------------------------------------------------------------------------------
# The fixture file
# ------------------------------------------------------------------------------
def test_fixture_file_uses_natural_keys_and_has_no_pk_anywhere():
    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for value in node:
                yield from keys(value)

    objects = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))
    assert "pk" not in set(keys(objects))
    assert "id" not in set(keys(objects))
    items = [o["fields"] for o in objects if o["model"] == "livelihood.item"]
    assert all(isinstance(f["plan"], list) and isinstance(f["domain"], list) for f in items)
    assert all(isinstance(f["lead_unit"], list) for f in items)


def test_fixture_holds_no_milestones_reports_figures_or_users():
    objects = json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))
    assert {o["model"] for o in objects} == {
        "livelihood.plan",
        "livelihood.domain",
        "livelihood.street",
        "livelihood.leadunit",
        "livelihood.item",
        "livelihood.indicator",
    }


@pytest.mark.django_db
def test_loaddata_finds_the_plan_fixture_by_name_with_project_settings():
    call_command("loaddata", "plan_2024", verbosity=0)


# ------------------------------------------------------------------------------
# What the fixture holds
# ------------------------------------------------------------------------------
def test_plan_2024_carries_the_notice_as_published(plan):
    assert plan.title == "瑶海区2024年50项民生实事"
    assert plan.document_number == "瑶民生办〔2024〕1号"
    assert plan.parent_document_number == "合民生办〔2024〕1号"
    assert str(plan.issued_on) == "2024-04-24"
    assert plan.declared_item_count == 50
    assert plan.source_title == (
        "关于《瑶海区2024年50项民生实事》的政策解读（瑶海区发展和改革委员会）"
    )
    assert str(plan.source_published_on) == "2024-04-25"
    assert "50" in plan.summary and "30" in plan.summary and "区民生办" in plan.summary


def test_plan_has_the_ten_domains_numbered_in_source_order(plan):
    assert list(plan.domains.order_by("number").values_list("number", "name")) == list(
        enumerate(DOMAINS, start=1)
    )


def test_plan_holds_exactly_the_thirty_items_the_source_names(plan):
    assert Item.objects.count() == 30
    assert set(plan.items.values_list("code", flat=True)) == {row[0] for row in ITEMS}


@pytest.mark.parametrize(("code", "domain", "title", "lead"), ITEMS, ids=[r[0] for r in ITEMS])
def test_item_has_its_title_domain_order_and_provisional_lead_unit(plan, code, domain, title, lead):
    item = Item.objects.get(plan=plan, code=code)
    assert item.title == title
    assert item.domain.name == domain
    assert item.domain.number == int(code.split("-")[0])
    assert item.order == int(code.split("-")[1])
    assert item.lead_unit.code == lead
    assert item.lead_unit_provisional is True
    assert item.weight == Decimal("1")
    assert not item.partner_units.exists()
    assert item.source_text


def test_thirteen_streets_in_listed_order_with_their_kind(plan):
    assert list(Street.objects.order_by("order").values_list("order", "code", "name", "kind")) == [
        (n, code, name, kind) for n, (code, name, kind) in enumerate(STREETS, start=1)
    ]


def test_eighteen_lead_units_all_provisional_and_each_leads_an_item(plan):
    assert LeadUnit.objects.count() == 18
    assert list(LeadUnit.objects.order_by("order").values_list("order", flat=True)) == list(
        range(1, 19)
    )
    assert not LeadUnit.objects.filter(provisional=False).exists()
    assert not LeadUnit.objects.filter(items__isnull=True).exists()
    assert set(LeadUnit.objects.values_list("code", flat=True)) == {row[3] for row in ITEMS}


def test_every_item_lead_assignment_is_marked_provisional(plan):
    assert not Item.objects.filter(lead_unit_provisional=False).exists()


@pytest.mark.parametrize(
    ("code", "number", "name", "target", "comparator", "unit", "kind", "inferred"),
    TARGETS,
    ids=[f"{r[0]}#{r[1]}" for r in TARGETS],
)
def test_fixture_holds_each_target_as_the_source_writes_it(
    plan, code, number, name, target, comparator, unit, kind, inferred
):
    row = indicator(code, number)
    assert row.name == name
    assert row.target == Decimal(target)
    assert row.comparator == comparator
    assert row.unit == unit
    assert row.kind == kind
    assert row.unit_inferred is inferred
    assert row.scale == (10000 if unit.startswith("万") else 1)
    assert row.weight == Decimal("1")
    assert row.has_street_breakdown is False
    assert row.baseline is None
    # The number as written is in the sentence the item quotes from the source.
    assert target in row.item.source_text


def test_fixture_has_no_indicator_beyond_the_reference_table(plan):
    assert sorted(Indicator.objects.values_list("item__code", "number", "name")) == sorted(
        (code, number, name) for code, number, name, *_ in TARGETS
    )


@pytest.mark.parametrize("code", QUALITATIVE)
def test_item_without_a_number_in_the_source_has_no_indicator(plan, code):
    assert not Indicator.objects.filter(item__plan=plan, item__code=code).exists()


@pytest.mark.parametrize(("code", "number", "display"), WAN_TARGETS)
def test_wan_targets_scale_by_ten_thousand_and_display_as_written(plan, code, number, display):
    row = indicator(code, number)
    assert row.scale == 10000
    assert row.target_display == display
    assert row.target_plain == row.target * 10000


# ------------------------------------------------------------------------------
# Loading again
# ------------------------------------------------------------------------------
def test_loading_the_fixture_twice_keeps_rows_and_primary_keys(plan):
    before = database_state()
    call_command("loaddata", "plan_2024", verbosity=0)
    assert database_state() == before
    assert (Plan.objects.count(), Domain.objects.count(), Item.objects.count()) == (1, 10, 30)
    assert Indicator.objects.count() == len(TARGETS)


@pytest.mark.django_db
def test_load_plan_loads_a_year_not_yet_in_the_database():
    output = run_load_plan("2024")
    assert "已载入" in output
    assert Plan.objects.filter(year=2024).exists()
    assert Item.objects.count() == 30
    assert Indicator.objects.count() == len(TARGETS)


def test_load_plan_skips_an_existing_plan_and_keeps_the_office_edits(plan):
    Item.objects.filter(code="3-2").update(title="残疾人康复救助（已修改）")
    before = database_state()
    output = run_load_plan("2024")
    assert "未重新载入" in output
    assert database_state() == before


def test_load_plan_update_restores_the_file_and_is_idempotent(plan):
    fresh = database_state()
    Item.objects.filter(code="3-2").update(title="残疾人康复救助（已修改）")
    output = run_load_plan("2024", "--update")
    assert "已按文件更新" in output
    assert Item.objects.get(code="3-2").title == "残疾人康复救助"
    assert database_state() == fresh
    run_load_plan("2024", "--update")
    assert database_state() == fresh


@pytest.mark.django_db
def test_load_plan_refuses_a_year_without_a_fixture_in_chinese():
    with pytest.raises(CommandError, match="没有 1999 年度的计划文件"):
        run_load_plan("1999")
    assert not Plan.objects.exists()
