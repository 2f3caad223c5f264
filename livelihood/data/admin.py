"""
Spreadsheet imports in the admin, on django-import-export's ImportMixin: upload → preview (a
dry run of the very import, rolled back) → confirm or cancel.

- Monthly figures (`FigureImportAdmin`, mixed into FigureAdmin): a lead unit's staff import
  their own unit's figures; the unit is the account's, never the form's. The coordinating
  office chooses a unit (or all). The template to fill in is downloaded from the same page.
- The plan (`PlanImportAdmin`, mixed into ItemAdmin): the coordinating office only.

Between preview and confirmation the file is kept in the database (reading.DatabaseStorage),
bound to the account, the unit and the month it was previewed for, with the report versions the
preview saw: the confirmation imports exactly what was previewed, or refuses when a report
changed meanwhile. The row is deleted on confirm and on cancel.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm

from livelihood.accounts.roles import (
    is_coordinator,
    unit_of,
)
from livelihood.accounts.scope import RecordAdminMixin
from livelihood.data import figures, import_templates, reading
from livelihood.data.models import ImportUpload
from livelihood.data.plan_import import PlanResource, plan_import
from livelihood.plan.models import LeadUnit, Plan
from livelihood.plan.parsing import (
    ParseError,
    parse_month,
)
from livelihood.progress.selectors import plan_months

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def default_month(today: datetime.date | None = None) -> datetime.date:
    """The month a clerk most likely reports: the one that just ended (its first day)."""
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


# Reports named in the message after an import; the rest are counted. The preview lists all.
NAMED_REPORTS = 5


def named_reports(reports: list[str]) -> str:
    """The reports an import wrote, for the message after it: "1-1 …（草稿）；1-2 …（草稿）", or
    with more than NAMED_REPORTS, the first of them and how many in all."""
    if len(reports) <= NAMED_REPORTS:
        return "；".join(reports)
    return f"{'；'.join(reports[:NAMED_REPORTS])}等 {len(reports)} 份报告"


def month_choices(user) -> list[tuple[str, str]]:
    """The months of the plans this user reports on that have begun, newest first."""
    plans = Plan.objects.all()
    unit = None if is_coordinator(user) else unit_of(user)
    if unit is not None:
        plans = plans.filter(items__lead_unit=unit).distinct()
    months = sorted({m for plan in plans for m in plan_months(plan)}, reverse=True)
    return [(f"{m:%Y-%m}", figures.month_label(m)) for m in months]


class UploadField(forms.FileField):
    """A file field whose size is checked before anything reads it."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload is not None:
            try:
                reading.check_size(upload.size)
            except reading.ImportFileError as error:
                raise forms.ValidationError(error.message) from None
        return upload


class SpreadsheetImportForm(ImportForm):
    """django-import-export's import form: our file field, the format and resource hidden
    (there is one of each)."""

    import_file = UploadField(
        label="Excel 文件",
        help_text="Excel 工作簿（.xlsx），可用本页下载的模板填写。",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet"
            }
        ),
    )

    def __init__(self, formats, resources, *, user=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(formats, resources, **kwargs)
        self.user = user
        self.fields["format"].widget = forms.HiddenInput()
        self.fields["format"].initial = "0"
        self.fields["format"].required = False

    def clean_format(self):
        return "0"

    @property
    def media(self):
        return forms.Media()


class FigureImportForm(SpreadsheetImportForm):
    month = forms.ChoiceField(label="月份", help_text="文件中的数值所属的月份。")
    unit = forms.ModelChoiceField(
        label="牵头单位",
        queryset=LeadUnit.objects.all(),
        required=False,
        empty_label="全部牵头单位",
        help_text="区民生办可为任一单位导入；留空时按文件中各事项的牵头单位导入。",
    )
    field_order = ["unit", "month", "import_file"]

    def __init__(self, formats, resources, *, user=None, **kwargs):
        super().__init__(formats, resources, user=user, **kwargs)
        choices = month_choices(user)
        self.fields["month"].choices = choices
        likely = f"{default_month():%Y-%m}"
        if any(value == likely for value, _ in choices):
            self.fields["month"].initial = likely
        if not is_coordinator(user):
            # The unit is the account's: not a field a clerk could change.
            del self.fields["unit"]

    def clean_month(self):
        try:
            return parse_month(self.cleaned_data["month"])
        except ParseError as error:
            raise forms.ValidationError(str(error)) from None


class PlanImportForm(SpreadsheetImportForm):
    plan = forms.ModelChoiceField(label="年度计划", queryset=Plan.objects.all(), empty_label=None)
    overwrite_approved = forms.BooleanField(
        label="允许修改已有审核报告的事项",
        required=False,
        help_text="不勾选时，文件若要修改已有审核通过报告的事项（名称、牵头单位、指标、目标等），"
        "整个文件不导入。",
    )
    field_order = ["plan", "import_file", "overwrite_approved"]


class SpreadsheetImportMixin(ImportMixin):
    """The upload → preview → confirm flow shared by both imports."""

    import_template_name = "admin/livelihood/import.html"
    confirm_form_class = ConfirmImportForm
    tmp_storage_class = reading.DatabaseStorage
    skip_admin_log = True
    upload_kind = ""
    import_title = ""

    # Hooks ---------------------------------------------------------------------
    def import_params(self, request, form) -> dict:
        raise NotImplementedError

    def run_import(self, request, params, *, data, file_name, dry_run, versions=None):
        raise NotImplementedError

    def describe(self, params) -> str:
        raise NotImplementedError

    def done_url(self, params) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def import_context(self, request) -> dict:
        return {}

    # django-import-export ---------------------------------------------------------
    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        return {**kwargs, "user": request.user}

    def get_import_form_initial(self, request):
        return {"format": "0", "resource": "0"}

    def _url(self, name):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}")

    def _render(self, request, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "import_url": self._url("import"),
            "process_url": self._url("process_import"),
            "changelist_url": self._url("changelist"),
            "reports_in_sentence": NAMED_REPORTS,
            **self.import_context(request),
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def import_action(self, request, **kwargs):
        """Upload and preview: the import run as a dry run (rolled back), the file kept for
        the confirmation only when the preview found nothing wrong and something to change."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        outcome = confirm_form = params = None
        if request.method == "POST" and form.is_valid():
            params = self.import_params(request, form)
            upload = form.cleaned_data["import_file"]
            try:
                data = reading.read_upload(upload)
            except reading.ImportFileError as error:
                form.add_error("import_file", error.message)
            else:
                outcome = self.run_import(
                    request, params, data=data, file_name=upload.name, dry_run=True
                )
                if outcome.ok and (outcome.count("新增") or outcome.count("修改")):
                    storage = self.get_tmp_storage_class()(read_mode="rb")
                    storage.save(data)
                    ImportUpload.objects.filter(name=storage.name).update(
                        kind=self.upload_kind,
                        user=request.user,
                        unit_id=params.get("unit"),
                        month=params.get("month"),
                        plan_id=params.get("plan"),
                        file_name=upload.name[:255],
                        options={"params": params, "versions": outcome.versions},
                    )
                    confirm_form = self.confirm_form_class(
                        initial={
                            "import_file_name": storage.name,
                            "original_file_name": upload.name,
                            "format": "0",
                            "resource": "0",
                        }
                    )
        return self._render(
            request,
            form=form,
            outcome=outcome,
            confirm_form=confirm_form,
            scope=self.describe(params) if params else "",
            file_name=form.cleaned_data["import_file"].name if outcome else "",
        )

    def process_import(self, request, **kwargs):
        """Confirm (or cancel) what was previewed: the same import, now committed."""
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        name = confirm_form.cleaned_data["import_file_name"] if confirm_form.is_valid() else ""
        upload = ImportUpload.objects.filter(
            name=name, user=request.user, kind=self.upload_kind
        ).first()
        if upload is None:
            messages.error(request, "该导入文件已失效（已确认、已取消或超过一天），请重新上传。")
            return HttpResponseRedirect(self._url("import"))
        if "cancel" in request.POST:
            upload.delete()
            messages.info(request, "已取消导入，上传的文件已删除，数据没有任何改动。")
            return HttpResponseRedirect(self._url("import"))
        params = upload.options.get("params", {})
        try:
            outcome = self.run_import(
                request,
                params,
                data=bytes(upload.data),
                file_name=upload.file_name,
                dry_run=False,
                versions=upload.options.get("versions"),
            )
        finally:
            upload.delete()
        if outcome.ok:
            messages.success(
                request,
                f"已导入“{upload.file_name}”（{self.describe(params)}）：{outcome.summary}。"
                + (f"涉及：{named_reports(outcome.reports)}。" if outcome.reports else ""),
            )
            return HttpResponseRedirect(self.done_url(params))
        return self._render(
            request,
            form=None,
            outcome=outcome,
            confirm_form=None,
            confirm_failed=True,
            scope=self.describe(params),
            file_name=upload.file_name,
        )


class FigureImportAdmin(SpreadsheetImportMixin):
    """Monthly figures from a unit's spreadsheet (FigureAdmin)."""

    import_form_class = FigureImportForm
    resource_classes = [figures.FigureResource]
    import_formats = [reading.SheetFormat]
    upload_kind = "figures"
    import_title = "从 Excel 导入月度数值"

    def has_import_permission(self, request):
        user = request.user
        return super().has_import_permission(request) and (
            is_coordinator(user) or unit_of(user) is not None
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/template/",
                self.admin_site.admin_view(self.template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def _unit(self, request, chosen):
        """The unit an import or a template is for: the account's own for a lead unit
        (whatever was asked), the chosen one (or None: all) for the office."""
        if is_coordinator(request.user):
            return chosen
        own = unit_of(request.user)
        if own is None:
            raise PermissionDenied
        return own

    def import_params(self, request, form):
        unit = self._unit(request, form.cleaned_data.get("unit"))
        return {
            "unit": unit.pk if unit is not None else None,
            "month": f"{form.cleaned_data['month']:%Y-%m-%d}",
        }

    def _params(self, request, params):
        unit_pk = params.get("unit")
        unit = LeadUnit.objects.filter(pk=unit_pk).first() if unit_pk else None
        return self._unit(request, unit), datetime.date.fromisoformat(params["month"])

    def run_import(self, request, params, *, data, file_name, dry_run, versions=None):
        unit, month = self._params(request, params)
        return figures.figures_import(
            data=data,
            file_name=file_name,
            month=month,
            user=request.user,
            unit=unit,
            dry_run=dry_run,
            versions=versions,
        )

    def describe(self, params):
        unit_pk = params.get("unit")
        unit = LeadUnit.objects.filter(pk=unit_pk).first() if unit_pk else None
        month = datetime.date.fromisoformat(params["month"])
        return f"{unit.name if unit else '全部牵头单位'}，{figures.month_label(month)}"

    def done_url(self, params):
        month = datetime.date.fromisoformat(params["month"])
        query = urlencode({"month__year": month.year, "month__month": month.month})
        return f"{reverse('admin:livelihood_monthlyreport_changelist')}?{query}"

    def import_context(self, request):
        coordinator = is_coordinator(request.user)
        return {
            "kind": "figures",
            "template_url": self._url("import_template"),
            "own_unit": None if coordinator else unit_of(request.user),
            "template_units": LeadUnit.objects.all() if coordinator else None,
            "template_months": month_choices(request.user),
            "default_month": f"{default_month():%Y-%m}",
            "max_size": reading.size_label(reading.max_bytes()),
            "max_rows": reading.max_rows(),
        }

    def template_view(self, request):
        """The .xlsx to fill in: the unit's items and indicators for the month."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        chosen = None
        if request.GET.get("unit") and is_coordinator(request.user):
            chosen = LeadUnit.objects.filter(code=request.GET["unit"]).first()
        unit = self._unit(request, chosen)
        try:
            month = parse_month(request.GET.get("month") or f"{default_month():%Y-%m}")
        except ParseError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(self._url("import"))
        plan = Plan.objects.filter(year=month.year).first()
        problem = figures.month_problem(month, plan)
        if problem:
            messages.error(request, problem)
            return HttpResponseRedirect(self._url("import"))
        content = import_templates.figure_template(plan=plan, month=month, unit=unit)
        who = (unit.short_name or unit.name) if unit else "全部单位"
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"民生实事数值填报-{who}-{month:%Y-%m}.xlsx"
        )
        response["Cache-Control"] = "private, no-store"
        return response


class PlanImportAdmin(SpreadsheetImportMixin):
    """Items and indicators of a plan (ItemAdmin): the coordinating office only."""

    import_form_class = PlanImportForm
    resource_classes = [PlanResource]
    import_formats = [reading.PlanSheetFormat]
    upload_kind = "plan"
    import_title = "从 Excel 导入年度计划"

    def has_import_permission(self, request):
        return super().has_import_permission(request) and is_coordinator(request.user)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/template/",
                self.admin_site.admin_view(self.template_view),
                name="{}_{}_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def import_params(self, request, form):
        return {
            "plan": form.cleaned_data["plan"].pk,
            "overwrite_approved": bool(form.cleaned_data.get("overwrite_approved")),
        }

    def run_import(self, request, params, *, data, file_name, dry_run, versions=None):
        return plan_import(
            data=data,
            file_name=file_name,
            plan=Plan.objects.get(pk=params["plan"]),
            user=request.user,
            dry_run=dry_run,
            overwrite_approved=params.get("overwrite_approved", False),
        )

    def describe(self, params):
        plan = Plan.objects.filter(pk=params.get("plan")).first()
        text = plan.title if plan else ""
        if params.get("overwrite_approved"):
            text += "，允许修改已有审核报告的事项"
        return text

    def import_context(self, request):
        return {
            "kind": "plan",
            "template_url": self._url("import_template"),
            "plans": Plan.objects.all(),
            "max_size": reading.size_label(reading.max_bytes()),
            "max_rows": reading.max_rows(),
        }

    def template_view(self, request):
        """The plan as it stands, in the columns the plan import reads."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        plan = Plan.objects.filter(year=request.GET.get("plan") or 0).first() or (
            Plan.objects.first()
        )
        if plan is None:
            messages.error(request, "还没有年度计划。")
            return HttpResponseRedirect(self._url("import"))
        response = HttpResponse(import_templates.plan_template(plan), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"民生实事年度计划-{plan.year}.xlsx"
        )
        response["Cache-Control"] = "private, no-store"
        return response


@admin.register(ImportUpload)
class ImportUploadAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Files waiting between preview and confirmation: the office sees who uploaded what and
    may delete one; nothing is added or changed here. Lead units do not see this list."""

    list_display = ["file_name", "kind", "user", "unit", "month", "created_at", "size"]
    list_select_related = ["user", "unit"]
    fields = ["file_name", "kind", "user", "unit", "month", "plan", "created_at", "size"]
    readonly_fields = fields

    @admin.display(description="大小")
    def size(self, obj):
        return reading.size_label(len(obj.data or b""))

    def _office(self, request):
        return is_coordinator(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).defer("data")
        return queryset if self._office(request) else queryset.none()

    def has_module_permission(self, request):
        return self._office(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._office(request) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._office(request) and super().has_delete_permission(request, obj)
