"""
Evaluation (考核评价): rounds, criteria, frozen scores, peer review (互评).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from livelihood.plan.models import LeadUnit, Plan, Street, first_of_month


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
