"""
The open data the expected progress is reckoned by: each item's milestones (planned and done
dates, and the approved report that confirmed them) and each indicator's monthly plan.
"""

from django.db.models import F
from django.utils import timezone

from livelihood.data.resources.fields import (
    BOOLEAN,
    DATE,
    INTEGER,
    MONTH,
    NUMBER,
    PublicField,
    PublicResource,
    demo_field,
    month_text,
)
from livelihood.plan.models import Milestone, PlannedValue


class PublicMilestoneResource(PublicResource):
    """An item's milestones: done only once an approved report says so. Per plan for download;
    per item in the API's item detail."""

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
