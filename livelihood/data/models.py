"""
A spreadsheet held between the preview of an import and its confirmation.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from livelihood.plan.models import LeadUnit, Plan


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
