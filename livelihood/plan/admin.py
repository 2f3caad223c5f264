"""
The plan's admin: the coordinating office manages plans, domains, lead units, streets, items,
indicators and their monthly plans (reports, figures and milestones: reporting/admin.py).

Progress columns read `Item.snapshot`, computed by progress.py from `with_progress()`, the same
path the public pages take. Lead-unit staff see and change their own unit's items,
indicators, reports, figures and milestones only, on every path (livelihood/accounts/scope.py);
those admins keep each row's history (django-simple-history).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.forms.models import BaseInlineFormSet

from livelihood.accounts.scope import (
    UnitScopedAdmin,
    UnitScopedInline,
    confine,
)
from livelihood.data.admin import (
    PlanImportAdmin,
)
from livelihood.fields import ChoicesByKeyField
from livelihood.plan import services as plans
from livelihood.plan.models import (
    Domain,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    Plan,
    PlannedValue,
    Street,
)
from livelihood.progress import arithmetic as progress
from livelihood.progress.selectors import items_rollup
from livelihood.reporting import services
from livelihood.reporting.models import MonthlyReport
from livelihood.snapshots.admin import WritesSnapshot

confine(Item, "lead_unit")
confine(Indicator, "item__lead_unit")
confine(PlannedValue, "indicator__item__lead_unit")
confine(Milestone, "item__lead_unit")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class KeepsApprovedData:
    """A plan, an item or an indicator that approved reports hang on is not deleted: the
    deletion would take published figures with it (the foreign keys cascade, so that the
    demo and the scale data can be removed by their commands). Refused on the delete page,
    by URL and in bulk actions, judged on the database when the deletion happens."""

    approved_lookup = ""  # from MonthlyReport to this model, e.g. "item"

    def _carries_approved(self, objs) -> bool:
        return MonthlyReport.objects.filter(
            state=MonthlyReport.State.APPROVED,
            **{f"{self.approved_lookup}__in": [obj.pk for obj in objs]},
        ).exists()

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and not (obj is not None and self._carries_approved([obj]))

    def _refuse_if_approved(self, objs):
        if self._carries_approved(objs):
            raise PermissionDenied(
                f"所选{self.model._meta.verbose_name}已有审核公开的月度数据，不能删除；"
                "如需调整，请修改而不是删除。"
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._refuse_if_approved([obj])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            self._refuse_if_approved(list(queryset))
            super().delete_queryset(request, queryset)


@admin.register(Plan)
class PlanAdmin(WritesSnapshot, KeepsApprovedData, admin.ModelAdmin):
    """Plans, and next year's: "复制为下一年度计划" starts a draft from the selected plan
    (plans.plan_copy); the draft is invisible to residents until 已发布 is ticked (or the
    publish action runs)."""

    approved_lookup = "item__plan"
    inlines = [DomainInline]
    list_display = [
        "year",
        "title",
        "published",
        "document_number",
        "issued_on",
        "item_count",
        "overall_progress",
    ]
    list_filter = ["published"]
    actions = ["copy_to_next_year", "publish"]

    def get_changeform_initial_data(self, request):
        # A plan added by hand starts as a draft, as a copied one does.
        return {"published": False} | super().get_changeform_initial_data(request)

    @admin.action(description="复制为下一年度计划（草稿）", permissions=["add"])
    def copy_to_next_year(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个年度计划进行复制。", messages.ERROR)
            return
        source = queryset.get()
        try:
            copy = plans.plan_copy(source_year=source.year, target_year=source.year + 1)
        except plans.PlanCopyError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            f"已将{source.year}年度计划复制为{copy.year}年度计划草稿（{copy.items.count()} 项事项，"
            "不含任何填报数据）。草稿不在公开页面显示；请核对事项和目标、修改文号和印发日期后发布。",
            messages.SUCCESS,
        )

    @admin.action(description="发布所选计划（在公开页面显示）", permissions=["change"])
    def publish(self, request, queryset):
        count = 0
        for plan in queryset.filter(published=False):
            plan.published = True
            plan.save(update_fields=["published"])
            count += 1
        self.message_user(request, f"已发布 {count} 个年度计划。", messages.SUCCESS)

    @admin.display(description="已录入/文件所列")
    def item_count(self, obj):
        return f"{obj.items.count()}/{obj.declared_item_count}"

    @admin.display(description="总体进度")
    def overall_progress(self, obj):
        items = obj.items.with_progress()
        return items_rollup(items).progress_display


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan"]
    list_filter = ["plan"]


@admin.register(LeadUnit)
class LeadUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "provisional", "order"]
    list_filter = ["provisional"]
    search_fields = ["name", "code"]


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "order"]


class LockedRowsFormSet(BaseInlineFormSet):
    """An inline that refuses to change or delete a row an approved report carries (a
    milestone it marked done, an indicator with approved figures): the report is locked."""

    def clean(self):
        super().clean()
        for form in self.forms:
            row = form.instance
            if row.pk is None or not (form.has_changed() or self._should_delete_form(form)):
                continue
            if self.locked(row):
                form.add_error(None, services.LOCKED_MESSAGE)

    def locked(self, row) -> bool:
        if isinstance(row, Indicator):
            return row.figures.filter(report__state=MonthlyReport.State.APPROVED).exists()
        return services.is_locked(type(row)._default_manager.get(pk=row.pk))


class IndicatorInline(UnitScopedInline):
    model = Indicator
    formset = LockedRowsFormSet
    extra = 0
    fields = [
        "number",
        "name",
        "kind",
        "comparator",
        "target",
        "unit",
        "unit_inferred",
        "weight",
        "has_street_breakdown",
    ]


class MilestoneInline(UnitScopedInline):
    model = Milestone
    formset = LockedRowsFormSet
    extra = 0
    fields = ["number", "title", "planned_on", "done_on", "reported_in"]
    # Marked done in the monthly report form only (services.report_save).
    readonly_fields = ["done_on", "reported_in"]


@admin.register(Item)
class ItemAdmin(WritesSnapshot, KeepsApprovedData, PlanImportAdmin, UnitScopedAdmin):
    unit_path = "lead_unit"
    approved_lookup = "item"
    inlines = [IndicatorInline, MilestoneInline]
    list_display = [
        "code",
        "title",
        "domain",
        "lead_unit",
        "progress_column",
        "expected_column",
        "status_column",
        "overdue_column",
    ]
    list_filter = ["plan", "domain__name", ("lead_unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "title"]
    filter_horizontal = ["partner_units"]
    formfield_overrides = {models.ManyToManyField: {"form_class": ChoicesByKeyField}}
    list_select_related = ["domain", "lead_unit"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_progress()

    @admin.display(description="进度")
    def progress_column(self, obj):
        return obj.snapshot.progress_display

    @admin.display(description="序时进度")
    def expected_column(self, obj):
        return obj.snapshot.expected_display

    @admin.display(description="状态")
    def status_column(self, obj):
        return obj.status.label

    @admin.display(description="逾期未报", boolean=True)
    def overdue_column(self, obj):
        return obj.overdue


class PlannedValueInline(UnitScopedInline):
    model = PlannedValue
    extra = 0


@admin.register(PlannedValue)
class PlannedValueAdmin(WritesSnapshot, UnitScopedAdmin):
    unit_path = "indicator__item__lead_unit"
    list_display = ["indicator", "month", "value"]
    list_select_related = ["indicator__item"]


@admin.register(Indicator)
class IndicatorAdmin(WritesSnapshot, KeepsApprovedData, UnitScopedAdmin):
    unit_path = "item__lead_unit"
    approved_lookup = "figures__indicator"
    inlines = [PlannedValueInline]
    list_display = ["__str__", "kind", "target_column", "latest_column"]
    list_filter = ["kind", "item__plan"]
    search_fields = ["name", "item__code", "item__title"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item").with_latest()

    @admin.display(description="目标")
    def target_column(self, obj):
        return obj.target_display

    @admin.display(description="最新已审核数值")
    def latest_column(self, obj):
        return progress.format_value(obj.latest_value, obj.unit)
