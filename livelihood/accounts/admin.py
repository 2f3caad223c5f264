"""
Two-factor sign-in in the admin: the login form that asks for the code, and the office's list
of staff devices, where a lost or replaced phone is reset (the row deleted; the person then
signs in with the password alone and enrols the new phone on the 两步验证 page).

django-otp's own device admin is taken off the site: it shows every secret and QR code to a
superuser and lets devices be typed in for someone else. Here nobody adds or changes a device;
the office (roles.is_coordinator, holding the view and delete permissions through roles.py)
only sees who has one and resets it, and every reset is written to the security log.
"""

from django.contrib import admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from livelihood.accounts import roles, two_factor
from livelihood.accounts.models import StaffProfile, TwoFactorDevice
from livelihood.accounts.scope import RecordAdminMixin, user_is_unscoped

admin.site.login_form = two_factor.TwoFactorAuthenticationForm

if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TwoFactorDevice)
class TwoFactorDeviceAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ["user", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    # The secret (key) is never shown here.
    fields = list_display
    readonly_fields = list_display

    def has_module_permission(self, request):
        return roles.is_coordinator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return roles.is_coordinator(request.user) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return roles.is_coordinator(request.user) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        two_factor.log(request, "已由管理员重置（删除设备）", obj.user)

    def delete_queryset(self, request, queryset):
        users = [device.user for device in queryset.select_related("user")]
        super().delete_queryset(request, queryset)
        for user in users:
            two_factor.log(request, "已由管理员重置（删除设备）", user)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "lead_unit", "street", "is_demo"]
    list_select_related = ["user", "lead_unit", "street"]

    def has_module_permission(self, request):
        return user_is_unscoped(request) and super().has_module_permission(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if user_is_unscoped(request) else queryset.none()
