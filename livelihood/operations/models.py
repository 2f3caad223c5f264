"""
The publication version: the number cached public pages are keyed on.
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

    class Meta:
        verbose_name = "公开数据版本"
        verbose_name_plural = "公开数据版本"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="publication_version_single_row"),
        ]

    def __str__(self):
        return f"第 {self.counter} 版（{timezone.localtime(self.changed_at):%Y-%m-%d %H:%M:%S}）"
