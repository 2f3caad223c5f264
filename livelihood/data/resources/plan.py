"""
The open data of the plan and its standing: plans, domains, items and indicators with their
progress, expected progress and status, and the lead units and streets.

Progress is read from the stored snapshot (livelihood/snapshots/read.py: `current` for items,
indicators and domains, `plan_rollups` for plans), as residents' pages read it; where a plan
has none stored, or a change is not yet written, the reader computes the same numbers afresh
through `with_progress()`. Nothing here does progress arithmetic.
"""

from django.conf import settings
from django.db.models import Prefetch

from livelihood.data.resources.fields import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONTH,
    NUMBER,
    PERCENT,
    STATUS_CODES,
    PublicField,
    PublicResource,
    demo_field,
    item_demo_q,
)
from livelihood.plan.models import Domain, Indicator, Item, LeadUnit, Plan, Street
from livelihood.progress.arithmetic import Status
from livelihood.snapshots import read as snapshots

Scope = snapshots.Scope


# ------------------------------------------------------------------------------
# Plans and domains
# ------------------------------------------------------------------------------
def _items_read(queryset, plan=None, **options) -> list:
    """The items of `queryset` in reading order (year, domain, order, code), each with its
    progress from the snapshot reader and the demo flag (`_demo`): plan by plan, `plan` or
    every plan the items belong to. `options` go to `snapshots.current`."""
    if plan is not None:
        plans = [plan]
    else:
        plans = list(Plan.objects.filter(pk__in=queryset.values("plan_id")).order_by("year"))
    annotated = queryset.annotate(_demo=item_demo_q())
    items = []
    for each in plans:
        items.extend(snapshots.current(each, items=annotated, **options).items)
    return items


def _count(status: Status):
    """The number of the items in a status."""
    return PublicField(
        f"{status.label}事项数",
        type=INTEGER,
        unit="项",
        dehydrate_method=lambda obj: obj._rollup.counts.get(status, 0),
    )


class _RollupResource(PublicResource):
    """A plan or a domain with the standing of its items (`progress.rollup`), set as
    `_rollup` on each object by `objects()`."""

    item_count = PublicField("已录入事项数", type=INTEGER, unit="项", attribute="_rollup__total")
    progress = PublicField(
        "总体进度",
        type=NUMBER,
        unit=PERCENT,
        nullable=True,
        help="各事项进度按权重加权平均，每项最多按100%计；尚无可计量事项时为空。",
        attribute="_rollup__progress",
    )
    expected_progress = PublicField(
        "序时进度",
        type=NUMBER,
        unit=PERCENT,
        nullable=True,
        help="到数据截至月份月底按计划应完成的比例，按同样权重平均。",
        attribute="_rollup__expected",
    )
    items_done = _count(Status.DONE)
    items_exceeded = _count(Status.EXCEEDED)
    items_on_track = _count(Status.ON_TRACK)
    items_behind = _count(Status.BEHIND)
    items_not_started = _count(Status.NOT_STARTED)
    items_overdue = PublicField(
        "逾期未报事项数", type=INTEGER, unit="项", attribute="_rollup__overdue"
    )


class PublicPlanResource(_RollupResource):
    slug = "plans"
    label = "年度计划"
    summary = "年度计划的文号、印发日期、事项数、数据截至月份和总体进度"

    year = PublicField("年度", type=INTEGER)
    title = PublicField("名称")
    document_number = PublicField("区级文号")
    parent_document_number = PublicField("市级依据文号", help="没有时为空字符串。")
    issued_on = PublicField("印发日期", type=DATE)
    declared_item_count = PublicField(
        "文件所列事项数", type=INTEGER, unit="项", help="文件宣布的事项总数，可能多于已录入数。"
    )
    data_month = PublicField(
        "数据截至",
        type=MONTH,
        nullable=True,
        help="最近一份已审核月度报告的月份；尚无已审核报告时为空。全部事项的进度和状态都按这个月份计算。",
        attribute="_data_month",
    )
    first_month = PublicField(
        "起算月份",
        type=MONTH,
        help="印发当月：月度报告和未设月度计划的指标的序时进度都从这个月算起，到当年12月。",
    )
    tolerance_points = PublicField(
        "滞后判定容差",
        type=INTEGER,
        unit="个百分点",
        help="事项进度低于序时进度超过这么多个百分点时为“滞后”。",
    )
    report_due_day = PublicField(
        "报送期限",
        type=INTEGER,
        unit="日",
        help="每月报告应在次月这一日前（含当日）报送；过期未报送的月份使事项标为“逾期未报”。",
    )
    is_demo = demo_field(attribute="_demo")

    class Meta:
        export_order = (
            "year",
            "title",
            "document_number",
            "parent_document_number",
            "issued_on",
            "declared_item_count",
            "data_month",
            "first_month",
            "tolerance_points",
            "report_due_day",
        )

    def get_queryset(self):
        plans = Plan.objects.published().order_by("-year")
        return plans.filter(pk=self.plan.pk) if self.plan else plans

    def objects(self):
        plans = list(self.get_queryset() if self.queryset is None else self.queryset)
        standings = snapshots.plan_rollups(plans)
        demo = set(
            Item.objects.filter(item_demo_q(), plan__in=plans)
            .order_by()
            .values_list("plan_id", flat=True)
            .distinct()
        )
        for plan in plans:
            plan._rollup, plan._data_month, _ = standings[plan.pk]
            plan._demo = plan.pk in demo
        return plans

    def dehydrate_tolerance_points(self, plan):
        return settings.PROGRESS_TOLERANCE_POINTS

    def dehydrate_report_due_day(self, plan):
        return settings.REPORT_DUE_DAY


class PublicDomainResource(_RollupResource):
    slug = "domains"
    label = "领域"
    summary = "各领域的进度、序时进度和各状态事项数"

    plan_year = PublicField("年度", type=INTEGER, attribute="plan__year")
    number = PublicField("领域序号", type=INTEGER)
    name = PublicField("领域")
    is_demo = demo_field(attribute="_demo")

    class Meta:
        export_order = ("plan_year", "number", "name")

    def get_queryset(self):
        return (
            Domain.objects.filter(plan=self.plan, plan__published=True)
            .select_related("plan")
            .order_by("number")
        )

    def objects(self):
        domains = list(self.get_queryset() if self.queryset is None else self.queryset)
        by_domain = {domain.pk: [] for domain in domains}
        standings = {}
        for plan in {domain.plan_id: domain.plan for domain in domains}.values():
            standings[plan.pk] = snapshots.current(
                plan,
                indicators=False,
                items=Item.objects.filter(domain__in=by_domain).annotate(_demo=item_demo_q()),
            )
            for item in standings[plan.pk].items:
                by_domain[item.domain_id].append(item)
        for domain in domains:
            items = by_domain[domain.pk]
            domain._rollup = standings[domain.plan_id].rollup(items, Scope.DOMAIN, domain.pk)
            domain._demo = any(item._demo for item in items)
        return domains


# ------------------------------------------------------------------------------
# Items and indicators
# ------------------------------------------------------------------------------
def _joined(values) -> str:
    return "；".join(values)


class PublicItemResource(PublicResource):
    slug = "items"
    label = "民生实事事项"
    summary = "每项民生实事的目标、牵头单位、最新审核数值、进度、序时进度和状态"

    plan_year = PublicField("年度", type=INTEGER, attribute="plan__year")
    code = PublicField("编号", help="领域序号-事项序号，例如 3-2。")
    title = PublicField("事项")
    domain_number = PublicField("领域序号", type=INTEGER, attribute="domain__number")
    domain_name = PublicField("领域", attribute="domain__name")
    lead_unit_code = PublicField("牵头单位代码", attribute="lead_unit__code")
    lead_unit_name = PublicField("牵头单位", attribute="lead_unit__name")
    lead_unit_provisional = PublicField(
        "牵头单位待确认",
        type=BOOLEAN,
        help="是：来源文件未写明牵头单位，此分工为区民生办暂定。",
    )
    partner_units = PublicField("配合单位", help="多个单位以“、”分隔；没有时为空字符串。")
    weight = PublicField("权重", type=NUMBER, help="汇总到领域和全区进度时的权重。")
    target = PublicField(
        "目标（原文）",
        help="各指标目标按来源文件原文，如“≥1.15万人”；多个指标以“；”分隔，顺序同指标序号；"
        "只按节点推进的事项为空字符串。",
    )
    unit = PublicField("单位（原文）", help="各指标单位按原文，如“万人”；多个以“；”分隔。")
    latest_value = PublicField(
        "最新审核数值（原文单位）",
        help="各指标最近一份已审核报告的全区合计，按原文单位，如“1.15万人”；"
        "尚无数值的指标为“—”；多个以“；”分隔。",
    )
    latest_month = PublicField(
        "最新审核月份",
        type=MONTH,
        nullable=True,
        help="本事项最近一份已审核月度报告的月份；尚无时为空。",
        attribute="_last_approved",
    )
    progress = PublicField(
        "完成进度",
        type=NUMBER,
        unit=PERCENT,
        nullable=True,
        help="各指标进度按权重加权平均，超额部分如实计入（与事项页面所示相同）；无法计量时为空。",
        attribute="snapshot__progress_uncapped",
    )
    expected_progress = PublicField(
        "序时进度",
        type=NUMBER,
        unit=PERCENT,
        nullable=True,
        help="到数据截至月份月底按计划应完成的比例；无法计量时为空。",
        attribute="snapshot__expected",
    )
    status = PublicField(
        "状态代码",
        enum=STATUS_CODES,
        help="not_started 未启动、on_track 正常推进、behind 滞后、done 已完成、exceeded 超额完成。",
        attribute="status__value",
    )
    status_label = PublicField("状态", help="状态的中文名称。", attribute="status__label")
    overdue = PublicField(
        "逾期未报", type=BOOLEAN, help="是：有月份的报告已过报送期限（次月规定日）仍未报送。"
    )
    milestones_done = PublicField(
        "已完成节点数",
        type=INTEGER,
        unit="个",
        help="经审核公开的已完成工作节点。",
        attribute="snapshot__milestones_done",
    )
    milestones_total = PublicField(
        "计划节点数", type=INTEGER, unit="个", attribute="snapshot__milestones_total"
    )
    is_demo = demo_field(attribute="_demo")

    def get_queryset(self):
        items = Item.objects.filter(plan__published=True)
        if self.plan is not None:
            items = items.filter(plan=self.plan)
        return items

    def objects(self):
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        return _items_read(
            queryset.prefetch_related(
                Prefetch("partner_units", queryset=LeadUnit.objects.order_by("order", "code"))
            ),
            self.plan,
            last_approved=True,
            planned=True,  # the API's item detail lists the indicators (has_monthly_plan)
        )

    def dehydrate_partner_units(self, item):
        return "、".join(unit.name for unit in item.partner_units.all())

    def dehydrate_target(self, item):
        return _joined(i.target_display for i in item.indicators.all() if i.target is not None)

    def dehydrate_unit(self, item):
        return _joined(i.unit for i in item.indicators.all() if i.target is not None)

    def dehydrate_latest_value(self, item):
        return _joined(i.latest_display for i in item.indicators.all() if i.target is not None)


def indicators_of(items) -> list:
    """The items' indicators (as the snapshot reader fetched them), each with its item and its
    row of the item's snapshot."""
    indicators = []
    for item in items:
        for indicator, row in zip(item.indicators.all(), item.snapshot.indicators, strict=False):
            indicator._item, indicator._row = item, row
            indicators.append(indicator)
    return indicators


class PublicIndicatorResource(PublicResource):
    slug = "indicators"
    label = "指标"
    summary = "每个指标的目标（按原文）、最新审核数值和进度"

    plan_year = PublicField("年度", type=INTEGER, attribute="_item__plan__year")
    item_code = PublicField("事项编号", attribute="_item__code")
    item_title = PublicField("事项", attribute="_item__title")
    number = PublicField("指标序号", type=INTEGER)
    name = PublicField("指标")
    kind = PublicField(
        "类型代码",
        enum=Indicator.Kind.values,
        help="count 累计数、rate 比率、standard 标准、qualitative 定性；"
        "标准类和定性类按节点计算进度。",
    )
    kind_label = PublicField("类型", attribute="get_kind_display")
    comparator = PublicField(
        "比较方式代码",
        enum=["", *Indicator.Comparator.values],
        help="gte 不低于、eq 等于、approx 约、lte 不超过；无目标值时为空字符串。",
    )
    target = PublicField(
        "目标值（原文单位）",
        type=NUMBER,
        nullable=True,
        help="按来源文件原文的数值，单位见“单位（原文）”，如 1.15（万人）；无目标值时为空。",
    )
    unit = PublicField("单位（原文）", help="如“万人”“%”“个”。")
    unit_inferred = PublicField(
        "单位据文意补足", type=BOOLEAN, help="是：来源页面缺失单位，按文意补足。"
    )
    target_display = PublicField("目标（原文）", help="比较方式、目标值和单位，如“≥1.15万人”。")
    scale = PublicField(
        "单位倍数",
        type=INTEGER,
        help="原文单位折合基本单位的倍数：万人为 10000，其余为 1。"
        "目标值 × 单位倍数 = 按基本单位计的目标。",
    )
    plain_unit = PublicField("基本单位", help="数值的计量单位，如“人”。")
    baseline = PublicField(
        "基数（基本单位）", type=NUMBER, nullable=True, help="来源文件给出的基数；没有时为空。"
    )
    weight = PublicField("权重", type=NUMBER, help="计算事项进度时的权重。")
    has_street_breakdown = PublicField(
        "分街镇填报", type=BOOLEAN, help="是：月度数值另有各街镇分项。"
    )
    has_monthly_plan = PublicField(
        "设有月度计划",
        type=BOOLEAN,
        help="是：本指标有月度计划值（见“月度计划值”数据集 planned-values）。"
        "累计数、比率类指标设有月度计划且目标不为 0 的，序时进度按计划值计算；"
        "其余累计数、比率类按印发当月至12月平均推进；标准类、定性类总是按工作节点的计划完成日期。",
    )
    latest_value = PublicField(
        "最新审核数值（基本单位）",
        type=NUMBER,
        nullable=True,
        help="最近一份已审核报告的全区合计，按基本单位；尚无时为空。",
    )
    latest_month = PublicField("最新审核月份", type=MONTH, nullable=True, attribute="_latest_month")
    progress = PublicField(
        "指标进度",
        type=NUMBER,
        unit=PERCENT,
        nullable=True,
        help="最新审核数值 ÷ 基本单位目标，超额如实显示；标准类和定性类为已完成节点 ÷ 计划节点；"
        "无法计量时为空。",
        attribute="_row__progress",
    )
    expected_progress = PublicField(
        "序时进度", type=NUMBER, unit=PERCENT, nullable=True, attribute="_row__expected"
    )
    is_demo = demo_field()

    def get_queryset(self):
        items = Item.objects.filter(plan__published=True)
        if self.plan is not None:
            items = items.filter(plan=self.plan)
        return items

    def objects(self):
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        return indicators_of(_items_read(queryset, self.plan, planned=True))

    def dehydrate_has_monthly_plan(self, indicator):
        return bool(indicator.planned_values.all())

    def dehydrate_is_demo(self, indicator):
        return indicator._item._demo


# ------------------------------------------------------------------------------
# Lead units and streets (API)
# ------------------------------------------------------------------------------
class PublicUnitResource(PublicResource):
    slug = "units"
    label = "牵头单位"
    summary = "牵头单位的代码和名称"

    code = PublicField("代码")
    name = PublicField("名称")
    short_name = PublicField("简称", help="没有时为空字符串。")
    provisional = PublicField(
        "待确认", type=BOOLEAN, help="是：来源文件未列名称，此单位由区民生办据职能暂定。"
    )

    def get_queryset(self):
        return LeadUnit.objects.order_by("order", "code")


class PublicStreetResource(PublicResource):
    slug = "streets"
    label = "街镇"
    summary = "街镇的代码、名称和类型"

    code = PublicField("代码")
    name = PublicField("名称")
    kind = PublicField(
        "类型代码", enum=Street.Kind.values, help="subdistrict 街道、town 镇、zone 开发区。"
    )
    kind_label = PublicField("类型", attribute="get_kind_display")

    def get_queryset(self):
        return Street.objects.order_by("order", "code")
