"""
The coordinating office downloads the monthly summary (livelihood/data/summary.py) for a month it
picks: a small form, then the file, built by the same code as `manage.py export_summary`.

Only the coordinating office may, as livelihood/accounts/roles.py defines it: a superuser, office
staff
whose profile names neither a lead unit nor a street, or a member of the office's group without
a profile. Lead-unit and street staff get 403; a visitor who is not logged in is sent to the
admin login.

`summary_urlpatterns` is meant to be included under the admin's path, ahead of the admin
itself (whose catch-all would otherwise answer first), in yaohai_portal/urls.py:

    path(f"{settings.ADMIN_URL}exports/", include(summary_urlpatterns)),
    path(settings.ADMIN_URL, admin.site.urls),

and the admin index links to `reverse("summary-export")`. tests/urls_summary.py does the same.
"""

import tempfile

from django import forms
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from livelihood.accounts import roles
from livelihood.data import summary, summary_sheets
from livelihood.data.exports import (
    CONTENT_TYPES,
    ExportError,
)
from livelihood.plan.models import Plan


def is_office_staff(user) -> bool:
    """The coordinating office (区民生办), as livelihood/accounts/roles.py defines it, on a staff
    account."""
    return user.is_authenticated and user.is_staff and roles.is_coordinator(user)


class SummaryForm(forms.Form):
    plan = forms.ModelChoiceField(
        Plan.objects.published().order_by("-year"),
        label="年度计划",
        to_field_name="year",
        empty_label=None,
    )
    month = forms.CharField(
        label="数据月份",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2024-06"}),
        help_text=(
            "汇总表“数据截至”该月：统计该月及以前各月已审核公开的数据，与公开网站“数据截至”"
            "该月时一致；默认为网站当前的数据月份。可选计划印发当月至当年12月，"
            "全年情况请选12月（次年也可导出）。格式 YYYY-MM。"
        ),
    )
    format = forms.ChoiceField(
        label="文件格式",
        choices=(
            ("xlsx", "Excel 表格（.xlsx，含各领域汇总和牵头单位排名，可直接打印）"),
            ("csv", "CSV（UTF-8，仅事项明细，便于再加工）"),
        ),
        initial="xlsx",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "：")
        super().__init__(*args, **kwargs)
        # The browser's month picker offers the months of the published plans that have begun.
        today = timezone.localdate()
        ranges = [summary.month_choices(plan, today) for plan in self.fields["plan"].queryset]
        ranges = [(first, last) for first, last in ranges if first <= last]
        if ranges:
            attrs = self.fields["month"].widget.attrs
            attrs["min"] = f"{min(first for first, _ in ranges):%Y-%m}"
            attrs["max"] = f"{max(last for _, last in ranges):%Y-%m}"

    def clean(self):
        data = super().clean()
        if data.get("plan") is None or not data.get("month"):
            return data
        try:
            month = summary.parse_month(data["month"])
            data["summary"] = summary.summary_month(data["plan"], month)
        except ExportError as error:
            self.add_error("month", str(error))
        return data


def _initial() -> dict:
    """The latest plan at its current data month, as its home page's 数据截至 names it."""
    plan = Plan.objects.published().order_by("-year").first()
    if plan is None:
        return {"format": "xlsx"}
    month = summary.default_month(plan)
    return {"plan": plan.year, "month": f"{month:%Y-%m}", "format": "xlsx"}


@never_cache
def summary_export(request):
    """GET without parameters: the form. GET with plan, month and format: the file."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not is_office_staff(request.user):
        raise PermissionDenied("只有区民生办可以导出月度汇总表。")
    form = SummaryForm(request.GET if "month" in request.GET else None, initial=_initial())
    if form.is_bound and form.is_valid():
        return _download(form.cleaned_data["summary"], form.cleaned_data["format"])
    context = {
        **admin.site.each_context(request),
        "title": "导出月度汇总表",
        "form": form,
        "now": timezone.localtime(),
    }
    return render(request, "livelihood/summary_export.html", context)


def _download(chosen: summary.SummaryMonth, fmt: str) -> FileResponse:
    """The file, written whole to a temporary file first: a failure half-way is an error
    page, never half a spreadsheet. The temporary file goes when the response is closed."""
    stream = tempfile.TemporaryFile()
    try:
        summary_sheets.write_summary(stream, fmt, chosen)
        stream.seek(0)
    except BaseException:
        stream.close()
        raise
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"{chosen.filename}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
    )
    return response


summary_urlpatterns = [
    path("summary/", summary_export, name="summary-export"),
]

__all__ = ["SummaryForm", "is_office_staff", "summary_export", "summary_urlpatterns"]
