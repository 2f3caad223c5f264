"""
The monthly report in the admin: the report form (the change view), opening a month (the add
view), the reporting board and the review queue. Every write goes through services.py.

Confinement: the report comes from the admin's own scoped `get_queryset()` (a lead-unit user
reaches their unit's reports only, anything else is "not found"), items from `scoped_items()`,
and the board of a lead-unit user is their unit's board whatever the query string says.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from livelihood.accounts.scope import (
    RecordAdminMixin,
    RelatedRowsFilter,
    RevertRefused,
    UnitScopedAdmin,
    confine,
    user_is_unscoped,
    user_unit,
)
from livelihood.data.admin import FigureImportAdmin
from livelihood.plan.models import Domain, Item, LeadUnit, Milestone, Plan
from livelihood.progress import arithmetic as progress
from livelihood.progress.selectors import plan_months
from livelihood.reporting import board, services
from livelihood.reporting.figures import FigureInput, projected_snapshot
from livelihood.reporting.forms import (
    DecisionForm,
    OpenReportForm,
    ReportForm,
    default_month,
    figure_formset,
)
from livelihood.reporting.models import Figure, MonthlyReport, ReminderLog
from livelihood.snapshots.admin import WritesSnapshot
from livelihood.voice import services as voice

State = MonthlyReport.State


confine(MonthlyReport, "item__lead_unit")
confine(Figure, "report__item__lead_unit")


def scoped_items(request):
    """The items this user may report on: all for the office, their unit's for a clerk."""
    items = Item.objects.select_related("plan", "domain", "lead_unit").order_by(
        "plan", "domain__number", "order", "code"
    )
    if user_is_unscoped(request):
        return items
    unit = user_unit(request)
    return items.filter(lead_unit=unit) if unit is not None else items.none()


class ReportWorkflowAdmin:
    """Mixed into MonthlyReportAdmin (a UnitScopedAdmin) in admin.py."""

    change_form_template = "admin/livelihood/monthlyreport/report_form.html"

    # --------------------------------------------------------------------------
    # URLs
    # --------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("board/", wrap(self.board_view), name=f"{prefix}_board"),
            path("review/", wrap(self.review_view), name=f"{prefix}_review"),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(f"admin:livelihood_monthlyreport_{name}", args=args)

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "board_url": self._url("board"),
            "review_url": self._url("review"),
            **extra,
        }

    # --------------------------------------------------------------------------
    # Open a month (the add view)
    # --------------------------------------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        items = scoped_items(request)
        today = timezone.localdate()
        plans = Plan.objects.filter(items__in=items).distinct()
        months = sorted({m for plan in plans for m in plan_months(plan, today)}, reverse=True)
        if request.method == "POST":
            form = OpenReportForm(request.POST, items=items, months=months)
            if form.is_valid():
                try:
                    report = services.report_open(
                        item=form.cleaned_data["item"],
                        month=form.cleaned_data["month"],
                        user=request.user,
                    )
                except services.TransitionError as error:
                    messages.error(request, error.message)
                else:
                    return HttpResponseRedirect(self._url("change", report.pk))
        else:
            initial = {"month": f"{default_month(today):%Y-%m}"}
            if request.GET.get("month"):
                initial["month"] = request.GET["month"]
            if request.GET.get("item"):
                initial["item"] = request.GET["item"]
            form = OpenReportForm(initial=initial, items=items, months=months)
        context = self._context(
            request,
            title="填报月度报告",
            form=form,
            has_items=items.exists(),
        )
        return TemplateResponse(request, "admin/livelihood/monthlyreport/report_open.html", context)

    # --------------------------------------------------------------------------
    # The report form (the change view)
    # --------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, unquote(object_id))
        if report is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, report):
            raise PermissionDenied
        user = request.user
        can_change = self.has_change_permission(request, report)
        coordinator = services.is_coordinator(user)
        editable_states = (State.DRAFT, State.RETURNED) + (
            (State.SUBMITTED,) if coordinator else ()
        )
        editable = (
            can_change and services.may_enter(user, report.item) and report.state in editable_states
        )
        decidable = can_change and coordinator
        form = ReportForm(report=report, disabled=not editable)
        figures = figure_formset(report, disabled=not editable)
        decision = DecisionForm(initial={"version": report.version})
        snapshot = None

        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            action = request.POST.get("action", "")
            if action in ("save", "submit"):
                if not editable:
                    messages.error(request, self._not_editable_message(report))
                    return HttpResponseRedirect(request.path)
                form = ReportForm(request.POST, report=report)
                figures = figure_formset(report, request.POST)
                response = self._save(request, report, form, figures, submit=action == "submit")
                if response is not None:
                    return response
            elif action in ("approve", "return", "reopen"):
                if not decidable:
                    raise PermissionDenied
                decision = DecisionForm(request.POST)
                response = self._decide(request, report, decision, action)
                if response is not None:
                    return response
            else:
                messages.error(request, "未识别的操作，请使用页面上的按钮。")
        if snapshot is None:
            try:
                snapshot = projected_snapshot(report)
            except Item.DoesNotExist:  # pragma: no cover - the item was deleted meanwhile
                snapshot = None
        # The stored row as it is now, with the item and its unit the page shows.
        report.refresh_from_db(
            from_queryset=MonthlyReport.objects.select_related("item__lead_unit")
        )
        context = self._context(
            request,
            title=f"{report.item.code} {report.item.title} · {report.month:%Y年%-m月}",
            subtitle=None,
            original=report,
            report=report,
            item=report.item,
            form=form,
            figures=figures,
            figure_rows=figures.forms,
            decision=decision,
            editable=editable,
            decidable=decidable,
            coordinator=coordinator,
            snapshot=snapshot,
            status_label=snapshot.status.label if snapshot else "",
            is_behind=bool(snapshot and snapshot.status == progress.Status.BEHIND),
            saved=request.GET.get("saved") == "1",
            draft_key=f"report-draft:{user.pk}:{report.pk}",
            has_scaled_units=any(f.scale != 1 for f in figures.forms),
            has_figures=report.figures.exists(),
            saved_by=services.user_label(report.updated_by) if report.updated_by else "系统",
            history_url=self._url("history", report.pk),
            due=progress.due_date(report.month, settings.REPORT_DUE_DAY),
        )
        return TemplateResponse(request, self.change_form_template, context)

    def _not_editable_message(self, report):
        if report.state == State.APPROVED:
            return services.LOCKED_MESSAGE
        if report.state == State.SUBMITTED:
            return "报告已报送，正在审核，不能修改；如需修改，请联系区民生办退回。"
        return "您没有修改该报告的权限。"

    def _save(self, request, report, form, figures, *, submit):
        valid = form.is_valid() & figures.is_valid()
        if valid and submit:
            form.check_submission(figures.inputs)
            valid = form.is_valid()
        if not valid:
            messages.error(request, "请按页面上的提示修改后再保存。")
            return None
        data = form.cleaned_data
        try:
            with transaction.atomic():
                saved = services.report_save(
                    report=report,
                    user=request.user,
                    version=data["version"],
                    figures=figures.inputs,
                    narrative=data["narrative"],
                    delay_reason=data["delay_reason"],
                    delay_note=data["delay_note"],
                    confidence=data["confidence"] or 0,
                    milestones=form.milestone_updates,
                )
                if submit:
                    services.report_submit(report=saved, user=request.user, version=saved.version)
        except services.TransitionError as error:
            messages.error(request, error.message)
            return None
        if submit:
            messages.success(request, "已提交审核。审核通过后数据将在公开页面显示。")
        else:
            messages.success(request, "草稿已保存。")
        return HttpResponseRedirect(f"{request.path}?saved=1")

    def _decide(self, request, report, decision, action):
        if not decision.is_valid():
            messages.error(request, "请刷新页面后重试。")
            return None
        if action in ("return", "reopen") and not decision.require_reason():
            messages.error(request, "请填写原因。")
            return None
        version = decision.cleaned_data["version"]
        reason = (decision.cleaned_data.get("reason") or "").strip()
        try:
            if action == "approve":
                services.report_approve(report=report, user=request.user, version=version)
                messages.success(request, "已审核通过，数据已在公开页面显示。")
            elif action == "return":
                services.report_return(
                    report=report, user=request.user, reason=reason, version=version
                )
                messages.success(request, "已退回填报单位。")
            else:
                services.report_reopen(
                    report=report, user=request.user, reason=reason, version=version
                )
                messages.success(
                    request, "已重新打开，数据已从公开页面撤下，待填报单位修改后重新报送。"
                )
        except services.TransitionError as error:
            messages.error(request, error.message)
            return None
        if action == "approve" and request.POST.get("next") == "review":
            return HttpResponseRedirect(self._url("review"))
        return HttpResponseRedirect(request.path)

    # --------------------------------------------------------------------------
    # Deleting: never an approved report (checked on the row at the moment of deletion)
    # --------------------------------------------------------------------------
    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state == State.APPROVED:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        try:
            services.report_delete(report=obj, user=request.user)
        except services.TransitionError as error:
            raise PermissionDenied(error.message) from None

    def delete_queryset(self, request, queryset):
        try:
            with transaction.atomic():
                for report in queryset.select_related("item"):
                    services.report_delete(report=report, user=request.user)
        except services.TransitionError as error:
            raise PermissionDenied(error.message) from None

    # --------------------------------------------------------------------------
    # The reporting board
    # --------------------------------------------------------------------------
    def board_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        items = scoped_items(request)
        plans = list(Plan.objects.filter(items__in=items).distinct())
        plan = None
        if request.GET.get("year", "").isdigit():
            plan = next((p for p in plans if p.year == int(request.GET["year"])), None)
        plan = plan or (plans[0] if plans else None)
        unscoped = user_is_unscoped(request)
        rows, months, units, domains = [], [], [], []
        unit = domain = None
        if plan is not None:
            items = items.filter(plan=plan)
            domains = list(Domain.objects.filter(plan=plan))
            units = list(LeadUnit.objects.filter(items__in=items).distinct())
            code = request.GET.get("unit", "")
            if unscoped and code:
                unit = next((u for u in units if u.code == code), None)
                items = items.filter(lead_unit=unit) if unit else items.none()
            number = request.GET.get("domain", "")
            if number.isdigit():
                domain = next((d for d in domains if d.number == int(number)), None)
                items = items.filter(domain=domain) if domain else items.none()
            months = plan_months(plan, today)
            rows = board.grid(items, months, today)
        table = [(item, [(c, self._cell_url(c)) for c in cells]) for item, cells in rows]
        context = self._context(
            request,
            title="填报情况一览",
            plan=plan,
            plans=plans,
            months=months,
            table=table,
            overdue=board.overdue_by_unit(rows),
            feedback_overdue=voice.overdue_by_unit(items, today) if plan else [],
            units=units if unscoped else [],
            domains=domains,
            unit=unit,
            domain=domain,
            unscoped=unscoped,
            legend=board.LABELS.items(),
            due_day=settings.REPORT_DUE_DAY,
            today=today,
        )
        return TemplateResponse(request, "admin/livelihood/monthlyreport/board.html", context)

    def _cell_url(self, cell):
        """A cell opens its report, or the form to start one for that item and month."""
        if cell.report is not None:
            return self._url("change", cell.report.pk)
        query = urlencode({"item": cell.item.pk, "month": f"{cell.month:%Y-%m}"})
        return f"{self._url('add')}?{query}"

    # --------------------------------------------------------------------------
    # The review queue
    # --------------------------------------------------------------------------
    def review_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        reports = (
            self.get_queryset(request)
            .filter(state=State.SUBMITTED)
            .select_related("item__lead_unit", "submitted_by", "updated_by")
            .order_by("submitted_at", "month", "item__code")
        )
        context = self._context(
            request,
            title="待审核的报告",
            reports=[
                (r, self._url("change", r.pk), services.user_label(r.submitted_by)) for r in reports
            ],
            coordinator=services.is_coordinator(request.user),
        )
        return TemplateResponse(request, "admin/livelihood/monthlyreport/review.html", context)


# ------------------------------------------------------------------------------
# The registered admins of reports, figures, milestones and reminders
# ------------------------------------------------------------------------------
class WorkflowRevertMixin:
    """django-simple-history's revert for reports, figures and milestones (on a
    UnitScopedAdmin): an approved report, and the figures and milestones it carries, are
    locked (the current database row decides); a report's text and a figure's value go back
    through the workflow (services.report_save: its state rules, the approval lock and the
    version check apply)."""

    def revert_refusal(self, obj) -> str:
        return services.LOCKED_MESSAGE if services.is_locked(obj) else ""

    def revert_save(self, request, current, record):
        try:
            if isinstance(current, MonthlyReport):
                return services.report_save(
                    report=current,
                    user=request.user,
                    narrative=record.narrative,
                    delay_reason=record.delay_reason,
                    delay_note=record.delay_note,
                    confidence=record.confidence or 0,
                )
            if isinstance(current, Figure):
                services.report_save(
                    report=current.report,
                    user=request.user,
                    figures=[
                        FigureInput(
                            indicator_id=record.indicator_id,
                            street_id=record.street_id,
                            value=record.value,
                            note=record.note,
                        )
                    ],
                )
                return current
            return super().revert_save(request, current, record)
        except services.TransitionError as error:
            raise RevertRefused(error.message) from None


@admin.register(MonthlyReport)
class MonthlyReportAdmin(WritesSnapshot, WorkflowRevertMixin, ReportWorkflowAdmin, UnitScopedAdmin):
    """The change view is the monthly report form and the add view opens a month
    (ReportWorkflowAdmin, above); figures and milestones are entered there, through services."""

    unit_path = "item__lead_unit"
    list_display = ["item", "month", "state", "delay_reason", "is_demo", "reviewed_at"]
    list_filter = [
        "state",
        "is_demo",
        "month",
        ("item__lead_unit", RelatedRowsFilter),
    ]
    search_fields = ["item__code", "item__title"]
    list_select_related = ["item"]
    date_hierarchy = "month"
    readonly_fields = [
        "version",
        "created_at",
        "created_by",
        "submitted_at",
        "submitted_by",
        "reviewed_at",
        "reviewed_by",
        "reopened_at",
        "reopened_by",
    ]


class ReportLockedAdmin(WritesSnapshot, WorkflowRevertMixin, UnitScopedAdmin):
    """Figures and milestones an approved report carries are locked with it: not changed and
    not deleted, judged on the rows as stored (services.ensure_editable) when the write
    happens, for single rows and bulk actions alike."""

    def _locked(self, obj) -> bool:
        return obj is not None and obj.pk is not None and services.is_locked(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._locked(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._locked(obj)

    def _ensure_editable(self, obj):
        try:
            if obj.pk is not None:
                services.ensure_editable(type(obj)._default_manager.get(pk=obj.pk))
            services.ensure_editable(obj)
        except services.TransitionError as error:
            raise PermissionDenied(error.message) from None

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            self._ensure_editable(obj)
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._ensure_editable(obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._ensure_editable(obj)
            super().delete_queryset(request, queryset)


@admin.register(Figure)
class FigureAdmin(FigureImportAdmin, ReportLockedAdmin):
    unit_path = "report__item__lead_unit"
    list_display = ["indicator", "report", "street", "value"]
    list_select_related = ["indicator__item", "report__item", "street"]
    list_filter = ["report__state", ("street", RelatedRowsFilter)]
    # A filtered list would count every figure a second time for its "(N total)"; it offers
    # 显示全部 instead, and the largest table is counted once per page.
    show_full_result_count = False

    def has_add_permission(self, request):
        # Figures are entered in the monthly report form (one page per item and month).
        return False


@admin.register(Milestone)
class MilestoneAdmin(ReportLockedAdmin):
    unit_path = "item__lead_unit"
    list_display = ["item", "title", "planned_on", "done_on", "is_demo"]
    list_select_related = ["item"]
    # Marked done in the monthly report form only (services.report_save).
    readonly_fields = ["done_on", "reported_in"]


@admin.register(ReminderLog)
class ReminderLogAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Reminders sent by `send_reminders`: a record, never typed in (the office reads all; a
    lead unit its own)."""

    list_display = ["date", "unit", "sent_at", "recipients"]
    list_filter = ["date", ("unit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["unit"]
    readonly_fields = ["unit", "date", "sent_at", "recipients", "reports"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_is_unscoped(request):
            return queryset
        unit = user_unit(request)
        return queryset.filter(unit=unit) if unit is not None else queryset.none()
