"""
Confinement of lead-unit staff to their own unit's rows, on every admin path.

`UnitScopedAdmin` is the base of the admins of items, indicators, planned values, reports,
figures, milestones and residents' feedback (livelihood/voice/admin.py). For a lead-unit
user (roles.unit_of) it narrows:

- `get_queryset`: the change list, the change, delete and history views by URL (a foreign
  row is "not found": Django redirects to the admin index), bulk actions (they act on the
  change list's queryset), related-only list filters, raw-id popups and autocomplete (Django's
  AutocompleteJsonView asks the *target* admin's `get_queryset` and `get_search_results`);
- `has_view/change/delete_permission(request, obj)`: the object's current database row, not
  the object in memory, must belong to the unit;
- foreign-key and many-to-many choices in forms and inlines (`formfield_for_*`): a unit
  picks only its own items, indicators and reports, so the unit is never taken from a form;
- django-simple-history's history list and version views, which look rows up by primary
  key without `get_queryset`: they are refused for foreign rows here, and a revert goes
  through the same checks as a change (the reporting admins send reports and figures
  through the workflow's services, so an approved report is never changed by a revert).

The office (roles.is_coordinator) is not narrowed. A staff user with neither a unit nor the
office role sees nothing.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from livelihood.accounts import roles, security

# How each confined model leads to its lead unit: each concern's admin confines its own
# models (confine()) when Django's admin autodiscovery imports it.
UNIT_PATHS: dict = {}


def confine(model, path: str):
    """Confine `model`'s rows to lead units along `path` ("item__lead_unit") on every admin
    path: change lists, choices in forms and inlines, popups, autocomplete, history."""
    UNIT_PATHS[model] = path


_SCOPE = "_livelihood_scope"


class RelatedRowsFilter(admin.RelatedOnlyFieldListFilter):
    """RelatedOnlyFieldListFilter's choices (the related rows among those the user may see:
    a lead unit's own only), asked row by row with EXISTS. Django's asks for the DISTINCT
    values of the whole change list's table, which on the figures (252,000 rows at ten plan
    years) reads every row for a dozen streets; EXISTS stops at the first row of each."""

    def field_choices(self, field, request, model_admin):
        rows = model_admin.get_queryset(request).filter(**{self.field_path: OuterRef("pk")})
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, limit_choices_to=Q(Exists(rows)), ordering=ordering
        )


class RecordAdminMixin:
    """An admin of records the portal writes itself (scores, votes, reminders, uploads, devices):
    listed and read, never added or changed by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RevertRefused(Exception):
    """A version may not be written back; `message` says why, in the admin's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _scope(request):
    """(unscoped, unit) for the request's user, worked out once per request."""
    cached = getattr(request, _SCOPE, None)
    if cached is None or cached[0] != request.user.pk:
        user = request.user
        unscoped = roles.is_coordinator(user)
        cached = (user.pk, unscoped, None if unscoped else roles.unit_of(user), {})
        setattr(request, _SCOPE, cached)
    return cached


def user_unit(request):
    """The lead unit a staff user is confined to, or None for the office and superusers."""
    return _scope(request)[2]


def user_is_unscoped(request) -> bool:
    return _scope(request)[1]


def scope_queryset(request, queryset, path=None):
    """The rows of `queryset` the request's user may see: all for the office, their unit's
    for a lead unit, none for anyone else."""
    if user_is_unscoped(request):
        return queryset
    path = path or UNIT_PATHS.get(queryset.model)
    unit = user_unit(request)
    if path is None:
        return queryset
    if unit is None:
        return queryset.none()
    return queryset.filter(**{path: unit})


def scoped_choices(db_field, unit, kwargs):
    """The rows a unit user may pick in a foreign-key field of its own records."""
    model = db_field.remote_field.model
    queryset = kwargs.get("queryset", model._default_manager.all())
    path = UNIT_PATHS.get(model)
    if path is None:
        return queryset
    return queryset.filter(**{path: unit}) if unit is not None else queryset.none()


class ScopedChoicesMixin:
    """Foreign-key and many-to-many choices limited to the user's unit (admins and inlines)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not user_is_unscoped(request):
            kwargs["queryset"] = scoped_choices(db_field, user_unit(request), kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not user_is_unscoped(request):
            kwargs["queryset"] = scoped_choices(db_field, user_unit(request), kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class UnitScopedInline(ScopedChoicesMixin, admin.TabularInline):
    """An inline whose foreign-key choices are the unit's own."""


class UnitScopedAdmin(ScopedChoicesMixin, SimpleHistoryAdmin):
    """Confines a lead-unit user to rows of their own unit; `unit_path` leads to the unit
    (UNIT_PATHS by default)."""

    unit_path = ""

    def get_unit_path(self):
        return self.unit_path or UNIT_PATHS[self.model]

    def get_queryset(self, request):
        return scope_queryset(request, super().get_queryset(request), self.get_unit_path())

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return scope_queryset(request, queryset, self.get_unit_path()), may_have_duplicates

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not user_is_unscoped(request):
            field = from_field or self.model._meta.pk.attname
            try:
                exists = self.model._default_manager.filter(**{field: object_id}).exists()
            except (ValueError, ValidationError):
                exists = False
            if exists:
                security.access_denied(request, f"其他单位的{self.model._meta.verbose_name}")
        return obj

    def owns(self, request, obj) -> bool:
        """The object's row, as stored now, belongs to the user's unit (always for the
        office; an object not yet saved has no row and is judged by its form)."""
        if obj is None or user_is_unscoped(request):
            return True
        unit = user_unit(request)
        if unit is None or obj.pk is None:
            return unit is not None
        answers = _scope(request)[3]
        key = (self.model, obj.pk)
        if key not in answers:
            answers[key] = self.model._default_manager.filter(
                pk=obj.pk, **{self.get_unit_path(): unit}
            ).exists()
        return answers[key]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.owns(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.owns(request, obj)

    # --------------------------------------------------------------------------
    # History (django-simple-history)
    # --------------------------------------------------------------------------
    def history_view(self, request, object_id, extra_context=None):
        """The list of versions. simple-history falls back to the latest history row of a
        row `get_queryset` hides; a lead unit gets "not found" instead (a deleted row's
        history stays the office's)."""
        if not user_is_unscoped(request) and self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version, and the revert. simple-history looks the version up by primary key
        alone and, on POST, saves whatever the form holds when the user may merely *view*."""
        current = self.get_object(request, unquote(object_id))
        if current is None:
            if not user_is_unscoped(request) or request.method == "POST":
                raise Http404
            return super().history_form_view(request, object_id, version_id, extra_context)
        if request.method == "POST":
            return self.revert(request, current, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_refusal(self, obj) -> str:
        """Why `obj` may not be reverted now, or "" (the reporting admins refuse rows an
        approved report carries: reporting/admin.py, WorkflowRevertMixin)."""
        return ""

    def revert_disabled(self, request, obj=None):
        if super().revert_disabled(request, obj):
            return True
        return not self.has_change_permission(request, obj) or bool(
            obj is not None and self.revert_refusal(obj)
        )

    def revert(self, request, current, version_id):
        history_model = type(current).history.model
        record = get_object_or_404(
            history_model,
            **{self.model._meta.pk.attname: current.pk, "history_id": version_id},
        )
        if not self.has_change_permission(request, current):
            raise PermissionDenied("无权恢复此记录")
        history_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history",
            args=[current.pk],
        )
        refusal = self.revert_refusal(current) or self.revert_refusal(record.instance)
        if refusal:
            security.access_denied(request, "恢复已锁定的记录")
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(history_url)
        try:
            saved = self.revert_save(request, current, record)
        except RevertRefused as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.path)
        if saved is None:
            return HttpResponseRedirect(request.path)
        when = timezone.localtime(record.history_date)
        self.message_user(
            request, f"已将“{saved}”恢复为 {when:%Y-%m-%d %H:%M} 的版本。", messages.SUCCESS
        )
        return HttpResponseRedirect(history_url)

    def revert_save(self, request, current, record):
        """Write the version back through this admin's form and `save_model`, as a change
        would; returns the saved object, or None when the form (shown again with its errors)
        refused it. Raises RevertRefused when the row may not change."""
        form = self.get_form(request, current, change=True)(
            request.POST, request.FILES, instance=current
        )
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                self.message_user(request, f"{label}：{'；'.join(errors)}", messages.ERROR)
            return None
        with transaction.atomic():
            obj = self.save_form(request, form, change=True)
            refusal = self.revert_refusal(obj)
            if refusal:
                raise RevertRefused(refusal)
            self.save_model(request, obj, form, change=True)
            form.save_m2m()
            self.log_change(request, obj, self.construct_change_message(request, form, []))
        return obj
