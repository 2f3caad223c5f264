"""
The monthly reports that carry progress, the figures in them, and the reminders sent for
them.

Figures are stored in plain units (人, 个, %) as Decimals; an indicator's target keeps the
unit the source writes (livelihood/plan/models.py).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from livelihood.plan.models import Indicator, Item, LeadUnit, Street, first_of_month
from livelihood.progress import arithmetic
from livelihood.progress.querysets import MonthlyReportQuerySet


class MonthlyReport(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已报送"
        APPROVED = "approved", "已审核"
        RETURNED = "returned", "已退回"

    class DelayReason(models.TextChoices):
        FUNDS = "funds", "资金未到位"
        PROCEDURES = "procedures", "手续办理中"
        SEASONAL = "seasonal", "季节性因素"
        POLICY = "policy", "政策调整"
        OTHER = "other", "其他"

    class Confidence(models.IntegerChoices):
        LOW = 1, "把握不大"
        MEDIUM = 2, "基本有把握"
        HIGH = 3, "有把握按期完成"

    item = models.ForeignKey(Item, models.CASCADE, related_name="reports", verbose_name="事项")
    month = models.DateField("月份", help_text="报告所属月份（取当月1日）。")
    state = models.CharField(
        "状态", max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    narrative = models.TextField("进展情况", blank=True)
    delay_reason = models.CharField(
        "滞后原因", max_length=20, choices=DelayReason.choices, blank=True
    )
    delay_note = models.TextField("滞后说明", blank=True)
    confidence = models.PositiveSmallIntegerField(
        "完成把握", choices=Confidence.choices, null=True, blank=True
    )
    return_reason = models.TextField("退回原因", blank=True)
    version = models.PositiveIntegerField(
        "版本", default=1, help_text="每次保存加一；保存时版本不符说明他人已修改。"
    )
    is_demo = models.BooleanField("演示数据", default=False, db_index=True)

    created_at = models.DateTimeField("创建时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="填报人",
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="报送人",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    reopened_at = models.DateTimeField("重新打开时间", null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="重新打开人",
    )
    # Who wrote the current version, and when: the refusal of a concurrent edit names them.
    updated_at = models.DateTimeField("最后保存时间", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="最后保存人",
    )

    objects = MonthlyReportQuerySet.as_manager()
    history = HistoricalRecords(verbose_name="月度报告历史", verbose_name_plural="月度报告历史")

    class Meta:
        verbose_name = "月度报告"
        verbose_name_plural = "月度报告"
        ordering = ["item", "-month"]
        indexes = [
            # An item's approved (or reported) months, latest first (ItemQuerySet.with_progress).
            models.Index(fields=["item", "state", "month"], name="report_item_state_month"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["item", "month"], name="report_one_per_item_month"),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted", "approved", "returned"]),
                name="report_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=1, confidence__lte=3),
                name="report_confidence_valid",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="report_version_positive"),
            models.CheckConstraint(
                condition=~Q(state="returned") | ~Q(return_reason=""),
                name="report_returned_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.item.code} {self.month:%Y年%-m月}"

    def save(self, *args, **kwargs):
        self.month = first_of_month(self.month)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return self.item.get_absolute_url()

    def clean(self):
        if self.month is None or self.item_id is None:
            return
        month = first_of_month(self.month)
        plan = self.item.plan
        if month < plan.first_month:
            raise ValidationError(
                {"month": f"计划于{plan.issued_on:%Y年%-m月%-d日}印发，不能填报更早的月份。"}
            )
        if month > first_of_month(timezone.localdate()):
            raise ValidationError({"month": "不能填报未来的月份。"})
        if month.year != plan.year:
            raise ValidationError({"month": f"月份应在{plan.year}年内。"})

    @property
    def is_public(self) -> bool:
        return self.state == self.State.APPROVED


class Figure(models.Model):
    """One indicator's value in one report, in plain units; `street` set for a breakdown row.

    The database refuses a figure whose indicator belongs to another item, a negative count
    and a rate outside 0–100 (triggers in migration 0002: a CHECK cannot see the indicator).
    """

    report = models.ForeignKey(
        MonthlyReport, models.CASCADE, related_name="figures", verbose_name="月度报告"
    )
    indicator = models.ForeignKey(
        Indicator, models.CASCADE, related_name="figures", verbose_name="指标"
    )
    street = models.ForeignKey(
        Street,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="figures",
        verbose_name="街镇",
        help_text="留空表示全区合计。",
    )
    value = models.DecimalField("数值（基本单位）", max_digits=16, decimal_places=4)
    note = models.CharField("备注", max_length=200, blank=True)

    history = HistoricalRecords(verbose_name="填报数值历史", verbose_name_plural="填报数值历史")

    class Meta:
        verbose_name = "填报数值"
        verbose_name_plural = "填报数值"
        ordering = ["report", "indicator__number", "street__order"]
        indexes = [
            # The latest approved district total of each indicator (IndicatorQuerySet.
            # with_latest): a dozen rows per indicator instead of every street's as well.
            models.Index(
                fields=["indicator", "report"],
                condition=Q(street__isnull=True),
                name="figure_totals_by_indicator",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "indicator"],
                condition=Q(street__isnull=True),
                name="figure_one_total_per_indicator",
            ),
            models.UniqueConstraint(
                fields=["report", "indicator", "street"],
                condition=Q(street__isnull=False),
                name="figure_one_per_street",
            ),
        ]

    def __str__(self):
        return f"{self.indicator} {self.value}"

    def clean(self):
        if not (self.indicator_id and self.report_id):
            return
        if self.indicator.item_id != self.report.item_id:
            raise ValidationError({"indicator": "该指标不属于本报告的事项。"})
        error = arithmetic.value_error(self.indicator.kind, self.value)
        if error:
            raise ValidationError({"value": error})


class ReminderLog(models.Model):
    """A reminder mailed to a unit's staff on one day: `send_reminders` sends at most one a day."""

    unit = models.ForeignKey(
        LeadUnit, models.CASCADE, related_name="reminders", verbose_name="牵头单位"
    )
    date = models.DateField("提醒日期")
    sent_at = models.DateTimeField("发送时间", default=timezone.now)
    recipients = models.TextField("收件人", blank=True)
    reports = models.TextField("提醒事项", blank=True)

    class Meta:
        verbose_name = "催报记录"
        verbose_name_plural = "催报记录"
        ordering = ["-date", "unit__order"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "date"], name="reminder_once_per_unit_day"),
        ]

    def __str__(self):
        return f"{self.unit} {self.date:%Y-%m-%d}"
