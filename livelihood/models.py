"""
The plan, its items and indicators, and the monthly reports that carry progress.

Figures are stored in plain units (人, 个, %) as Decimals; targets are stored as the source
writes them (1.15 with the unit 万人) together with the unit's scale (10000), so that the
target shown is the target written and the arithmetic is exact.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.models import HistoricalRecords

from livelihood.progress import arithmetic
from livelihood.progress.arithmetic import (
    ItemProgress,
    Status,
)
from livelihood.progress.querysets import (
    IndicatorQuerySet,
    ItemQuerySet,
    MonthlyReportQuerySet,
    PlanQuerySet,
    snapshot_from_annotations,
)


def first_of_month(value: datetime.date) -> datetime.date:
    return value.replace(day=1)


class NaturalKeyManager(models.Manager):
    """`get_by_natural_key` for models whose natural key is their own unique fields."""

    def __init__(self, *fields):
        super().__init__()
        self.key_fields = fields

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.key_fields, key, strict=True)))


class Plan(models.Model):
    year = models.PositiveSmallIntegerField("年度", unique=True)
    title = models.CharField("名称", max_length=200)
    document_number = models.CharField("区级文号", max_length=100)
    parent_document_number = models.CharField("市级依据文号", max_length=100, blank=True)
    issued_on = models.DateField("印发日期")
    declared_item_count = models.PositiveSmallIntegerField(
        "文件所列事项数", help_text="文件宣布的事项总数；已录入的事项可能少于此数。"
    )
    source_title = models.CharField("来源", max_length=300, blank=True)
    source_published_on = models.DateField("来源发布日期", null=True, blank=True)
    summary = models.TextField("简介", blank=True)
    published = models.BooleanField(
        "已发布",
        default=True,
        help_text="未发布的计划（由上一年度复制的草稿）不在公开页面显示。",
    )

    objects = NaturalKeyManager.from_queryset(PlanQuerySet)("year")

    class Meta:
        verbose_name = "年度计划"
        verbose_name_plural = "年度计划"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="plan_year_plausible"
            ),
            models.CheckConstraint(
                condition=Q(declared_item_count__gte=1), name="plan_declared_count_positive"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("livelihood:plan-home", args=[self.year])

    def natural_key(self):
        return (self.year,)

    @property
    def first_month(self) -> datetime.date:
        return first_of_month(self.issued_on)

    @property
    def last_month(self) -> datetime.date:
        return datetime.date(self.year, 12, 1)


class Domain(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="domains", verbose_name="年度计划")
    number = models.PositiveSmallIntegerField("序号")
    name = models.CharField("名称", max_length=50)

    objects = NaturalKeyManager("plan__year", "number")

    class Meta:
        verbose_name = "领域"
        verbose_name_plural = "领域"
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="domain_unique_number"),
            models.UniqueConstraint(fields=["plan", "name"], name="domain_unique_name"),
        ]

    def __str__(self):
        return f"{self.number}. {self.name}"

    def natural_key(self):
        return (*self.plan.natural_key(), self.number)

    natural_key.dependencies = ["livelihood.plan"]


class LeadUnit(models.Model):
    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=30, blank=True)
    provisional = models.BooleanField(
        "待确认",
        default=False,
        help_text="来源文件只给出牵头单位的数量（18家），未列名称；此单位由区民生办据职能暂定。",
    )
    order = models.PositiveSmallIntegerField("排序", default=0)

    objects = NaturalKeyManager("code")

    class Meta:
        verbose_name = "牵头单位"
        verbose_name_plural = "牵头单位"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class Street(models.Model):
    class Kind(models.TextChoices):
        SUBDISTRICT = "subdistrict", "街道"
        TOWN = "town", "镇"
        ZONE = "zone", "开发区"

    code = models.SlugField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    order = models.PositiveSmallIntegerField("排序", default=0)

    objects = NaturalKeyManager("code")

    class Meta:
        verbose_name = "街镇"
        verbose_name_plural = "街镇"
        ordering = ["order", "code"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class Item(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="items", verbose_name="年度计划")
    domain = models.ForeignKey(Domain, models.PROTECT, related_name="items", verbose_name="领域")
    code = models.CharField("编号", max_length=10, help_text="领域序号-事项序号，例如 3-2。")
    title = models.CharField("事项", max_length=200)
    source_text = models.TextField("文件原文", blank=True, help_text="来源文件中关于本事项的原句。")
    lead_unit = models.ForeignKey(
        LeadUnit, models.PROTECT, related_name="items", verbose_name="牵头单位"
    )
    lead_unit_provisional = models.BooleanField(
        "牵头单位待确认", default=False, help_text="来源文件未写明牵头单位，此分工为暂定。"
    )
    partner_units = models.ManyToManyField(
        LeadUnit, blank=True, related_name="partner_items", verbose_name="配合单位"
    )
    weight = models.DecimalField(
        "权重",
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    order = models.PositiveSmallIntegerField("排序", default=0)

    objects = NaturalKeyManager.from_queryset(ItemQuerySet)("plan__year", "code")
    history = HistoricalRecords(verbose_name="民生实事历史", verbose_name_plural="民生实事历史")

    class Meta:
        verbose_name = "民生实事"
        verbose_name_plural = "民生实事"
        ordering = ["plan", "domain__number", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="item_unique_code"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="item_weight_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("livelihood:item-detail", args=[self.plan.year, self.code])

    def natural_key(self):
        return (*self.plan.natural_key(), self.code)

    natural_key.dependencies = ["livelihood.plan", "livelihood.domain", "livelihood.leadunit"]

    def clean(self):
        if self.domain_id and self.plan_id and self.domain.plan_id != self.plan_id:
            raise ValidationError({"domain": "领域不属于该年度计划。"})

    # Progress: computed by progress.py from what ItemQuerySet.with_progress() fetched; a
    # lone instance fetches itself that way once.
    @property
    def snapshot(self) -> ItemProgress:
        cached = self.__dict__.get("_snapshot")
        if cached is None:
            source = (
                self
                if hasattr(self, "_today")
                else (type(self).objects.with_progress().get(pk=self.pk))
            )
            cached = self.__dict__["_snapshot"] = snapshot_from_annotations(source)
        return cached

    @property
    def progress(self) -> Decimal | None:
        return self.snapshot.progress

    @property
    def expected(self) -> Decimal | None:
        return self.snapshot.expected

    @property
    def status(self) -> Status:
        return self.snapshot.status

    @property
    def overdue(self) -> bool:
        return self.snapshot.overdue


class Indicator(models.Model):
    class Kind(models.TextChoices):
        COUNT = "count", "累计数"
        RATE = "rate", "比率"
        STANDARD = "standard", "标准"
        QUALITATIVE = "qualitative", "定性"

    class Comparator(models.TextChoices):
        GTE = "gte", "≥"
        EQ = "eq", "="
        APPROX = "approx", "≈"
        LTE = "lte", "≤"

    item = models.ForeignKey(Item, models.CASCADE, related_name="indicators", verbose_name="事项")
    number = models.PositiveSmallIntegerField("序号", default=1)
    name = models.CharField("指标", max_length=200)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    comparator = models.CharField("比较", max_length=10, choices=Comparator.choices, blank=True)
    target = models.DecimalField(
        "目标值（按原文单位）", max_digits=14, decimal_places=4, null=True, blank=True
    )
    unit = models.CharField(
        "单位（原文）", max_length=20, blank=True, help_text="例如 万人、%、个。"
    )
    unit_inferred = models.BooleanField(
        "单位据文意补足", default=False, help_text="来源页面缺失单位，按文意补足。"
    )
    scale = models.PositiveIntegerField(
        "单位倍数",
        default=1,
        editable=False,
        help_text="原文单位折合基本单位的倍数，随单位自动确定：万 为 10000。",
    )
    baseline = models.DecimalField(
        "基数（基本单位）", max_digits=16, decimal_places=4, null=True, blank=True
    )
    weight = models.DecimalField(
        "权重",
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    has_street_breakdown = models.BooleanField("分街镇填报", default=False)

    objects = NaturalKeyManager.from_queryset(IndicatorQuerySet)(
        "item__plan__year", "item__code", "number"
    )
    history = HistoricalRecords(verbose_name="指标历史", verbose_name_plural="指标历史")

    class Meta:
        verbose_name = "指标"
        verbose_name_plural = "指标"
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="indicator_unique_number"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
            models.CheckConstraint(condition=Q(scale__gte=1), name="indicator_scale_positive"),
            models.CheckConstraint(
                condition=Q(target__isnull=True) | Q(target__gte=0),
                name="indicator_target_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="rate") | Q(target__isnull=True) | Q(target__lte=100),
                name="indicator_rate_target_at_most_100",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["count", "rate"])
                | (Q(target__isnull=False) & ~Q(comparator="")),
                name="indicator_measured_has_target",
            ),
            models.CheckConstraint(
                condition=Q(comparator__in=["", "gte", "eq", "approx", "lte"]),
                name="indicator_comparator_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["count", "rate", "standard", "qualitative"]),
                name="indicator_kind_valid",
            ),
        ]

    def __str__(self):
        return f"{self.item.code} {self.name}"

    def save(self, *args, **kwargs):
        # The scale follows the unit as written: 万人 holds 10000 人.
        self.scale = arithmetic.unit_scale(self.unit)
        super().save(*args, **kwargs)

    def natural_key(self):
        return (*self.item.natural_key(), self.number)

    natural_key.dependencies = ["livelihood.item"]

    def clean(self):
        errors = {}
        if self.kind in (self.Kind.COUNT, self.Kind.RATE):
            if self.target is None:
                errors["target"] = "累计数和比率指标必须有目标值。"
            if not self.comparator:
                errors["comparator"] = "累计数和比率指标必须选择比较方式。"
        if self.kind == self.Kind.RATE and self.target is not None and self.target > 100:
            errors["target"] = "比率目标不能超过 100%。"
        if self.target is not None and self.target < 0:
            errors["target"] = "目标值不能为负数。"
        if errors:
            raise ValidationError(errors)

    @property
    def measured(self) -> bool:
        """Progress comes from figures (True) or from the item's milestones (False)."""
        return self.kind in (self.Kind.COUNT, self.Kind.RATE)

    @property
    def target_plain(self) -> Decimal | None:
        return None if self.target is None else self.target * self.scale

    @property
    def target_display(self) -> str:
        """The target as the source writes it: 1.15万人, ≥99%, 约0.69万人."""
        return arithmetic.format_target(self.comparator, self.target, self.unit)

    @property
    def plain_unit(self) -> str:
        return arithmetic.plain_unit(self.unit)

    @property
    def latest_value(self) -> Decimal | None:
        if hasattr(self, "_latest_value"):
            return self._latest_value
        return type(self).objects.filter(pk=self.pk).with_latest().get()._latest_value

    @property
    def latest_display(self) -> str:
        """The latest approved figure in the unit as written: 1.15万人."""
        return arithmetic.format_value(self.latest_value, self.unit)

    @property
    def latest_plain_display(self) -> str:
        """The same figure in plain units: 11500人."""
        return arithmetic.format_plain(self.latest_value, self.unit)

    def measure(self, milestones_done=0, milestones_total=0) -> Decimal | None:
        return arithmetic.indicator_progress(
            kind=self.kind,
            comparator=self.comparator,
            target_plain=self.target_plain,
            value=self.latest_value,
            milestones_done=milestones_done,
            milestones_total=milestones_total,
        )


class PlannedValue(models.Model):
    """A cumulative value the indicator should have reached by the end of a month."""

    indicator = models.ForeignKey(
        Indicator, models.CASCADE, related_name="planned_values", verbose_name="指标"
    )
    month = models.DateField("月份")
    value = models.DecimalField("计划累计值（基本单位）", max_digits=16, decimal_places=4)

    history = HistoricalRecords(verbose_name="月度计划值历史", verbose_name_plural="月度计划值历史")

    class Meta:
        verbose_name = "月度计划值"
        verbose_name_plural = "月度计划值"
        ordering = ["indicator", "month"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "month"], name="planned_unique_month"),
            models.CheckConstraint(condition=Q(value__gte=0), name="planned_value_not_negative"),
        ]

    def __str__(self):
        return f"{self.indicator} {self.month:%Y-%m}"

    def save(self, *args, **kwargs):
        self.month = first_of_month(self.month)
        super().save(*args, **kwargs)


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


class Milestone(models.Model):
    item = models.ForeignKey(Item, models.CASCADE, related_name="milestones", verbose_name="事项")
    number = models.PositiveSmallIntegerField("序号", default=1)
    title = models.CharField("节点", max_length=200)
    planned_on = models.DateField("计划完成日期")
    done_on = models.DateField("实际完成日期", null=True, blank=True)
    # PROTECT: the report that declared a milestone done cannot vanish from under it.
    reported_in = models.ForeignKey(
        MonthlyReport,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="milestones_done",
        verbose_name="报告于",
        help_text="完成情况随该月报告审核后公开。",
    )
    is_demo = models.BooleanField("演示数据", default=False, db_index=True)

    objects = NaturalKeyManager("item__plan__year", "item__code", "number")
    history = HistoricalRecords(verbose_name="节点历史", verbose_name_plural="节点历史")

    class Meta:
        verbose_name = "节点"
        verbose_name_plural = "节点"
        ordering = ["item", "planned_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="milestone_unique_number"),
            models.CheckConstraint(
                condition=Q(done_on__isnull=True) | Q(reported_in__isnull=False),
                name="milestone_done_is_reported",
            ),
        ]

    def __str__(self):
        return f"{self.item.code} {self.title}"

    def natural_key(self):
        return (*self.item.natural_key(), self.number)

    natural_key.dependencies = ["livelihood.item"]

    @property
    def is_done(self) -> bool:
        """Done in public terms: marked done in a report the coordinating office approved."""
        if hasattr(self, "_done"):
            return self._done
        return (
            self.done_on is not None
            and self.reported_in is not None
            and self.reported_in.state == MonthlyReport.State.APPROVED
        )

    def clean(self):
        if self.reported_in_id and self.item_id and self.reported_in.item_id != self.item_id:
            raise ValidationError({"reported_in": "该报告不属于本节点的事项。"})


class StaffProfile(models.Model):
    """Which lead unit or street a staff account belongs to; neither for the coordinating
    office. A street's account takes part in peer review (互评) only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="staff_profile",
        verbose_name="账号",
    )
    lead_unit = models.ForeignKey(
        LeadUnit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属牵头单位",
        help_text="牵头单位和街镇都留空表示区民生办（可查看全部事项）。",
    )
    street = models.ForeignKey(
        Street,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属街镇",
        help_text="街镇评价员只参加互评。",
    )
    is_demo = models.BooleanField("演示账号", default=False)

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_unit__isnull=True) | Q(street__isnull=True),
                name="staff_unit_or_street",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.lead_unit or self.street or '区民生办'}"

    def clean(self):
        if self.lead_unit_id and self.street_id:
            raise ValidationError("牵头单位和街镇只能选一个。")


class TwoFactorDevice(TOTPDevice):
    """A staff account's authenticator app (django-otp's TOTP device), under the portal's own
    name, so that the office holds its view and delete permissions through roles.py and
    resets a lost phone in the admin (livelihood/accounts/admin.py). A proxy: the rows are
    django-otp's own, which its sign-in code reads."""

    class Meta:
        proxy = True
        verbose_name = "两步验证设备"
        verbose_name_plural = "两步验证设备"


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


class PublicationVersion(models.Model):
    """One row: a number that changes whenever anything residents can see changes.

    Cached public pages are keyed on it (livelihood/public/cache.py). It lives in the database, not
    in
    a process, so that every app server and every gunicorn worker reads the same number; the
    signals in livelihood/operations/signals.py raise it after each committed change.
    """

    counter = models.PositiveBigIntegerField("版本号", default=0)
    changed_at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        verbose_name = "公开数据版本"
        verbose_name_plural = "公开数据版本"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="publication_version_single_row"),
        ]

    def __str__(self):
        return f"第 {self.counter} 版（{timezone.localtime(self.changed_at):%Y-%m-%d %H:%M:%S}）"


class ImportUpload(models.Model):
    """A spreadsheet held between the preview of an import and its confirmation.

    Kept in the database, not on an app server's disk, so that the confirmation may reach any
    app server; never under the web root. Bound to the account that uploaded it (and the unit
    and month it was previewed for): the confirmation is refused to anyone else. Deleted on
    confirm and on cancel; a forgotten one goes after a day (livelihood/data/reading.py).
    """

    name = models.CharField("标识", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )
    unit = models.ForeignKey(
        LeadUnit, models.CASCADE, null=True, blank=True, related_name="+", verbose_name="牵头单位"
    )
    month = models.DateField("月份", null=True, blank=True)
    plan = models.ForeignKey(
        Plan, models.CASCADE, null=True, blank=True, related_name="+", verbose_name="年度计划"
    )
    file_name = models.CharField("文件名", max_length=255, blank=True)
    data = models.BinaryField("内容")
    options = models.JSONField("导入选项", default=dict, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "待确认的导入文件"
        verbose_name_plural = "待确认的导入文件"

    def __str__(self):
        return self.file_name or self.name


class SatisfactionVote(models.Model):
    """A resident's rating of an item (满意 / 基本满意 / 不满意), once per item per month per
    browser, with the optional awareness question (知晓率). Feeds the item page and the
    evaluation's satisfaction criterion. Holds no personal data: `voter` is a keyed hash of a
    random token kept in the voter's browser."""

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASIC = "basic", "基本满意"
        UNSATISFIED = "unsatisfied", "不满意"

    item = models.ForeignKey(
        Item, models.CASCADE, related_name="satisfaction_votes", verbose_name="事项"
    )
    month = models.DateField("月份", help_text="投票所在月份（取当月1日）。")
    rating = models.CharField("评价", max_length=12, choices=Rating.choices)
    aware = models.BooleanField(
        "此前是否了解", null=True, blank=True, help_text="“您此前是否了解这项民生实事？”未答为空。"
    )
    voter = models.CharField("投票标识", max_length=64, editable=False)
    created_at = models.DateTimeField("投票时间", default=timezone.now)

    class Meta:
        verbose_name = "满意度评价"
        verbose_name_plural = "满意度评价"
        ordering = ["item", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "month", "voter"], name="satisfaction_once_per_item_month"
            ),
            models.CheckConstraint(
                condition=Q(rating__in=["satisfied", "basic", "unsatisfied"]),
                name="satisfaction_rating_valid",
            ),
        ]

    def __str__(self):
        return f"{self.item} {self.month:%Y-%m} {self.get_rating_display()}"


# ------------------------------------------------------------------------------
# Evaluation (考核评价): rounds, criteria, frozen scores, peer review (互评)
# ------------------------------------------------------------------------------
def _one_of(first: str, second: str) -> Q:
    return (Q(**{f"{first}__isnull": False}) & Q(**{f"{second}__isnull": True})) | (
        Q(**{f"{first}__isnull": True}) & Q(**{f"{second}__isnull": False})
    )


class EvaluationRound(models.Model):
    """A mid-year or year-end evaluation of a plan's lead units.

    进行中: the coordinator sets the criteria, units and streets rate each other. 已结束
    (`evaluation.round_close`): the criteria computed from data are computed once, as
    published by `cutoff_at`, and stored with their inputs; peer review is over; manual
    scores may still be entered. 已公布: locked, and the summary is on the portal."""

    class Kind(models.TextChoices):
        MIDYEAR = "midyear", "年中"
        YEAREND = "yearend", "年终"

    class State(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"
        PUBLISHED = "published", "已公布"

    plan = models.ForeignKey(
        Plan, models.CASCADE, related_name="evaluation_rounds", verbose_name="年度计划"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    cutoff_month = models.DateField(
        "数据截至月份", help_text="计入截至该月的进度和报送情况（取当月1日）。"
    )
    cutoff_at = models.DateTimeField(
        "数据截止时间",
        help_text="此时刻前审核公开的数据、报送的报告和群众评价计入考核；"
        "结束本轮时如尚未到此时刻，按结束时已有的数据计算。",
    )
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    note = models.TextField("公开说明", blank=True, help_text="随考核结果一并公布。")
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结束人",
    )
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="公布人",
    )

    class Meta:
        verbose_name = "考核轮次"
        verbose_name_plural = "考核轮次"
        ordering = ["-plan__year", "cutoff_month"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "kind"],
                name="evaluation_one_kind_per_plan",
                violation_error_message="该年度计划已有同类型（年中或年终）的考核轮次。",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["midyear", "yearend"]), name="evaluation_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "closed", "published"]),
                name="evaluation_state_valid",
            ),
        ]

    def __str__(self):
        year = self.plan.year if self.plan_id else ""
        return f"{year}年{self.get_kind_display()}考核"

    def save(self, *args, **kwargs):
        if self.cutoff_month:
            self.cutoff_month = first_of_month(self.cutoff_month)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("livelihood:evaluation-detail", args=[self.plan.year, self.kind])

    def clean(self):
        if self.cutoff_month and self.plan_id:
            month = first_of_month(self.cutoff_month)
            if month.year != self.plan.year or month < self.plan.first_month:
                first = self.plan.first_month
                raise ValidationError(
                    {"cutoff_month": f"应在{first:%Y年%-m月}至{self.plan.year}年12月之间。"}
                )
            if self.cutoff_at and self.cutoff_at.date() < month:
                raise ValidationError({"cutoff_at": "数据截止时间不能早于截至月份。"})

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class EvaluationCriterion(models.Model):
    """One criterion of a round and its weight. Every kind but 人工评定 is computed from the
    data when the round closes; a weight is relative (a party's total divides by the weights
    of the criteria it has a score for)."""

    class Kind(models.TextChoices):
        PROGRESS = "progress", "推进进度（对照序时进度）"
        PUNCTUALITY = "punctuality", "按时报送率"
        SATISFACTION = "satisfaction", "群众满意度"
        PEER = "peer", "互评"
        MANUAL = "manual", "人工评定"

    round = models.ForeignKey(
        EvaluationRound, models.CASCADE, related_name="criteria", verbose_name="考核轮次"
    )
    name = models.CharField("指标名称", max_length=50)
    kind = models.CharField("计分方式", max_length=20, choices=Kind.choices)
    weight = models.DecimalField(
        "权重", max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    order = models.PositiveSmallIntegerField("排序", default=0)
    description = models.CharField("评分说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["round", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["round", "name"], name="criterion_unique_name"),
            models.UniqueConstraint(
                fields=["round", "kind"],
                condition=~Q(kind="manual"),
                name="criterion_one_computed_kind",
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["progress", "punctuality", "satisfaction", "peer", "manual"]),
                name="criterion_kind_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def computed(self) -> bool:
        return self.kind != self.Kind.MANUAL


class EvaluationScore(models.Model):
    """A party's score (0–100) on one criterion. Computed criteria are written once, when the
    round closes, with what they were computed from (`inputs`); manual ones are entered by the
    coordinator with a note. None: nothing to measure (no votes, no report due)."""

    criterion = models.ForeignKey(
        EvaluationCriterion, models.CASCADE, related_name="scores", verbose_name="考核指标"
    )
    unit = models.ForeignKey(
        LeadUnit,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluation_scores",
        verbose_name="牵头单位",
    )
    street = models.ForeignKey(
        Street,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluation_scores",
        verbose_name="街镇",
    )
    score = models.DecimalField("得分", max_digits=6, decimal_places=2, null=True, blank=True)
    inputs = models.JSONField("计算依据", default=dict, blank=True)
    note = models.TextField("评分说明", blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="录入人",
    )
    entered_at = models.DateTimeField("录入时间", default=timezone.now)

    class Meta:
        verbose_name = "考核得分"
        verbose_name_plural = "考核得分"
        ordering = ["criterion", "unit__order", "street__order"]
        constraints = [
            models.CheckConstraint(condition=_one_of("unit", "street"), name="score_one_party"),
            models.UniqueConstraint(
                fields=["criterion", "unit"],
                condition=Q(unit__isnull=False),
                name="score_once_per_unit",
            ),
            models.UniqueConstraint(
                fields=["criterion", "street"],
                condition=Q(street__isnull=False),
                name="score_once_per_street",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="score_between_0_and_100",
            ),
        ]

    def __str__(self):
        return f"{self.criterion} · {self.unit or self.street}"

    @property
    def party(self):
        return self.unit or self.street


class PeerReview(models.Model):
    """One party's rating of another in a round (互评): lead units and streets rate each
    other, never themselves, once per pair, changeable until the round closes.

    Who rated whom is for the coordinating office alone (the admin's 互评 list); the rated
    party, the public pages and the export see means and counts only
    (livelihood/evaluation/services.py).
    """

    class Grade(models.IntegerChoices):
        EXCELLENT = 100, "优秀"
        GOOD = 80, "良好"
        FAIR = 60, "一般"
        POOR = 40, "较差"

    round = models.ForeignKey(
        EvaluationRound, models.CASCADE, related_name="peer_reviews", verbose_name="考核轮次"
    )
    rater_unit = models.ForeignKey(
        LeadUnit, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="评价单位"
    )
    rater_street = models.ForeignKey(
        Street, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="评价街镇"
    )
    ratee_unit = models.ForeignKey(
        LeadUnit, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="被评单位"
    )
    ratee_street = models.ForeignKey(
        Street, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="被评街镇"
    )
    grade = models.PositiveSmallIntegerField("评价", choices=Grade.choices)
    comment = models.TextField("意见建议", max_length=500, blank=True)
    created_at = models.DateTimeField("评价时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    class Meta:
        verbose_name = "互评"
        verbose_name_plural = "互评"
        ordering = ["round", "pk"]
        permissions = [("rate_peers", "参加互评")]
        constraints = [
            models.CheckConstraint(
                condition=_one_of("rater_unit", "rater_street"), name="peer_one_rater"
            ),
            models.CheckConstraint(
                condition=_one_of("ratee_unit", "ratee_street"), name="peer_one_ratee"
            ),
            models.CheckConstraint(
                condition=Q(rater_unit__isnull=True) | ~Q(rater_unit=models.F("ratee_unit")),
                name="peer_unit_not_itself",
            ),
            models.CheckConstraint(
                condition=Q(rater_street__isnull=True) | ~Q(rater_street=models.F("ratee_street")),
                name="peer_street_not_itself",
            ),
            models.CheckConstraint(
                condition=Q(grade__in=[100, 80, 60, 40]), name="peer_grade_valid"
            ),
            *(
                models.UniqueConstraint(
                    fields=["round", rater, ratee],
                    condition=Q(**{f"{rater}__isnull": False, f"{ratee}__isnull": False}),
                    name=f"peer_once_{rater}_{ratee}",
                )
                for rater in ("rater_unit", "rater_street")
                for ratee in ("ratee_unit", "ratee_street")
            ),
        ]

    def __str__(self):
        return f"{self.round} 互评"

    @property
    def ratee(self):
        return self.ratee_unit or self.ratee_street


class Feedback(models.Model):
    """A resident's message about an item, and the lead unit's answer.

    pending ──publish──▶ published (public, routed to the item's lead unit) ──answer──▶ answered
       └──────reject (with a reason)──▶ rejected (never public)

    Publishing sets the answer deadline (`due_on`: FEEDBACK_ANSWER_WORKING_DAYS working days
    later, livelihood/voice/services.py). `contact` is for the coordinating office alone: never
    shown on a
    public page, to a lead unit, in an export or in the history (excluded from it). `name` is
    shown only when the resident ticked `show_name`.
    """

    class State(models.TextChoices):
        PENDING = "pending", "待审核"
        PUBLISHED = "published", "已公开"
        REJECTED = "rejected", "不予公开"

    class RejectReason(models.TextChoices):
        OFF_TOPIC = "off_topic", "与本事项无关"
        PERSONAL = "personal", "含有个人隐私信息"
        ABUSIVE = "abusive", "含有不文明或攻击性内容"
        SPAM = "spam", "广告或无意义内容"
        DUPLICATE = "duplicate", "重复留言"
        OTHER = "other", "其他"

    item = models.ForeignKey(Item, models.CASCADE, related_name="feedback", verbose_name="事项")
    message = models.TextField("留言内容", max_length=500)
    name = models.CharField("称呼", max_length=20, blank=True)
    show_name = models.BooleanField("同意公开称呼", default=False)
    contact = models.CharField(
        "联系方式",
        max_length=50,
        blank=True,
        help_text="仅区民生办可见，不公开、不导出、不交牵头单位。",
    )
    state = models.CharField(
        "状态", max_length=12, choices=State.choices, default=State.PENDING, db_index=True
    )
    received_at = models.DateTimeField("提交时间", default=timezone.now)
    moderated_at = models.DateTimeField("审核时间", null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    reject_reason = models.CharField(
        "不予公开的原因", max_length=12, choices=RejectReason.choices, blank=True
    )
    reject_note = models.CharField("处理说明", max_length=200, blank=True)
    published_at = models.DateTimeField("公开时间", null=True, blank=True)
    due_on = models.DateField(
        "答复期限",
        null=True,
        blank=True,
        help_text="公开后按工作日计算，逾期未答复的在填报一览中标出。",
    )
    answer = models.TextField("答复内容", max_length=2000, blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="答复人",
    )

    history = HistoricalRecords(
        verbose_name="居民留言历史",
        verbose_name_plural="居民留言历史",
        excluded_fields=["contact"],
    )

    class Meta:
        verbose_name = "居民留言"
        verbose_name_plural = "居民留言"
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["item", "state", "published_at"], name="feedback_item_published"),
            models.Index(fields=["state", "due_on"], name="feedback_state_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "published", "rejected"]),
                name="feedback_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(reject_reason=""),
                name="feedback_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(state="published")
                | Q(published_at__isnull=False, due_on__isnull=False),
                name="feedback_published_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(answer="") | Q(answered_at__isnull=False),
                name="feedback_answer_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.item.code} 留言 {timezone.localtime(self.received_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("livelihood:item-messages", args=[self.item.plan.year, self.item.code])

    @property
    def public_name(self) -> str:
        """What a public page and a lead unit call the resident."""
        return self.name if self.show_name and self.name else "匿名居民"

    @property
    def is_public(self) -> bool:
        return self.state == self.State.PUBLISHED

    @property
    def answered_on(self) -> datetime.date | None:
        return None if self.answered_at is None else timezone.localdate(self.answered_at)

    @property
    def answered_late(self) -> bool:
        return (
            self.answered_on is not None
            and self.due_on is not None
            and (self.answered_on > self.due_on)
        )

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        """Published, not answered, and the deadline has passed."""
        today = today or timezone.localdate()
        return (
            self.state == self.State.PUBLISHED
            and self.answered_at is None
            and self.due_on is not None
            and self.due_on < today
        )


class PublicityMonth(models.Model):
    """A month of the plan's publicity: its theme (一月一主题), whether it is the half-year's
    concentrated publicity month (集中宣传月), and the items it features. Shown on the public
    calendar and, in its month, on the home page."""

    plan = models.ForeignKey(
        Plan, models.CASCADE, related_name="publicity_months", verbose_name="年度计划"
    )
    month = models.DateField("月份", help_text="取当月1日；应在计划年度内。")
    theme = models.CharField("宣传主题", max_length=100)
    summary = models.TextField("内容简介", max_length=1000, blank=True)
    campaign = models.BooleanField(
        "集中宣传月", default=False, help_text="每半年设一个集中宣传月。"
    )
    half = models.PositiveSmallIntegerField("半年", editable=False, default=1)
    items = models.ManyToManyField(
        Item, blank=True, related_name="publicity_months", verbose_name="重点宣传事项"
    )

    objects = NaturalKeyManager("plan__year", "month")

    class Meta:
        verbose_name = "宣传月历"
        verbose_name_plural = "宣传月历"
        ordering = ["plan", "month"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], name="publicity_one_theme_per_month"),
            models.UniqueConstraint(
                fields=["plan", "half"],
                condition=Q(campaign=True),
                name="publicity_one_campaign_per_half_year",
            ),
            models.CheckConstraint(condition=Q(half__in=[1, 2]), name="publicity_half_valid"),
        ]

    def __str__(self):
        return f"{self.month:%Y年%-m月} {self.theme}"

    def save(self, *args, **kwargs):
        self.month = first_of_month(self.month)
        self.half = 1 if self.month.month <= 6 else 2
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("livelihood:publicity", args=[self.plan.year]) + f"#m{self.month.month}"

    def natural_key(self):
        return (*self.plan.natural_key(), self.month)

    natural_key.dependencies = ["livelihood.plan", "livelihood.item"]

    def clean(self):
        if self.month is None or self.plan_id is None:
            return
        if self.month.year != self.plan.year:
            raise ValidationError({"month": f"月份应在{self.plan.year}年内。"})
        if self.campaign:
            half = 1 if self.month.month <= 6 else 2
            others = PublicityMonth.objects.filter(plan_id=self.plan_id, campaign=True).exclude(
                pk=self.pk
            )
            clash = next((m for m in others if (1 if m.month.month <= 6 else 2) == half), None)
            if clash is not None:
                name = "上半年" if half == 1 else "下半年"
                raise ValidationError(
                    {"campaign": f"{name}已有集中宣传月（{clash.month:%-m月}），每半年只设一个。"}
                )
