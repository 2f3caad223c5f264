"""
For the admin pages that edit what the progress arithmetic reads (the plan, its items,
indicators, monthly plans and milestones; figures): the stored snapshot of what a save or
deletion changed is written before the admin's transaction commits (build.write_pending).
And the stored rows themselves, read-only.
"""

from django.contrib import admin

from livelihood.snapshots import build
from livelihood.snapshots.models import ItemSnapshot, RollupSnapshot, SnapshotBuild


class WritesSnapshot:
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        build.write_pending()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        build.write_pending()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        build.write_pending()


class _Written(admin.ModelAdmin):
    """Rows the portal writes itself: listed and read, never added or changed by hand (a
    check that finds them wrong is answered by `manage.py rebuild_snapshots`)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SnapshotBuild)
class SnapshotBuildAdmin(_Written):
    list_display = ("plan", "data_month", "built_at")
    list_select_related = ("plan",)


@admin.register(ItemSnapshot)
class ItemSnapshotAdmin(_Written):
    list_display = ("item", "view", "month", "status")
    list_filter = ("view",)
    list_select_related = ("item",)
    show_full_result_count = False


@admin.register(RollupSnapshot)
class RollupSnapshotAdmin(_Written):
    list_display = ("plan", "scope", "key", "view", "month")
    list_filter = ("view", "scope")
    list_select_related = ("plan",)
    show_full_result_count = False
