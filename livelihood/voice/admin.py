"""
Residents' voice and publicity in the admin.

- 居民留言 (Feedback): the office moderates (publish, or not with a reason; it may first
  correct the text) and sees everything, the contact included. A lead unit sees only its own
  items' *published* messages, never the contact nor a name the resident did not ask to show,
  and writes the answer; every write goes through livelihood/voice/services.py. Confined on every
  path
  by UnitScopedAdmin (livelihood/accounts/scope.py); a lead unit's history pages list only the
  published versions, without field-by-field changes (an earlier, uncorrected text could hold
  what the office removed).
- 满意度评价 (SatisfactionVote): the office reads and may delete votes; nobody types them in.
- 宣传月历 (PublicityMonth): the office manages the monthly themes and the 集中宣传月.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from livelihood.accounts.scope import (
    RecordAdminMixin,
    UnitScopedAdmin,
    confine,
    user_is_unscoped,
)
from livelihood.fields import ChoicesByKeyField
from livelihood.plan.models import Item
from livelihood.voice import services as voice
from livelihood.voice.models import Feedback, PublicityMonth, SatisfactionVote

State = Feedback.State


confine(Feedback, "item__lead_unit")


# ------------------------------------------------------------------------------
# Feedback
# ------------------------------------------------------------------------------
class AnswerStateFilter(admin.SimpleListFilter):
    title = "答复情况"
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "待答复（未逾期）"),
            ("overdue", "逾期未答复"),
            ("answered", "已答复"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        published = queryset.filter(state=State.PUBLISHED)
        if self.value() == "waiting":
            return published.filter(answered_at__isnull=True, due_on__gte=today)
        if self.value() == "overdue":
            return queryset.filter(voice.overdue_q(today))
        if self.value() == "answered":
            return published.filter(answered_at__isnull=False)
        return queryset


class ModerationForm(forms.ModelForm):
    """The office's form: the text as it will be published, the decision, the answer."""

    KEEP, PUBLISH, REJECT = "", "publish", "reject"
    decision = forms.ChoiceField(
        label="审核",
        required=False,
        choices=[(KEEP, "不变"), (PUBLISH, "公开并转交牵头单位"), (REJECT, "不予公开")],
        help_text="公开后，牵头单位应在规定的工作日内答复；已公开的留言选择“不予公开”即撤回。",
    )

    class Meta:
        model = Feedback
        fields = [
            "message",
            "name",
            "show_name",
            "contact",
            "reject_reason",
            "reject_note",
            "answer",
        ]

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        state = self.instance.state
        if decision == self.REJECT and not data.get("reject_reason"):
            self.add_error("reject_reason", "不予公开时请选择原因。")
        if data.get("answer") and data.get("answer") != self.initial.get("answer"):
            public_after = decision == self.PUBLISH or (
                state == State.PUBLISHED and decision != self.REJECT
            )
            if not public_after:
                self.add_error("answer", "留言公开后才能答复。")
        return data


class AnswerForm(forms.ModelForm):
    """A lead unit's form: the answer alone."""

    class Meta:
        model = Feedback
        fields = ["answer"]
        widgets = {"answer": forms.Textarea(attrs={"rows": 8, "maxlength": 2000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].required = True
        self.fields["answer"].help_text = "答复保存后立即在事项页面公开，显示在留言下方。"


@admin.register(Feedback)
class FeedbackAdmin(UnitScopedAdmin):
    unit_path = "item__lead_unit"
    list_display = [
        "received_at",
        "item",
        "excerpt",
        "state",
        "answer_column",
        "due_on",
        "unit_column",
    ]
    list_filter = [
        "state",
        AnswerStateFilter,
        ("item__lead_unit", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["message", "item__code", "item__title"]
    list_select_related = ["item__lead_unit", "item__plan"]
    actions = ["publish_selected", "reject_as_spam"]
    OFFICE_READONLY = [
        "item",
        "received_at",
        "state",
        "moderated_at",
        "moderated_by",
        "published_at",
        "due_on",
        "answered_at",
        "answered_by",
    ]
    UNIT_READONLY = ["item", "resident", "message", "published_at", "due_on", "answered_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_is_unscoped(request):
            return queryset
        # Routed to a lead unit once published; until then the office's alone.
        return queryset.filter(state=State.PUBLISHED)

    def has_add_permission(self, request):
        return False  # residents write feedback, on the public site

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ModerationForm if user_is_unscoped(request) else AnswerForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if user_is_unscoped(request):
            return [
                *self.OFFICE_READONLY[:3],
                "message",
                "name",
                "show_name",
                "contact",
                "decision",
                "reject_reason",
                "reject_note",
                *self.OFFICE_READONLY[3:7],
                "answer",
                *self.OFFICE_READONLY[7:],
            ]
        return [*self.UNIT_READONLY[:3], *self.UNIT_READONLY[3:5], "answer", "answered_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.OFFICE_READONLY if user_is_unscoped(request) else self.UNIT_READONLY

    def get_list_display(self, request):
        if user_is_unscoped(request):
            return self.list_display
        return [name for name in self.list_display if name not in ("state", "unit_column")]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not user_is_unscoped(request):
            for name in ("publish_selected", "reject_as_spam", "delete_selected"):
                actions.pop(name, None)
        return actions

    def view_on_site(self, obj):
        """Only a published message is on the site."""
        return obj.get_absolute_url() if obj.is_public else None

    @admin.display(description="留言人")
    def resident(self, obj):
        return obj.public_name

    @admin.display(description="留言")
    def excerpt(self, obj):
        return obj.message if len(obj.message) <= 40 else f"{obj.message[:40]}…"

    @admin.display(description="答复")
    def answer_column(self, obj):
        if obj.state != State.PUBLISHED:
            return "—"
        if obj.answered_at is not None:
            return "已答复（超期）" if obj.answered_late else "已答复"
        return "逾期未答复" if obj.is_overdue() else "待答复"

    @admin.display(description="牵头单位", ordering="item__lead_unit__order")
    def unit_column(self, obj):
        return obj.item.lead_unit.short_name or obj.item.lead_unit.name

    def save_model(self, request, obj, form, change):
        """Through voice.py: publish, reject and answer set their times, users and the
        deadline; the text edits of the office are saved first."""
        data = form.cleaned_data
        answer = data.get("answer", "")
        stored = Feedback.objects.get(pk=obj.pk)
        try:
            with transaction.atomic():
                if user_is_unscoped(request):
                    obj.answer = stored.answer  # written by feedback_answer below
                    super().save_model(request, obj, form, change)
                    if data.get("decision") == ModerationForm.PUBLISH:
                        voice.feedback_publish(feedback=obj, user=request.user)
                    elif data.get("decision") == ModerationForm.REJECT:
                        voice.feedback_reject(
                            feedback=obj,
                            user=request.user,
                            reason=data["reject_reason"],
                            note=data.get("reject_note", ""),
                        )
                if answer and answer != stored.answer:
                    voice.feedback_answer(feedback=obj, user=request.user, answer=answer)
        except voice.FeedbackError as error:
            raise PermissionDenied(error.message) from None
        obj.refresh_from_db()

    # --------------------------------------------------------------------------
    # Bulk moderation (the office)
    # --------------------------------------------------------------------------
    @admin.action(description="公开所选留言并转交牵头单位", permissions=["change"])
    def publish_selected(self, request, queryset):
        if not user_is_unscoped(request):
            raise PermissionDenied
        done = 0
        for feedback in queryset.filter(state=State.PENDING):
            voice.feedback_publish(feedback=feedback, user=request.user)
            done += 1
        self.message_user(request, f"已公开 {done} 条留言。", messages.SUCCESS)

    @admin.action(description="作为广告或无意义内容，不予公开", permissions=["change"])
    def reject_as_spam(self, request, queryset):
        if not user_is_unscoped(request):
            raise PermissionDenied
        done = 0
        for feedback in queryset.filter(state=State.PENDING):
            voice.feedback_reject(
                feedback=feedback, user=request.user, reason=Feedback.RejectReason.SPAM
            )
            done += 1
        self.message_user(request, f"已将 {done} 条留言处理为不予公开。", messages.SUCCESS)

    # --------------------------------------------------------------------------
    # History: a lead unit sees the published versions only, without field changes
    # --------------------------------------------------------------------------
    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        if user_is_unscoped(request):
            return queryset
        return queryset.filter(state=State.PUBLISHED)

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        if user_is_unscoped(request):
            super().set_history_delta_changes(request, historical_records, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not user_is_unscoped(request):
            version = Feedback.history.filter(history_id=version_id).values("id", "state").first()
            if version is None or version["state"] != State.PUBLISHED:
                raise Http404
            if str(version["id"]) != str(object_id):
                raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)


# ------------------------------------------------------------------------------
# Satisfaction votes
# ------------------------------------------------------------------------------
@admin.register(SatisfactionVote)
class SatisfactionVoteAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Read-only: votes come from residents. The office may delete votes it judges forged."""

    list_display = ["item", "month", "rating", "aware", "created_at"]
    list_filter = ["rating", "aware", "month", "item__plan"]
    list_select_related = ["item"]
    search_fields = ["item__code", "item__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["item", "month", "rating", "aware", "created_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if user_is_unscoped(request) else queryset.none()


# ------------------------------------------------------------------------------
# Publicity
# ------------------------------------------------------------------------------
MONTHS = [(number, f"{number}月") for number in range(1, 13)]


class PublicityMonthForm(forms.ModelForm):
    month_number = forms.TypedChoiceField(label="月份", choices=MONTHS, coerce=int)

    class Meta:
        model = PublicityMonth
        fields = ["plan", "month_number", "theme", "summary", "campaign", "items"]
        field_classes = {"items": ChoicesByKeyField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.month:
            self.initial["month_number"] = self.instance.month.month
        if "items" in self.fields:
            self.fields["items"].queryset = Item.objects.select_related("plan").order_by(
                "plan", "domain__number", "order", "code"
            )

    def clean(self):
        data = super().clean()
        plan, number = data.get("plan"), data.get("month_number")
        if plan is not None and number:
            self.instance.month = datetime.date(plan.year, number, 1)
            self.instance.half = 1 if number <= 6 else 2
        items = data.get("items")
        if plan is not None and items is not None:
            foreign = [item for item in items if item.plan_id != plan.pk]
            if foreign:
                self.add_error(
                    "items",
                    "重点宣传事项应属于本年度计划："
                    + "、".join(f"{i.plan.year}年 {i.code}" for i in foreign),
                )
        return data

    def validate_unique(self):
        # The month comes from month_number: Django's unique check would skip it.
        super().validate_unique()
        if self.instance.month and self.instance.plan_id:
            clash = PublicityMonth.objects.filter(
                plan_id=self.instance.plan_id, month=self.instance.month
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("month_number", "该月份已有宣传主题。")


@admin.register(PublicityMonth)
class PublicityMonthAdmin(admin.ModelAdmin):
    form = PublicityMonthForm
    list_display = ["month", "theme", "campaign", "item_count", "plan"]
    list_filter = ["plan", "campaign"]
    search_fields = ["theme", "summary"]
    filter_horizontal = ["items"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plan")

    @admin.display(description="重点宣传事项数")
    def item_count(self, obj):
        return obj.items.count()
