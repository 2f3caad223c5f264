"""
The publication version in the admin: when residents' pages last changed, and a button that
publishes a new version by hand (every cached public page is then rendered afresh), for a
change the signals cannot see, such as a template edited on the server.

Registered from LivelihoodConfig.ready(); the version's one row is never typed in, so "add"
means "raise the version" and the row itself is read-only.

Also the background tasks' results (django-tasks-db), for the office alone: whether each
reminder mail and page warm-up ran, when, and the error of one that failed. The backend's own
admin shows them to anyone with the view permission, in English; it is replaced here.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from livelihood.accounts.scope import user_is_unscoped
from livelihood.operations.models import PlanVersion, PublicationVersion
from livelihood.operations.publication import (
    SINGLE_ROW,
    publication_bump,
)


@admin.register(PublicationVersion)
class PublicationVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "counter", "changed_at", "site_counter", "site_changed_at")
    readonly_fields = ("counter", "changed_at", "site_counter", "site_changed_at")
    fieldsets = (
        (
            None,
            {
                "fields": (),
                "description": (
                    "保存即发布新版本：所有公开页面的缓存随之失效，下一次访问时重新生成。"
                    "数据的任何修改都会自动发布新版本，"
                    "只有模板等数据以外的改动才需要在这里手动发布。"
                ),
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return ((None, {"fields": self.readonly_fields}),)

    def save_model(self, request, obj, form, change):
        publication_bump()
        obj.pk = SINGLE_ROW

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, "已发布新版本，公开页面将重新生成。")
        return HttpResponseRedirect(reverse("admin:livelihood_publicationversion_changelist"))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    """Each plan year's version: when its pages last changed. Read only: the portal raises it
    on every change within the plan (livelihood/operations/signals.py); "publish by hand"
    above raises the site's, which moves every year's pages."""

    list_display = ("plan", "counter", "changed_at")
    list_select_related = ("plan",)
    readonly_fields = ("plan", "counter", "changed_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

# What each task is, in the office's words; a task not named here shows its function's name.
TASK_LABELS = {
    "send_reminder": "催报邮件",
}


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    """Read only, as the backend's admin (nobody adds, changes or deletes a result:
    `manage.py prune_db_task_results` removes old ones); listed for the office only
    (roles.is_coordinator, holding the view permission through roles.py)."""

    list_display = (
        "task_label",
        "status",
        "enqueued_at",
        "started_at",
        "finished_at",
        "queue_name",
    )
    list_filter = ("status", "queue_name")
    search_fields = ("task_path",)

    def has_module_permission(self, request):
        return user_is_unscoped(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return user_is_unscoped(request) and super().has_view_permission(request, obj)

    @admin.display(description="任务", ordering="task_path")
    def task_label(self, obj):
        return TASK_LABELS.get(obj.task_name, obj.task_name)

    @admin.display(description="错误信息")
    def formatted_traceback(self, obj):
        if not obj.traceback:
            return "-"
        return format_html("<pre>{}</pre>", obj.traceback)

    @admin.display(description="最早执行时间")
    def display_run_after(self, obj):
        return super().display_run_after(obj)
