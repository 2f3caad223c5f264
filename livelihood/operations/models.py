"""
The publication versions: the numbers cached public pages are keyed on.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PublicationVersion(models.Model):
    """One row: a number that changes whenever anything residents can see changes.

    Cached public pages are keyed on it (livelihood/public/cache.py). It lives in the database, not
    in
    a process, so that every app server and every gunicorn worker reads the same number; the
    signals in livelihood/operations/signals.py raise it after each committed change.
    """

    counter = models.PositiveBigIntegerField("版本号", default=0)
    changed_at = models.DateTimeField("变更时间", default=timezone.now)
    # Raised only by a change every page may show: the plans themselves (which are published,
    # their names), lead units, streets, demo data appearing or going. A page of one plan
    # year is keyed on this and its plan's PlanVersion, not on `counter`.
    site_counter = models.PositiveBigIntegerField("全站版本号", default=0)
    site_changed_at = models.DateTimeField("全站变更时间", default=timezone.now)

    class Meta:
        verbose_name = "公开数据版本"
        verbose_name_plural = "公开数据版本"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="publication_version_single_row"),
        ]

    def __str__(self):
        return f"第 {self.counter} 版（{timezone.localtime(self.changed_at):%Y-%m-%d %H:%M:%S}）"


class PlanVersion(models.Model):
    """A number per plan year that changes whenever anything of that plan residents can see
    changes: its items, figures, reports, milestones, evaluation, publicity. The pages under
    /<year>/ are keyed on it (with the site's own), so an approval in this year's plan leaves
    earlier years' cached pages as they are (livelihood/operations/publication.py)."""

    plan = models.OneToOneField(
        "livelihood.Plan",
        on_delete=models.CASCADE,
        related_name="publication_version",
        verbose_name="年度计划",
    )
    counter = models.PositiveBigIntegerField("版本号", default=0)
    changed_at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        verbose_name = "年度计划数据版本"
        verbose_name_plural = "年度计划数据版本"
        ordering = ["-plan__year"]

    def __str__(self):
        when = timezone.localtime(self.changed_at)
        return f"{self.plan} 第 {self.counter} 版（{when:%Y-%m-%d %H:%M:%S}）"
