"""
Evaluation in the admin: rounds and their criteria, the results page (where a round is closed,
reopened and published, and exported), manual scores, the frozen scores, and the peer-review
page (互评) where each lead unit and street rates the others.

Rounds, criteria and scores are the coordinating office's: lead units and streets hold no
permission on them. The list of ratings (who rated whom) is the office's alone; a unit or a
street reaches peer review through `rate/` only, which shows and saves the ratings its own
party gave, its party taken from the account, never from the form.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from livelihood.accounts.scope import RecordAdminMixin, user_is_unscoped
from livelihood.evaluation import scoring, workbook
from livelihood.evaluation import services as evaluation
from livelihood.evaluation.models import (
    EvaluationCriterion,
    EvaluationRound,
    EvaluationScore,
    PeerReview,
)
from livelihood.plan.models import LeadUnit, Plan
from livelihood.progress.selectors import month_end_moment

State = EvaluationRound.State


class CriterionInline(admin.TabularInline):
    """Criteria and weights, changed only while the round is open: a closed round's scores
    were computed with them."""

    model = EvaluationCriterion
    extra = 0
    fields = ["order", "name", "kind", "weight", "description"]

    def _open(self, obj):
        return obj is None or obj.is_open

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._open(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._open(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._open(obj)


DEFAULT_CRITERIA = [
    ("推进进度", EvaluationCriterion.Kind.PROGRESS, 40, "对照序时进度，按事项权重汇总"),
    ("按时报送", EvaluationCriterion.Kind.PUNCTUALITY, 10, "应报月度报告中按时报送的比例"),
    ("报告质量", EvaluationCriterion.Kind.MANUAL, 10, "区民生办评定"),
    ("群众满意度", EvaluationCriterion.Kind.SATISFACTION, 20, "满意100、基本满意60、不满意0"),
    ("互评", EvaluationCriterion.Kind.PEER, 10, "优秀100、良好80、一般60、较差40"),
    ("综合评定", EvaluationCriterion.Kind.MANUAL, 10, "区民生办评定"),
]


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(admin.ModelAdmin):
    inlines = [CriterionInline]
    list_display = ["__str__", "state", "cutoff_month", "cutoff_at", "links"]
    list_filter = ["plan", "state"]
    list_select_related = ["plan"]
    fields = [
        "plan",
        "kind",
        "cutoff_month",
        "cutoff_at",
        "note",
        "state",
        "links",
        "closed_at",
        "closed_by",
        "published_at",
        "published_by",
    ]
    always_readonly = ["state", "links", "closed_at", "closed_by", "published_at", "published_by"]

    def get_fields(self, request, obj=None):
        # A new round is open and has no results yet: the record of its steps comes later.
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f not in self.always_readonly]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.is_open:
            return self.always_readonly
        locked = ["plan", "kind", "cutoff_month", "cutoff_at"]
        return locked + (["note"] if obj.is_published else []) + self.always_readonly

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.is_published)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        plan = Plan.objects.first()
        if plan is not None and "plan" not in initial:
            june = plan.last_month.replace(month=6)
            initial |= {
                "plan": plan.pk,
                "kind": EvaluationRound.Kind.MIDYEAR,
                "cutoff_month": june,
                "cutoff_at": month_end_moment(june.replace(month=7)),
            }
        return initial

    def save_related(self, request, form, formsets, change):
        """A new round starts with the usual criteria (the coordinator changes them)."""
        super().save_related(request, form, formsets, change)
        round_ = form.instance
        if not change and not round_.criteria.exists():
            for order, (name, kind, weight, description) in enumerate(DEFAULT_CRITERIA, 1):
                round_.criteria.create(
                    name=name, kind=kind, weight=weight, order=order, description=description
                )
            self.message_user(
                request, "已按常用方案添加考核指标和权重，可在下方修改。", messages.INFO
            )

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return HttpResponseRedirect(self._url("change", obj.pk))
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="结果和操作")
    def links(self, obj):
        if obj is None or obj.pk is None:
            return "保存后可查看"
        pairs = [
            (self._url("results", obj.pk), "考核结果"),
            (self._url("scores", obj.pk), "人工评定"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', pairs)

    # --------------------------------------------------------------------------
    # URLs
    # --------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("<int:pk>/results/", wrap(self.results_view), name=f"{prefix}_results"),
            path("<int:pk>/export/", wrap(self.export_view), name=f"{prefix}_export"),
            path("<int:pk>/scores/", wrap(self.scores_view), name=f"{prefix}_scores"),
            path("<int:pk>/step/", wrap(self.step_view), name=f"{prefix}_step"),
            *super().get_urls(),
        ]

    def _url(self, name, *args):
        return reverse(f"admin:livelihood_evaluationround_{name}", args=args)

    def _round(self, request, pk, *, change=False):
        allowed = (
            self.has_change_permission(request) if change else self.has_view_permission(request)
        )
        if not allowed or not user_is_unscoped(request):
            raise PermissionDenied
        return get_object_or_404(EvaluationRound.objects.select_related("plan"), pk=pk)

    def _context(self, request, round_, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "round": round_,
            "original": round_,
            "change_url": self._url("change", round_.pk),
            "results_url": self._url("results", round_.pk),
            "scores_url": self._url("scores", round_.pk),
            "export_url": self._url("export", round_.pk),
            "step_url": self._url("step", round_.pk),
            **extra,
        }

    # --------------------------------------------------------------------------
    # Results, and the round's steps
    # --------------------------------------------------------------------------
    def results_view(self, request, pk):
        round_ = self._round(request, pk)
        table = scoring.results(round_)
        context = self._context(
            request,
            round_,
            title=f"{round_}结果",
            table=table,
            can_change=self.has_change_permission(request, round_),
            peer_count=round_.peer_reviews.count(),
            public_url=round_.get_absolute_url() if round_.is_published else None,
        )
        return TemplateResponse(request, "admin/livelihood/evaluationround/results.html", context)

    STEPS = {
        "close": (evaluation.round_close, "已结束{round}：互评关闭，按数据计算的得分已固定。"),
        "reopen": (
            evaluation.round_reopen,
            "已重新开放{round}：按数据计算的得分已清除，结束时重新计算。",
        ),
        "publish": (evaluation.round_publish, "已公布{round}：考核结果已在门户网站公开。"),
    }

    def step_view(self, request, pk):
        round_ = self._round(request, pk, change=True)
        if request.method != "POST" or request.POST.get("step") not in self.STEPS:
            return HttpResponseRedirect(self._url("results", pk))
        step, done = self.STEPS[request.POST["step"]]
        try:
            round_ = step(round_=round_, user=request.user)
        except evaluation.EvaluationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done.format(round=round_), messages.SUCCESS)
        return HttpResponseRedirect(self._url("results", pk))

    def export_view(self, request, pk):
        round_ = self._round(request, pk)
        book = workbook.results_workbook(scoring.results(round_))
        response = HttpResponse(
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        name = f"{round_.plan.year}-{round_.kind}-evaluation.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        book.save(response)
        return response

    # --------------------------------------------------------------------------
    # Manual scores
    # --------------------------------------------------------------------------
    def scores_view(self, request, pk):
        round_ = self._round(request, pk)
        criteria = [c for c in round_.criteria.all() if not c.computed]
        units = list(scoring.round_units(round_))
        stored = {
            (s.criterion_id, s.unit_id): s
            for s in EvaluationScore.objects.filter(criterion__in=criteria, unit__isnull=False)
        }
        editable = not round_.is_published and self.has_change_permission(request, round_)
        form = ManualScoresForm(
            request.POST if request.method == "POST" and editable else None,
            criteria=criteria,
            units=units,
            stored=stored,
            disabled=not editable,
        )
        if form.is_bound and form.is_valid():
            changed = 0
            try:
                for criterion, unit, score, note in form.changed_rows():
                    evaluation.manual_score_save(
                        criterion=criterion, unit=unit, score=score, note=note, user=request.user
                    )
                    changed += 1
            except evaluation.EvaluationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"已保存 {changed} 项人工评定。", messages.SUCCESS)
                return HttpResponseRedirect(self._url("scores", pk))
        context = self._context(
            request,
            round_,
            title=f"{round_}人工评定",
            form=form,
            sections=form.sections(),
            editable=editable,
        )
        return TemplateResponse(request, "admin/livelihood/evaluationround/scores.html", context)


class ManualScoresForm(forms.Form):
    """One score (0–100) and one note per unit and manual criterion."""

    def __init__(self, *args, criteria, units, stored, disabled=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria, self.units, self.stored = criteria, units, stored
        for c in criteria:
            for u in units:
                row = stored.get((c.pk, u.pk))
                self.fields[f"s-{c.pk}-{u.pk}"] = forms.DecimalField(
                    label=f"{u.name}得分",
                    required=False,
                    min_value=0,
                    max_value=100,
                    decimal_places=2,
                    initial=row.score if row else None,
                    disabled=disabled,
                    widget=forms.NumberInput(attrs={"step": "0.01", "class": "score-input"}),
                )
                self.fields[f"n-{c.pk}-{u.pk}"] = forms.CharField(
                    label=f"{u.name}评分说明",
                    required=False,
                    max_length=500,
                    initial=row.note if row else "",
                    disabled=disabled,
                    widget=forms.TextInput(attrs={"class": "note-input"}),
                )

    def sections(self):
        return [
            {
                "criterion": c,
                "rows": [
                    (u, self[f"s-{c.pk}-{u.pk}"], self[f"n-{c.pk}-{u.pk}"]) for u in self.units
                ],
            }
            for c in self.criteria
        ]

    def clean(self):
        data = super().clean()
        for c in self.criteria:
            for u in self.units:
                score, note = data.get(f"s-{c.pk}-{u.pk}"), data.get(f"n-{c.pk}-{u.pk}")
                if score is not None and not (note or "").strip():
                    self.add_error(f"n-{c.pk}-{u.pk}", "请填写评分说明。")
        return data

    def changed_rows(self):
        for c in self.criteria:
            for u in self.units:
                keys = (f"s-{c.pk}-{u.pk}", f"n-{c.pk}-{u.pk}")
                if any(k in self.changed_data for k in keys):
                    score = self.cleaned_data[keys[0]]
                    yield c, u, score, self.cleaned_data[keys[1]] or ""


@admin.register(EvaluationScore)
class EvaluationScoreAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The stored scores: computed ones as the round's close wrote them, with their inputs;
    manual ones as entered (on the round's 人工评定 page). Never typed in here."""

    list_display = ["criterion", "round_column", "party_column", "score", "inputs_column", "note"]
    list_filter = ["criterion__round", "criterion__kind"]
    list_select_related = ["criterion__round__plan", "unit", "street"]
    readonly_fields = [
        "criterion",
        "unit",
        "street",
        "score",
        "inputs_column",
        "note",
        "entered_by",
        "entered_at",
    ]
    exclude = ["inputs"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="考核轮次")
    def round_column(self, obj):
        return obj.criterion.round

    @admin.display(description="单位/街镇")
    def party_column(self, obj):
        return obj.party

    @admin.display(description="计算依据")
    def inputs_column(self, obj):
        return "；".join(f"{k}：{'—' if v is None else v}" for k, v in obj.inputs.items())


# ------------------------------------------------------------------------------
# Peer review (互评)
# ------------------------------------------------------------------------------
NO_GRADE = ""
GRADE_CHOICES = [(NO_GRADE, "未评")] + [(str(v), label) for v, label in PeerReview.Grade.choices]


class RatingForm(forms.Form):
    """A grade and an optional comment for each ratee; the rater is not a field."""

    def __init__(self, *args, ratees, given, disabled=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.ratees = ratees
        for ratee in ratees:
            key = _key(ratee)
            row = given.get(ratee)
            self.fields[f"g-{key}"] = forms.ChoiceField(
                label=f"对{ratee.name}的评价",
                choices=GRADE_CHOICES,
                required=False,
                initial=str(row.grade) if row else NO_GRADE,
                disabled=disabled,
            )
            self.fields[f"c-{key}"] = forms.CharField(
                label=f"对{ratee.name}的意见建议",
                required=False,
                max_length=500,
                initial=row.comment if row else "",
                disabled=disabled,
                widget=forms.TextInput(attrs={"class": "note-input"}),
            )

    def rows(self):
        """(group heading or "", ratee, grade field, comment field): units, then streets."""
        rows, last = [], None
        for r in self.ratees:
            group = "牵头单位" if isinstance(r, LeadUnit) else "街镇"
            rows.append(
                (group if group != last else "", r, self[f"g-{_key(r)}"], self[f"c-{_key(r)}"])
            )
            last = group
        return rows

    def ratings(self) -> dict:
        result = {}
        for ratee in self.ratees:
            key = _key(ratee)
            if f"g-{key}" in self.changed_data or f"c-{key}" in self.changed_data:
                grade = self.cleaned_data[f"g-{key}"]
                result[ratee] = (int(grade) if grade else None, self.cleaned_data[f"c-{key}"])
        return result


def _key(party) -> str:
    return f"{'u' if isinstance(party, LeadUnit) else 's'}{party.pk}"


@admin.register(PeerReview)
class PeerReviewAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Every rating with its rater: the coordinating office's view alone (to follow up on a
    party that has not rated, or a rating that looks like retaliation). Ratings are given on
    the `rate/` page, not here."""

    list_display = ["round", "rater_column", "ratee_column", "grade", "comment", "updated_at"]
    list_filter = ["round", "grade"]
    list_select_related = [
        "round__plan",
        "rater_unit",
        "rater_street",
        "ratee_unit",
        "ratee_street",
    ]
    readonly_fields = [
        "round",
        "rater_unit",
        "rater_street",
        "ratee_unit",
        "ratee_street",
        "grade",
        "comment",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if user_is_unscoped(request) else queryset.none()

    def has_module_permission(self, request):
        return user_is_unscoped(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return user_is_unscoped(request) and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="评价方")
    def rater_column(self, obj):
        return obj.rater_unit or obj.rater_street

    @admin.display(description="被评价方")
    def ratee_column(self, obj):
        return obj.ratee

    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("rate/", wrap(self.rate_view), name=f"{prefix}_rate"),
            *super().get_urls(),
        ]

    def rate_view(self, request):
        """The ratings of the user's own unit or street in the open round(s), and, once a
        round has closed, what the party received: its score, the count and the comments,
        without raters."""
        if not request.user.has_perm("livelihood.rate_peers"):
            raise PermissionDenied
        party = scoring.party_of(request.user)
        rounds = list(
            EvaluationRound.objects.filter(plan__published=True)
            .select_related("plan")
            .order_by("-plan__year", "-cutoff_month")
        )
        open_rounds = [r for r in rounds if r.is_open]
        chosen = None
        if party is not None and open_rounds:
            wanted = request.GET.get("round") or request.POST.get("round")
            chosen = next((r for r in open_rounds if str(r.pk) == wanted), open_rounds[0])
        form = None
        if chosen is not None:
            ratees = scoring.ratees(chosen, party)
            given = scoring.own_ratings(chosen, party)
            form = RatingForm(
                request.POST if request.method == "POST" else None, ratees=ratees, given=given
            )
            if form.is_bound and form.is_valid():
                try:
                    changed = evaluation.peer_review_save(
                        round_=chosen, user=request.user, ratings=form.ratings()
                    )
                except evaluation.EvaluationError as error:
                    self.message_user(request, error.message, messages.ERROR)
                else:
                    self.message_user(
                        request,
                        f"已保存（修改 {changed} 项）。本轮结束前可以随时修改。",
                        messages.SUCCESS,
                    )
                    url = reverse("admin:livelihood_peerreview_rate") + f"?round={chosen.pk}"
                    return HttpResponseRedirect(url)
        elif request.method == "POST":
            raise Http404("没有进行中的互评")
        received = []
        if party is not None:
            for r in rounds:
                if not r.is_open and r.criteria.filter(kind="peer").exists():
                    received.append((r, scoring.received(r, party)))
        given_count = sum(1 for *_, grade, _ in form.rows() if grade.value()) if form else 0
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": "互评",
            "party": party,
            "round": chosen,
            "open_rounds": open_rounds,
            "form": form,
            "given_count": given_count,
            "received": received,
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/livelihood/peerreview/rate.html", context)
