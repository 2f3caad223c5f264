"""
Staff accounts: which lead unit or street each belongs to, and their authenticator apps.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice


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
        "livelihood.LeadUnit",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属牵头单位",
        help_text="牵头单位和街镇都留空表示区民生办（可查看全部事项）。",
    )
    street = models.ForeignKey(
        "livelihood.Street",
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
