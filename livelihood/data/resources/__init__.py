"""
django-import-export resources. The `Public…Resource` classes are the open data: the downloads
(livelihood/data/opendata.py) and the JSON API (livelihood/data/api.py) read the same rows from
them, and the data page and the OpenAPI description document the same fields.

What they guarantee:
- Approved data only. Figures come from approved reports alone; progress, expected progress
  and status come from `Item.snapshot` (the one arithmetic: `with_progress()`), which counts
  approved reports and milestones alone; nothing is recomputed here. A report's narrative,
  delay reason and confidence appear only while it is approved; a milestone is done only once
  an approved report says so; a correction only once the reopened report is approved again.
  No staff name, account or contact is a field, nor a return reason (the one reason published
  is the office's reason for reopening an approved report, with the correction it explains).
- Enough to recompute every page by the published method (livelihood/progress/method.py): the plan's
  first month, tolerance and due day, weights, targets and monthly plans, milestones' dates,
  every submitted report's dates and state, the approved figures and their corrections.
- Every field is declared here, with its type, unit and meaning: a new model field never
  appears in the open data by itself.
- Demo rows are marked (`is_demo`) while demo data exists.
- A fixed number of queries per dataset whatever its size; the figures, the one large dataset,
  are read in chunks (`iterator(chunk_size=…)`) as plain values, never all at once.

Values are native (Decimal, int, bool, date, str, None); the writers decide how a file shows
them. Percentages are numbers of percent with one decimal, rounded as the pages round them by
`progress.percent` (31.3 for 31.3%).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone
from import_export import fields, resources, widgets

from livelihood.models import (
    Domain,
    Figure,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    PlannedValue,
    Street,
)
from livelihood.progress import arithmetic as progress
from livelihood.progress.arithmetic import Status
from livelihood.progress.querysets import (
    APPROVED,
    REPORTED_STATES,
    approved_q,
)

STRING, INTEGER, NUMBER, BOOLEAN, DATE, MONTH = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "month",
)
PERCENT = "%"
STATUS_CODES = tuple(status.value for status in Status)


def month_text(month: datetime.date | None) -> str | None:
    return None if month is None else f"{month:%Y-%m}"


def _local_date(moment) -> datetime.date | None:
    """A moment as the date it was in Beijing (the portal's time zone)."""
    return None if moment is None else timezone.localdate(moment)


class NativeWidget(widgets.Widget):
    """Hands the value on as it is: the file writers format it."""

    def render(self, value, obj=None, **kwargs):
        return value


class PercentWidget(NativeWidget):
    """A fraction as the number of percent the pages show: one decimal, rounded half up
    (四舍五入) by `progress.percent` as the pages round it (0.31304 → 31.3, 0.1225 → 12.3)."""

    def render(self, value, obj=None, **kwargs):
        return progress.percent(value)


class MonthWidget(NativeWidget):
    """A month as `YYYY-MM`."""

    def render(self, value, obj=None, **kwargs):
        return month_text(value)


class LocalDateWidget(NativeWidget):
    """A moment as the date it was in Beijing."""

    def render(self, value, obj=None, **kwargs):
        return _local_date(value)


class TextWidget(NativeWidget):
    """A text that may be missing, as an empty string."""

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value


def _default_widget(type: str, unit: str) -> NativeWidget:
    if unit == PERCENT:
        return PercentWidget()
    if type == MONTH:
        return MonthWidget()
    return NativeWidget()


class PublicField(fields.Field):
    """A field of the open data, with what the data page and the API description say of it.

    Its value is read from `attribute` (the field's name by default; "__" descends into
    related objects and dicts, a missing step gives None) and shown through its widget: a
    percentage by `progress.percent`, a month as `YYYY-MM`, anything else as it is, unless
    `widget` says otherwise. A `dehydrate_<name>` method of the resource, or a callable
    `dehydrate_method`, reads it instead."""

    def __init__(
        self,
        column_name,
        *,
        type=STRING,
        unit="",
        help="",
        nullable=False,
        enum=(),
        widget=None,
        **kwargs,
    ):
        if widget is None:
            widget = _default_widget(type, unit)
        super().__init__(column_name=column_name, widget=widget, readonly=True, **kwargs)
        self.type = type
        self.unit = unit
        self.help = help
        self.nullable = nullable
        self.enum = tuple(enum)  # the only values it takes, when they are a fixed few


def demo_present() -> bool:
    """Demo data exists: the pages show the 演示数据 banner
    (livelihood/public/context_processors.py)."""
    return (
        MonthlyReport.objects.filter(is_demo=True).exists()
        or Milestone.objects.filter(is_demo=True).exists()
    )


def item_demo_q() -> Q:
    """An item whose public progress rests on demo data: an approved demo report, or a demo
    milestone."""
    return Q(
        Exists(MonthlyReport.objects.filter(approved_q(), item=OuterRef("pk"), is_demo=True))
    ) | Q(Exists(Milestone.objects.filter(item=OuterRef("pk"), is_demo=True)))


def demo_field(**kwargs):
    return PublicField(
        "演示数据",
        type=BOOLEAN,
        help="是：本行数值由系统生成，用于演示，并非牵头单位实际填报，不能引用。",
        **kwargs,
    )


class PublicResource(resources.Resource):
    """Export only. `rows()` yields one list of native values per row, in field order;
    `records()` one dict per row keyed by field name (the JSON keys)."""

    slug = ""  # the dataset in URLs and file names
    label = ""  # the dataset as the data page names it
    summary = ""  # what it holds, in a line
    large = False  # streamed in chunks rather than built whole

    def __init__(self, plan: Plan | None = None, queryset=None, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan
        self.queryset = queryset

    def get_queryset(self):
        raise NotImplementedError

    def objects(self):
        """The rows' objects: a bounded list, or for a large dataset an iterator."""
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        if self.large:
            return queryset.iterator(chunk_size=self.get_chunk_size())
        return list(queryset)

    def columns(self) -> list[tuple[str, PublicField]]:
        return [(self.get_field_name(f), f) for f in self.get_export_fields()]

    def _getters(self):
        """One function per column, reading its value from an object as import-export's
        `Resource.export_field` does: the resource's `dehydrate_<name>` method, else the
        field's callable `dehydrate_method`, else its attribute through its widget."""
        getters = []
        for name, field in self.columns():
            method = field.get_dehydrate_method(name)
            if not callable(method):
                method = getattr(self, method, None)
            if method is None:
                field.attribute = field.attribute or name
                method = field.export
            getters.append(method)
        return getters

    def rows(self, objects=None):
        getters = self._getters()
        for obj in self.objects() if objects is None else objects:
            yield [_plain(get(obj)) for get in getters]

    def records(self, objects=None):
        names = [name for name, _ in self.columns()]
        for row in self.rows(objects):
            yield dict(zip(names, row, strict=True))

    def headers(self) -> list[str]:
        return [str(field.column_name) for _, field in self.columns()]


# ------------------------------------------------------------------------------
# Plans and domains
# ------------------------------------------------------------------------------
def _items_with_progress(items):
    """Items in reading order with everything `Item.snapshot` needs, and the demo flag."""
    return list(
        items.with_progress()
        .annotate(_demo=item_demo_q())
        .order_by("plan__year", "domain__number", "order", "code")
    )


def _rollup(items):
    return progress.rollup((item.snapshot, item.weight) for item in items)


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
        by_plan = {plan.pk: [] for plan in plans}
        for item in _items_with_progress(Item.objects.filter(plan__in=plans)):
            by_plan[item.plan_id].append(item)
        for plan in plans:
            items = by_plan[plan.pk]
            plan._rollup = _rollup(items)
            plan._data_month = items[0]._as_of if items else None
            plan._demo = any(item._demo for item in items)
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
        items = Item.objects.filter(domain__in=[d.pk for d in domains])
        for item in _items_with_progress(items):
            by_domain[item.domain_id].append(item)
        for domain in domains:
            domain._rollup = _rollup(by_domain[domain.pk])
            domain._demo = any(item._demo for item in by_domain[domain.pk])
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
        return _items_with_progress(
            queryset.prefetch_related(
                Prefetch("partner_units", queryset=LeadUnit.objects.order_by("order", "code"))
            )
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
    """The items' indicators (as `with_progress()` fetched them), each with its item and its
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
        return indicators_of(_items_with_progress(queryset))

    def dehydrate_has_monthly_plan(self, indicator):
        return bool(indicator.planned_values.all())

    def dehydrate_is_demo(self, indicator):
        return indicator._item._demo


class PublicMilestoneResource(PublicResource):
    """An item's milestones: done only once an approved report says so. Per plan for download;
    per item in the API's item detail (as `with_progress()` fetched them)."""

    slug = "milestones"
    label = "工作节点"
    summary = "每个工作节点的计划完成日期、实际完成日期，以及确认完成的已审核报告所属月份和审核日期"

    plan_year = PublicField("年度", type=INTEGER, attribute="item__plan__year")
    item_code = PublicField("事项编号", attribute="item__code")
    number = PublicField("节点序号", type=INTEGER, help="在本事项内的序号。")
    title = PublicField("节点")
    planned_on = PublicField(
        "计划完成日期",
        type=DATE,
        help="标准类、定性类指标（以及来源文件未列指标的事项）的序时进度按它计算："
        "计划完成日期不晚于数据截至月份月底的节点数 ÷ 本事项的计划节点数。",
    )
    done = PublicField(
        "已完成",
        type=BOOLEAN,
        help="是：经审核公开的月度报告确认已完成。在尚未审核公开（待审核、已退回或重新打开更正中）"
        "的报告中填报完成的，在该报告审核公开前为否。",
    )
    done_on = PublicField(
        "实际完成日期",
        type=DATE,
        nullable=True,
        help="牵头单位填报的完成日期；尚未完成（或未经审核公开）时为空。",
    )
    reported_month = PublicField(
        "确认完成的报告月份",
        type=MONTH,
        nullable=True,
        help="确认本节点完成的已审核月度报告所属月份；按某月计算进度时，只计这一月份不晚于该月的节点。"
        "尚未完成（或未经审核公开）时为空。",
    )
    approved_on = PublicField(
        "确认完成的报告审核日期",
        type=DATE,
        nullable=True,
        help="该报告的审核公开日期；尚未完成（或未经审核公开）时为空。",
    )
    is_demo = demo_field()

    def get_queryset(self):
        milestones = Milestone.objects.filter(item__plan__published=True)
        if self.plan is not None:
            milestones = milestones.filter(item__plan=self.plan)
        return (
            milestones.select_related("item__plan")
            .annotate(
                _reported_month=F("reported_in__month"),
                _reported_state=F("reported_in__state"),
                _reported_approved_at=F("reported_in__reviewed_at"),
            )
            .order_by("item__domain__number", "item__order", "item__code", "planned_on", "number")
        )

    @staticmethod
    def _public(milestone) -> bool:
        return milestone.done_on is not None and milestone._reported_state == "approved"

    def dehydrate_done(self, milestone):
        return self._public(milestone)

    def dehydrate_done_on(self, milestone):
        return milestone.done_on if self._public(milestone) else None

    def dehydrate_reported_month(self, milestone):
        return month_text(milestone._reported_month) if self._public(milestone) else None

    def dehydrate_approved_on(self, milestone):
        moment = milestone._reported_approved_at
        if not self._public(milestone) or moment is None:
            return None
        return timezone.localdate(moment)


class PublicPlannedValueResource(PublicResource):
    slug = "planned-values"
    label = "月度计划值"
    summary = "设有月度计划的指标每月计划达到的累计值，序时进度按它计算"

    plan_year = PublicField("年度", type=INTEGER, attribute="indicator__item__plan__year")
    item_code = PublicField("事项编号", attribute="indicator__item__code")
    indicator_number = PublicField("指标序号", type=INTEGER, attribute="indicator__number")
    month = PublicField("月份", type=MONTH)
    value = PublicField(
        "计划累计值（基本单位）",
        type=NUMBER,
        help="到该月底计划达到的累计值，按基本单位（指标的目标值 × 单位倍数为同一单位的目标）。"
        "累计数、比率类指标的序时进度 = 数据截至月份及以前最近一个计划月份的计划值 ÷ 目标，"
        "最多按 100% 计；数据截至月份早于第一个计划月份时为 0。",
    )

    def get_queryset(self):
        planned = PlannedValue.objects.filter(indicator__item__plan__published=True)
        if self.plan is not None:
            planned = planned.filter(indicator__item__plan=self.plan)
        return planned.select_related("indicator__item__plan").order_by(
            "indicator__item__domain__number",
            "indicator__item__order",
            "indicator__item__code",
            "indicator__number",
            "month",
        )


# ------------------------------------------------------------------------------
# Monthly reports and corrections
# ------------------------------------------------------------------------------
# A report's state as the open data names it: a returned report that had been approved
# before (reopened by the office for a correction, services.report_reopen) is told apart
# from one returned at its first review. Drafts, never submitted, are not in the open data.
REPORT_STATES = {
    "approved": "已审核公开",
    "submitted": "已报送待审核",
    "returned": "已退回修改",
    "reopened": "重新打开更正中",
}
CONFIDENCE_LABELS = dict(MonthlyReport.Confidence.choices)


def report_state(state: str, reopened_at) -> str:
    if state == MonthlyReport.State.RETURNED and reopened_at is not None:
        return "reopened"
    return state


class PublicReportResource(PublicResource):
    """Every monthly report that has been submitted at least once: when it was due, submitted
    and approved, so that anyone can check 逾期未报 and the on-time rates. What a report says
    (narrative, delay reason, confidence) only while it is approved; never who wrote, submitted
    or reviewed it, nor why it was returned."""

    slug = "reports"
    label = "月度报告"
    summary = (
        "各事项各月报告的状态、报送期限、首次报送和审核日期、是否按时，"
        "以及已审核报告的进展情况和滞后原因"
    )

    plan_year = PublicField("年度", type=INTEGER, attribute="item__plan__year")
    item_code = PublicField("事项编号", attribute="item__code")
    item_title = PublicField("事项", attribute="item__title")
    month = PublicField("月份", type=MONTH, help="报告所属月份，格式 YYYY-MM。")
    state = PublicField(
        "状态代码",
        enum=tuple(REPORT_STATES),
        help="approved 已审核公开：数值和进展情况已公开；"
        "submitted 已报送待审核（含退回或重新打开后再次报送的）；"
        "returned 已退回修改：区民生办审核时退回牵头单位，尚未再次报送；"
        "reopened 重新打开更正中：曾审核公开，区民生办重新打开、撤下公开以便更正，尚未再次审核公开"
        "（再次报送后为 submitted）。只填写、从未报送的草稿不在本数据集。",
    )
    state_label = PublicField("状态")
    counts_as_reported = PublicField(
        "计为已报送",
        type=BOOLEAN,
        help="是：状态为 approved 或 submitted，“逾期未报”规则把本月算作已报送；"
        "returned、reopened 不算。从印发当月到12月，有月份的报送期限已过（早于今天）"
        "而该月没有计为已报送的报告，事项即标为“逾期未报”。",
    )
    due_on = PublicField(
        "报送期限",
        type=DATE,
        help="本月报告应在这一日前（含当日）报送：次月的第 report_due_day 日（见年度计划）。",
    )
    submitted_on = PublicField(
        "首次报送日期",
        type=DATE,
        nullable=True,
        help="第一次报送的日期（北京时间）；退回后再次报送不改变它，按时报送率按它计算。"
        "未经报送环节的报告为空。",
        attribute="submitted_at",
        widget=LocalDateWidget(),
    )
    on_time = PublicField(
        "按时报送",
        type=BOOLEAN,
        help="是：首次报送日期不晚于报送期限；首次报送日期为空的为否。按时报送率 = "
        "报送期限已过的月份中按时报送的月数 ÷ 报送期限已过的月数（没有报告的月份算未按时）。",
    )
    approved_on = PublicField(
        "审核公开日期",
        type=DATE,
        nullable=True,
        help="状态为 approved 的报告最近一次审核公开的日期（北京时间）；其余为空。"
        "按某日回看公开情况时，只计这一日期不晚于该日的报告。",
    )
    reopened_on = PublicField(
        "重新打开日期",
        type=DATE,
        nullable=True,
        help="区民生办最近一次重新打开本报告（撤下已公开的数值以便更正）的日期；从未重新打开的为空。"
        "再次审核公开时改动的数值见“更正记录”数据集 corrections。",
        attribute="reopened_at",
        widget=LocalDateWidget(),
    )
    narrative = PublicField("进展情况", help="已审核公开的报告的进展说明；其余为空字符串。")
    delay_reason = PublicField(
        "滞后原因代码",
        enum=("", *MonthlyReport.DelayReason.values),
        help="funds 资金未到位、procedures 手续办理中、seasonal 季节性因素、policy 政策调整、"
        "other 其他；未填或未审核公开时为空字符串。",
    )
    delay_reason_label = PublicField("滞后原因", help="滞后原因的中文名称；没有时为空字符串。")
    delay_note = PublicField("滞后说明", help="已审核公开的报告的滞后说明；其余为空字符串。")
    confidence = PublicField(
        "完成把握代码",
        type=INTEGER,
        nullable=True,
        enum=tuple(CONFIDENCE_LABELS),
        help="进度滞后时牵头单位的自评：1 把握不大、2 基本有把握、3 有把握按期完成；"
        "未填或未审核公开时为空。",
    )
    confidence_label = PublicField("完成把握", help="完成把握的中文名称；没有时为空字符串。")
    is_demo = demo_field()

    def get_queryset(self):
        State = MonthlyReport.State
        reports = MonthlyReport.objects.filter(
            state__in=(State.APPROVED, State.SUBMITTED, State.RETURNED),
            item__plan__published=True,
        )
        if self.plan is not None:
            reports = reports.filter(item__plan=self.plan)
        return reports.select_related("item__plan").order_by(
            "item__domain__number", "item__order", "item__code", "month"
        )

    @staticmethod
    def _approved(report) -> bool:
        return report.state == APPROVED

    def dehydrate_state(self, report):
        return report_state(report.state, report.reopened_at)

    def dehydrate_state_label(self, report):
        return REPORT_STATES[self.dehydrate_state(report)]

    def dehydrate_counts_as_reported(self, report):
        return report.state in REPORTED_STATES

    def dehydrate_due_on(self, report):
        return progress.due_date(report.month, settings.REPORT_DUE_DAY)

    def dehydrate_on_time(self, report):
        submitted = _local_date(report.submitted_at)
        return submitted is not None and submitted <= self.dehydrate_due_on(report)

    def dehydrate_approved_on(self, report):
        return _local_date(report.reviewed_at) if self._approved(report) else None

    def dehydrate_narrative(self, report):
        return report.narrative if self._approved(report) else ""

    def dehydrate_delay_reason(self, report):
        return report.delay_reason if self._approved(report) else ""

    def dehydrate_delay_reason_label(self, report):
        return report.get_delay_reason_display() if self.dehydrate_delay_reason(report) else ""

    def dehydrate_delay_note(self, report):
        return report.delay_note if self._approved(report) else ""

    def dehydrate_confidence(self, report):
        return report.confidence if self._approved(report) else None

    def dehydrate_confidence_label(self, report):
        return CONFIDENCE_LABELS.get(self.dehydrate_confidence(report), "")


CHANGES = {
    "changed": "数值更正",
    "added": "补充数值",
    "removed": "删去数值",
}
REOPEN_PREFIX = "重新打开："
_UNRECORDED = object()  # a figure's value before a change the history does not hold


class PublicCorrectionResource(PublicResource):
    """Every change to a published figure: what it was when its report was approved, what it
    became when the report, reopened by the office (services.report_reopen), was approved
    again, when and why. A report reopened and not yet approved again corrects nothing
    residents can see, so it is not here yet.

    Read from the history django-simple-history keeps of reports and figures, in three queries
    whatever their number: the reports ever reopened, their history rows, their figures'
    history rows. In a report's history, a row whose `reopened_at` is new is a reopening (its
    `reviewed_at` is still the approval it withdrew); the next row in the approved state is
    the approval of the correction. A figure whose history rows fall between the two changed
    in that correction: its value before is the one in force at the reopening, its value
    after the last one before the approval."""

    slug = "corrections"
    label = "更正记录"
    summary = "已公开的数值经区民生办重新打开报告更正的记录：更正前后的数值、公开日期和原因"

    plan_year = PublicField("年度", type=INTEGER)
    item_code = PublicField("事项编号")
    item_title = PublicField("事项")
    month = PublicField("月份", type=MONTH, help="被更正的报告所属月份。")
    indicator_number = PublicField("指标序号", type=INTEGER)
    indicator_name = PublicField("指标")
    street_code = PublicField("街镇代码", help="空字符串表示全区合计。")
    street_name = PublicField("街镇", help="空字符串表示全区合计。")
    change = PublicField(
        "更正类型代码",
        enum=tuple(CHANGES),
        help="changed 数值更正：原已公开的数值改为新数值；added 补充数值：原报告没有这个数值，"
        "更正时补上；removed 删去数值：原已公开的数值在更正时删去。",
    )
    value_before = PublicField(
        "更正前数值（基本单位）",
        type=NUMBER,
        nullable=True,
        help="更正前公开的数值，按基本单位。added 时为空；"
        "系统没有留存更正前数值的（只见于批量生成、未经填报流程的演示数据）也为空。",
    )
    value_after = PublicField(
        "更正后数值（基本单位）",
        type=NUMBER,
        nullable=True,
        help="更正后公开的数值，按基本单位；removed 时为空。"
        "报告之后没有再次更正的，它就是“月度审核数值”数据集中的数值。",
    )
    plain_unit = PublicField("基本单位", help="如“人”“%”。")
    published_before_on = PublicField(
        "原数值公开日期",
        type=DATE,
        nullable=True,
        help="更正前的报告审核公开的日期（北京时间）；系统未记录时为空。",
    )
    corrected_on = PublicField(
        "更正公开日期",
        type=DATE,
        help="重新打开的报告更正后再次审核公开的日期（北京时间）：从这一日起公开的是更正后数值。"
        "从重新打开到这一日，这份报告的全部数值暂不公开。",
    )
    reason = PublicField(
        "更正原因",
        help="区民生办重新打开报告时写明的原因；牵头单位在这次更正中为该数值填写了新的备注"
        "（更正说明）的，以“；”接在其后。",
    )
    is_demo = demo_field()

    def get_queryset(self):
        reports = MonthlyReport.objects.filter(
            reopened_at__isnull=False, item__plan__published=True
        )
        if self.plan is not None:
            reports = reports.filter(item__plan=self.plan)
        return reports

    def objects(self):
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        reports = list(
            queryset.select_related("item__plan").order_by(
                "item__plan__year", "item__domain__number", "item__order", "item__code", "month"
            )
        )
        # Subqueries rather than lists of keys: the same three queries with no report as
        # with many (an empty IN list would skip the query).
        keys = queryset.values("pk")
        states = defaultdict(list)
        for row in (
            MonthlyReport.history.filter(id__in=keys)
            .order_by("history_date", "history_id")
            .values("id", "history_date", "state", "reviewed_at", "reopened_at", "return_reason")
        ):
            states[row["id"]].append(row)
        figures = defaultdict(lambda: defaultdict(list))
        for row in (
            Figure.history.filter(report_id__in=keys)
            .order_by("history_date", "history_id")
            .values(
                "report_id",
                "indicator_id",
                "street_id",
                "value",
                "note",
                "history_date",
                "history_type",
                indicator_number=F("indicator__number"),
                indicator_name=F("indicator__name"),
                indicator_unit=F("indicator__unit"),
                street_code=F("street__code"),
                street_name=F("street__name"),
                street_order=F("street__order"),
            )
        ):
            figures[row["report_id"]][row["indicator_id"], row["street_id"]].append(row)
        corrections = []
        for report in reports:
            for reopening, approval in _corrections_of(states[report.pk]):
                found = []
                for history in figures[report.pk].values():
                    change = _figure_change(
                        history, reopening["history_date"], approval["history_date"]
                    )
                    figure = history[-1]
                    if change is not None and figure["indicator_number"] is not None:
                        order = (
                            figure["indicator_number"],
                            figure["street_id"] is not None,
                            figure["street_order"] or 0,
                            figure["street_code"] or "",
                        )
                        found.append(
                            (order, _correction(report, reopening, approval, figure, *change))
                        )
                corrections.extend(row for _, row in sorted(found, key=lambda pair: pair[0]))
        return corrections

    def _getters(self):
        return [lambda row, name=name: row[name] for name, _ in self.columns()]


def _corrections_of(states):
    """(the reopening, the approval of the correction) each time a report, reopened by the
    office, was approved again, from its history rows in order. A reopening is the row
    where `reopened_at` takes a new value (report_reopen alone sets it); a report whose
    history starts with it (created without history rows) has no row before."""
    found, reopening, previous = [], None, None
    for row in states:
        if row["reopened_at"] is not None and (
            row["reopened_at"] != previous["reopened_at"]
            if previous is not None
            else row["state"] == MonthlyReport.State.RETURNED
        ):
            reopening = row
        elif reopening is not None and row["state"] == APPROVED:
            found.append((reopening, row))
            reopening = None
        previous = row
    return found


def _figure_change(history, start, end):
    """(before, after, kind) of one figure (its history rows, in order) between the reopening
    at `start` and the approval at `end`; None when it did not change. `before` and `after`
    are history rows, None where the figure did not exist, `before` _UNRECORDED when it
    existed without a history row before its first change (rows written by bulk_create)."""
    changes = [row for row in history if start < row["history_date"] <= end]
    if not changes:
        return None
    after = None if changes[-1]["history_type"] == "-" else changes[-1]
    earlier = [row for row in history if row["history_date"] <= start]
    if earlier:
        before = None if earlier[-1]["history_type"] == "-" else earlier[-1]
    else:
        first = changes[0]["history_type"]
        before = None if first == "+" else changes[0] if first == "-" else _UNRECORDED
    if before is None and after is None:
        return None
    if before is None:
        return before, after, "added"
    if after is None:
        return before, after, "removed"
    if before is not _UNRECORDED and before["value"] == after["value"]:
        return None
    return before, after, "changed"


def _correction(report, reopening, approval, figure, before, after, kind) -> dict:
    known = before if isinstance(before, dict) else None
    reasons = [(reopening["return_reason"] or "").strip().removeprefix(REOPEN_PREFIX).strip()]
    note = (after or {}).get("note", "").strip()
    if note and note != (known or {}).get("note", "").strip():
        reasons.append(note)
    return {
        "plan_year": report.item.plan.year,
        "item_code": report.item.code,
        "item_title": report.item.title,
        "month": month_text(report.month),
        "indicator_number": figure["indicator_number"],
        "indicator_name": figure["indicator_name"],
        "street_code": figure["street_code"] or "",
        "street_name": figure["street_name"] or "",
        "change": kind,
        "value_before": None if known is None else known["value"],
        "value_after": None if after is None else after["value"],
        "plain_unit": progress.plain_unit(figure["indicator_unit"]),
        "published_before_on": _local_date(reopening["reviewed_at"]),
        "corrected_on": _local_date(approval["reviewed_at"] or approval["history_date"]),
        "reason": "；".join(part for part in reasons if part),
        "is_demo": report.is_demo,
    }


# ------------------------------------------------------------------------------
# Monthly approved figures
# ------------------------------------------------------------------------------
class PublicFigureResource(PublicResource):
    """One row per figure of an approved report: the district total of an indicator in a
    month, and where the unit reports them, each street's part. Read as plain values in chunks:
    the portal may hold hundreds of thousands."""

    slug = "figures"
    label = "月度审核数值"
    summary = "各月经审核公开的数值：全区合计，以及分街镇填报的各街镇数值"
    large = True

    plan_year = PublicField("年度", type=INTEGER)
    month = PublicField("月份", type=MONTH, help="报告所属月份，格式 YYYY-MM。", attribute="month_")
    item_code = PublicField("事项编号")
    item_title = PublicField("事项")
    indicator_number = PublicField("指标序号", type=INTEGER)
    indicator_name = PublicField("指标")
    street_code = PublicField(
        "街镇代码", help="空字符串表示全区合计。", attribute="street_code_", widget=TextWidget()
    )
    street_name = PublicField(
        "街镇", help="空字符串表示全区合计。", attribute="street_name_", widget=TextWidget()
    )
    value = PublicField(
        "数值（基本单位）",
        type=NUMBER,
        help="累计数为截至当月的累计值，比率为当月测得的百分数，单位见“基本单位”。",
        attribute="value_",
    )
    plain_unit = PublicField("基本单位", help="如“人”“%”。")
    value_as_written = PublicField(
        "数值（原文单位）", type=NUMBER, help="数值 ÷ 单位倍数，可与目标值直接比较。"
    )
    unit = PublicField("单位（原文）", attribute="indicator_unit")
    approved_on = PublicField(
        "审核公开日期",
        type=DATE,
        nullable=True,
        help="区民生办审核公开本月报告的日期。",
        attribute="reviewed_at",
        widget=LocalDateWidget(),
    )
    is_demo = demo_field(attribute="report_demo")

    class Meta:
        chunk_size = 2000

    def get_queryset(self):
        figures = Figure.objects.filter(approved_q("report__"), report__item__plan__published=True)
        if self.plan is not None:
            figures = figures.filter(report__item__plan=self.plan)
        return figures.order_by(
            "report__item__plan__year",
            "report__month",
            "report__item__domain__number",
            "report__item__order",
            "report__item__code",
            "indicator__number",
            F("street__order").asc(nulls_first=True),
            "street__code",
        )

    def objects(self):
        queryset = self.get_queryset() if self.queryset is None else self.queryset
        return self.values(queryset).iterator(chunk_size=self.get_chunk_size())

    def values(self, queryset):
        """The figures as plain dicts (no model instances): what the fields read."""
        return queryset.values(**self.VALUES)

    # The columns read, under names without "__" (Field.get_value descends dicts by "__");
    # `figure_id` only orders the API's pages.
    VALUES = {
        "figure_id": F("pk"),
        "plan_year": F("report__item__plan__year"),
        "month_": F("report__month"),
        "item_code": F("report__item__code"),
        "item_title": F("report__item__title"),
        "indicator_number": F("indicator__number"),
        "indicator_name": F("indicator__name"),
        "indicator_unit": F("indicator__unit"),
        "street_code_": F("street__code"),
        "street_name_": F("street__name"),
        "value_": F("value"),
        "reviewed_at": F("report__reviewed_at"),
        "report_demo": F("report__is_demo"),
    }

    def dehydrate_plain_unit(self, row):
        return progress.plain_unit(row["indicator_unit"])

    def dehydrate_value_as_written(self, row):
        return row["value_"] / progress.unit_scale(row["indicator_unit"])


def _plain(value):
    """A stored Decimal without trailing zeros or exponent (11500.0000 → 11500, 1.00 → 1);
    anything else as it is."""
    if isinstance(value, Decimal):
        return Decimal(progress.format_number(value))
    return value


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


# The datasets offered for download per plan year, in the order the data page lists them.
DOWNLOADS = (
    PublicPlanResource,
    PublicDomainResource,
    PublicItemResource,
    PublicIndicatorResource,
    PublicPlannedValueResource,
    PublicMilestoneResource,
    PublicReportResource,
    PublicFigureResource,
    PublicCorrectionResource,
)
