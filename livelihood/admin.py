"""
The admin: the coordinating office manages the plan; lead units enter their reports.

Progress columns read `Item.snapshot`, computed by progress.py from `with_progress()`, the same
path the public pages take. Unit staff see their own unit's items, reports, figures and
milestones only (the full per-unit matrix, review workflow and history come with the
reporting issue).
"""

from django.contrib import admin

from . import progress
from .models import (
    Domain,
    Figure,
    Indicator,
    Item,
    LeadUnit,
    Milestone,
    MonthlyReport,
    Plan,
    PlannedValue,
    StaffProfile,
    Street,
)


def user_unit(request):
    """The lead unit a staff user is confined to, or None for the office and superusers."""
    if request.user.is_superuser:
        return None
    profile = getattr(request.user, "staff_profile", None)
    return profile.lead_unit if profile else None


def user_is_unscoped(request) -> bool:
    if request.user.is_superuser:
        return True
    profile = getattr(request.user, "staff_profile", None)
    return profile is not None and profile.lead_unit_id is None


def scoped_choices(db_field, unit, kwargs):
    """The rows a unit user may pick in a foreign-key field of its own records."""
    queryset = kwargs.get("queryset", db_field.remote_field.model._default_manager.all())
    paths = {Item: "lead_unit", MonthlyReport: "item__lead_unit", Indicator: "item__lead_unit"}
    path = paths.get(db_field.remote_field.model)
    return queryset.filter(**{path: unit}) if path else queryset


class UnitScopedAdmin(admin.ModelAdmin):
    """Confines a lead-unit user to rows of their own unit; `unit_path` leads to the unit."""

    unit_path = ""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_is_unscoped(request):
            return queryset
        unit = user_unit(request)
        if unit is None:
            return queryset.none()
        return queryset.filter(**{self.unit_path: unit})

    def _owns(self, request, obj):
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._owns(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._owns(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not user_is_unscoped(request):
            kwargs["queryset"] = scoped_choices(db_field, user_unit(request), kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    inlines = [DomainInline]
    list_display = [
        "year",
        "title",
        "document_number",
        "issued_on",
        "item_count",
        "overall_progress",
    ]

    @admin.display(description="已录入/文件所列")
    def item_count(self, obj):
        return f"{obj.items.count()}/{obj.declared_item_count}"

    @admin.display(description="总体进度")
    def overall_progress(self, obj):
        items = obj.items.with_progress()
        return progress.rollup((i.snapshot, i.weight) for i in items).progress_display


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


class IndicatorInline(admin.TabularInline):
    model = Indicator
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


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["number", "title", "planned_on", "done_on", "reported_in"]


@admin.register(Item)
class ItemAdmin(UnitScopedAdmin):
    unit_path = "lead_unit"
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


class PlannedValueInline(admin.TabularInline):
    model = PlannedValue
    extra = 0


@admin.register(PlannedValue)
class PlannedValueAdmin(UnitScopedAdmin):
    unit_path = "indicator__item__lead_unit"
    list_display = ["indicator", "month", "value"]
    list_select_related = ["indicator__item"]


@admin.register(Indicator)
class IndicatorAdmin(UnitScopedAdmin):
    unit_path = "item__lead_unit"
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


class FigureInline(admin.TabularInline):
    model = Figure
    extra = 0
    fields = ["indicator", "street", "value", "note"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "indicator":
            report_id = request.resolver_match.kwargs.get("object_id")
            queryset = Indicator.objects.select_related("item")
            if report_id:
                queryset = queryset.filter(item__reports__pk=report_id)
            if not user_is_unscoped(request):
                queryset = queryset.filter(item__lead_unit=user_unit(request))
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(MonthlyReport)
class MonthlyReportAdmin(UnitScopedAdmin):
    unit_path = "item__lead_unit"
    inlines = [FigureInline]
    list_display = ["item", "month", "state", "delay_reason", "is_demo", "reviewed_at"]
    list_filter = [
        "state",
        "is_demo",
        "month",
        ("item__lead_unit", admin.RelatedOnlyFieldListFilter),
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


@admin.register(Figure)
class FigureAdmin(UnitScopedAdmin):
    unit_path = "report__item__lead_unit"
    list_display = ["indicator", "report", "street", "value"]
    list_select_related = ["indicator__item", "report__item", "street"]
    list_filter = ["report__state", ("street", admin.RelatedOnlyFieldListFilter)]


@admin.register(Milestone)
class MilestoneAdmin(UnitScopedAdmin):
    unit_path = "item__lead_unit"
    list_display = ["item", "title", "planned_on", "done_on", "is_demo"]
    list_select_related = ["item"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "lead_unit", "is_demo"]
    list_select_related = ["user", "lead_unit"]

    def has_module_permission(self, request):
        return user_is_unscoped(request) and super().has_module_permission(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if user_is_unscoped(request) else queryset.none()
