"""
The plan: its domains, the lead units and streets, its items and their indicators, the
monthly planned values and the milestones.

Targets are stored as the source writes them (1.15 with the unit 万人) together with the
unit's scale (10000), so that the target shown is the target written and the arithmetic is
exact; figures (livelihood/reporting/models.py) are stored in plain units (人, 个, %) as
Decimals.

The other concerns' models build on these, and on `NaturalKeyManager` and `first_of_month`;
these import none of theirs (a milestone names the report that declared it done as
"livelihood.MonthlyReport"). Every model is re-exported by livelihood/models.py.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from livelihood.progress import arithmetic
from livelihood.progress.arithmetic import (
    ItemProgress,
    Status,
)
from livelihood.progress.querysets import (
    IndicatorQuerySet,
    ItemQuerySet,
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
        if self.target is not None and self.target < 0:
            errors["target"] = "目标值不能为负数。"
        elif self.target is not None and arithmetic.out_of_range(self.kind, self.target):
            errors["target"] = "比率目标不能超过 100%。"
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


class Milestone(models.Model):
    item = models.ForeignKey(Item, models.CASCADE, related_name="milestones", verbose_name="事项")
    number = models.PositiveSmallIntegerField("序号", default=1)
    title = models.CharField("节点", max_length=200)
    planned_on = models.DateField("计划完成日期")
    done_on = models.DateField("实际完成日期", null=True, blank=True)
    # PROTECT: the report that declared a milestone done cannot vanish from under it.
    reported_in = models.ForeignKey(
        "livelihood.MonthlyReport",
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
            and self.reported_in.state == self.reported_in.State.APPROVED
        )

    def clean(self):
        if self.reported_in_id and self.item_id and self.reported_in.item_id != self.item_id:
            raise ValidationError({"reported_in": "该报告不属于本节点的事项。"})
