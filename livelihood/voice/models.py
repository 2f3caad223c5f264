"""
Residents' voice: their satisfaction votes, their messages and the lead units' answers, and
the publicity calendar.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from livelihood.plan.models import Item, NaturalKeyManager, Plan, first_of_month


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
