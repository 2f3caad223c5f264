"""
The open data of the monthly reports: every submitted report's dates and state, and the
figures of the approved ones (the one large dataset, read in chunks as plain values).
"""

from django.conf import settings
from django.db.models import F

from livelihood.data.resources.fields import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONTH,
    NUMBER,
    LocalDateWidget,
    PublicField,
    PublicResource,
    TextWidget,
    demo_field,
    local_date,
)
from livelihood.progress import arithmetic as progress
from livelihood.progress.querysets import APPROVED, REPORTED_STATES, approved_q
from livelihood.reporting.models import Figure, MonthlyReport

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
        submitted = local_date(report.submitted_at)
        return submitted is not None and submitted <= self.dehydrate_due_on(report)

    def dehydrate_approved_on(self, report):
        return local_date(report.reviewed_at) if self._approved(report) else None

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
