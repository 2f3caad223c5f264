"""
The stored progress snapshot: what the progress arithmetic (livelihood/progress/) gave for a
plan when something in it was last published, so that residents' pages read it instead of
computing it again on every request (issue 16).

A plan's snapshot holds two kinds of *view*, each a set of rows per month:

- ``as_of``: the plan measured at data month M with every report approved so far, for each
  month from the plan's first to its data month (数据截至). The current standing is the view at
  the data month; an item's trend is its rows at the months it reported; the summary and
  evaluation measure "as of M".
- ``published``: the plan as residents saw it at the end of month M (only what had been
  approved by then), for every month of the plan year: the month views (/<year>/months/M/).

Per item and view: its progress, 序时进度 and status (judged at the view's data month, so it
does not drift as days pass), and the district totals it was measured on. Per plan, domain,
lead unit and street: their roll-ups. The 逾期未报 flag is not stored: it depends on today and
is read when a page is served (livelihood/snapshots/read.py).

Numbers are stored as the exact decimal strings the arithmetic returned, so that a page read
from the snapshot shows to the last digit what the arithmetic would show.
"""

from django.db import models


class View(models.TextChoices):
    AS_OF = "as_of", "截至某月"
    PUBLISHED = "published", "某月末公布时"


class SnapshotBuild(models.Model):
    """When a plan's snapshot was last written, and its data month then."""

    plan = models.OneToOneField(
        "livelihood.Plan", models.CASCADE, related_name="snapshot_build", verbose_name="年度计划"
    )
    data_month = models.DateField("数据截至", null=True, blank=True)
    built_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = verbose_name_plural = "进度快照"

    def __str__(self):
        return f"{self.plan_id}：{self.built_at:%Y-%m-%d %H:%M}"


class ItemSnapshot(models.Model):
    plan = models.ForeignKey("livelihood.Plan", models.CASCADE, related_name="+")
    item = models.ForeignKey("livelihood.Item", models.CASCADE, related_name="stored_snapshots")
    view = models.CharField(max_length=12, choices=View.choices)
    month = models.DateField()
    # The status at the view's data month, for filtering without decoding `body`.
    status = models.CharField(max_length=12)
    # progress.ItemProgress but the overdue flag, and the district totals shown
    # (livelihood/snapshots/build.py: encode_item).
    body = models.JSONField()

    class Meta:
        verbose_name = verbose_name_plural = "事项进度快照"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "view", "month", "item"], name="item_snapshot_unique"
            )
        ]

    def __str__(self):
        return f"{self.item_id} {self.view} {self.month:%Y-%m}"


class RollupSnapshot(models.Model):
    class Scope(models.TextChoices):
        PLAN = "plan", "全部事项"
        DOMAIN = "domain", "领域"
        UNIT = "unit", "牵头单位"
        STREET = "street", "街镇"

    plan = models.ForeignKey("livelihood.Plan", models.CASCADE, related_name="+")
    view = models.CharField(max_length=12, choices=View.choices)
    month = models.DateField()
    scope = models.CharField(max_length=8, choices=Scope.choices)
    # The domain's, lead unit's or street's id; the plan's for the plan.
    key = models.BigIntegerField()
    # progress.Rollup but the overdue count, with the view's data month and the items counted.
    body = models.JSONField()

    class Meta:
        verbose_name = verbose_name_plural = "汇总进度快照"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "view", "month", "scope", "key"], name="rollup_snapshot_unique"
            )
        ]

    def __str__(self):
        return f"{self.scope} {self.key} {self.view} {self.month:%Y-%m}"
