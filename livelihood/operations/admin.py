"""
The publication version in the admin: when residents' pages last changed, and a button that
publishes a new version by hand (every cached public page is then rendered afresh), for a
change the signals cannot see, such as a template edited on the server.

Registered from LivelihoodConfig.ready(); the version's one row is never typed in, so "add"
means "raise the version" and the row itself is read-only.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from livelihood.operations.models import PublicationVersion
from livelihood.operations.publication import (
    SINGLE_ROW,
    publication_bump,
)


@admin.register(PublicationVersion)
class PublicationVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "counter", "changed_at")
    readonly_fields = ("counter", "changed_at")
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
