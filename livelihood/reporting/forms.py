"""
The monthly report form in the admin: one page per item per month.

Figures are entered one row per measured indicator (and one per street where the indicator is
broken down by street). The unit rule: a figure is stored in plain units (人, 个); where the
target is written with 万 or 亿 (1.15万人) the row has a unit choice, set by default to the
unit as written, so that the clerk types what the target shows (1.15 with 万人 is 11500 人) or
switches the row to plain units (11500 with 人). The choice is explicit in every row; nothing
is guessed from the size of the number.
"""

import datetime
import re
from decimal import Decimal

from django import forms
from django.utils import timezone

from livelihood.plan import parsing
from livelihood.plan.models import Street
from livelihood.progress import arithmetic as progress
from livelihood.reporting import services
from livelihood.reporting.figures import (
    FigureInput,
    figure_problems,
    previous_approved,
    projected_snapshot,
)
from livelihood.reporting.models import MonthlyReport

WRITTEN, PLAIN = "written", "plain"
PLAIN_PLACES = Decimal("0.0001")  # Figure.value keeps four decimal places


def parse_number(text: str) -> Decimal:
    """A number as clerks type it: full-width digits, thousands separators and spaces are
    accepted (１，１５０ → 1150), read by the parser the import shares
    (livelihood/plan/parsing.py)."""
    try:
        return parsing.parse_decimal((text or "").replace("。", "."))
    except parsing.ParseError:
        raise forms.ValidationError("请填写数字，例如 1.15 或 11500。") from None


class FigureRowForm(forms.Form):
    """One indicator's district total or one street's figure."""

    indicator = forms.IntegerField(widget=forms.HiddenInput)
    street = forms.IntegerField(widget=forms.HiddenInput, required=False)
    value = forms.CharField(
        label="本月累计数",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}),
    )
    input_unit = forms.ChoiceField(label="填写单位", required=False, choices=())
    note = forms.CharField(
        label="说明",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
    )

    def __init__(self, *args, indicators, streets, previous, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        key = self._raw("indicator")
        self.indicator_obj = indicators.get(_int(key))
        self.street_obj = streets.get(_int(self._raw("street")))
        self.previous = previous.get(
            (self.indicator_obj.pk if self.indicator_obj else None, _int(self._raw("street")))
        )
        unit = self.indicator_obj.unit if self.indicator_obj else ""
        if progress.unit_scale(unit) != 1:
            self.fields["input_unit"].choices = [
                (WRITTEN, unit),
                (PLAIN, progress.plain_unit(unit)),
            ]
            self.fields["input_unit"].initial = WRITTEN
        else:
            self.fields["input_unit"].widget = forms.HiddenInput()
            self.fields["input_unit"].choices = [(PLAIN, unit)]
        self.fields["value"].widget.attrs["aria-label"] = self.row_label + " 本月累计数"
        self.fields["note"].widget.attrs["aria-label"] = self.row_label + " 说明"
        self.fields["input_unit"].widget.attrs["aria-label"] = self.row_label + " 填写单位"

    def _raw(self, name):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name)

    @property
    def row_label(self) -> str:
        if self.indicator_obj is None:
            return "未知指标"
        if self.street_obj is not None:
            return f"{self.indicator_obj.name}（{self.street_obj.name}）"
        return self.indicator_obj.name

    @property
    def scale(self) -> int:
        return progress.unit_scale(self.indicator_obj.unit) if self.indicator_obj else 1

    @property
    def previous_display(self) -> str:
        if self.previous is None or self.indicator_obj is None:
            return ""
        return (
            f"{self.previous.month:%-m}月已审核："
            f"{progress.format_plain(self.previous.value, self.indicator_obj.unit)}"
        )

    def clean_indicator(self):
        if self.cleaned_data["indicator"] not in self.indicators:
            raise forms.ValidationError("该指标不属于本报告的事项。")
        return self.cleaned_data["indicator"]

    def clean(self):
        data = super().clean()
        text = (data.get("value") or "").strip()
        data["plain"] = None
        if not text or self.indicator_obj is None:
            return data
        try:
            number = parse_number(text)
        except forms.ValidationError as error:
            self.add_error("value", error)
            return data
        unit = data.get("input_unit") or (WRITTEN if self.scale != 1 else PLAIN)
        plain = number * (self.scale if unit == WRITTEN else 1)
        # The range first: quantize() fails on a number longer than the decimal context.
        error = progress.value_error(self.indicator_obj.kind, plain)
        if error:
            self.add_error("value", error)
            return data
        if plain != plain.quantize(PLAIN_PLACES):
            self.add_error("value", "小数位数过多：折合基本单位后最多保留 4 位小数。")
            return data
        data["plain"] = plain
        return data

    def as_input(self) -> FigureInput | None:
        if self.indicator_obj is None:
            return None
        return FigureInput(
            indicator_id=self.indicator_obj.pk,
            street_id=self.street_obj.pk if self.street_obj else None,
            value=self.cleaned_data.get("plain"),
            note=self.cleaned_data.get("note", ""),
        )


class BaseFigureFormSet(forms.BaseFormSet):
    def __init__(self, *args, report, **kwargs):
        self.report = report
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        # A row without an indicator is an empty extra form (a tampered TOTAL_FORMS): no row.
        forms_with_rows = [(f, row) for f in self.forms if (row := f.as_input()) is not None]
        rows = [row for _, row in forms_with_rows]
        for index, errors in figure_problems(self.report, rows).items():
            form = forms_with_rows[index][0]
            for field, message in errors.items():
                form.add_error(field if field in form.fields else None, message)

    @property
    def inputs(self) -> list[FigureInput]:
        return [row for row in (f.as_input() for f in self.forms) if row is not None]


FigureFormSet = forms.formset_factory(
    FigureRowForm, formset=BaseFigureFormSet, extra=0, max_num=1000, absolute_max=1000
)


def figure_rows(report, indicators=None, streets=None) -> list[dict]:
    """The rows of the form, in reading order, with what is stored for this report.
    `indicators` (the item's measured ones, in order) and `streets` spare the queries when
    the caller holds them already."""
    stored = {(f.indicator_id, f.street_id): f for f in report.figures.all()}
    streets = list(Street.objects.all()) if streets is None else streets
    if indicators is None:
        indicators = [i for i in report.item.indicators.all() if i.measured]
    rows = []
    for indicator in indicators:
        keys = [None] + ([s.pk for s in streets] if indicator.has_street_breakdown else [])
        for street in keys:
            figure = stored.get((indicator.pk, street))
            scale = progress.unit_scale(indicator.unit)
            value = ""
            if figure is not None:
                value = progress.format_number(figure.value / scale if scale != 1 else figure.value)
            rows.append(
                {
                    "indicator": indicator.pk,
                    "street": street,
                    "value": value,
                    "input_unit": WRITTEN if scale != 1 else PLAIN,
                    "note": figure.note if figure else "",
                }
            )
    return rows


def figure_formset(report, data=None, *, disabled=False):
    indicators = {i.pk: i for i in report.item.indicators.all() if i.measured}
    streets = {s.pk: s for s in Street.objects.all()}
    previous = previous_approved(report)
    initial = None
    if data is None:
        initial = figure_rows(report, list(indicators.values()), list(streets.values()))
    formset = FigureFormSet(
        data,
        initial=initial,
        prefix="fig",
        report=report,
        form_kwargs={"indicators": indicators, "streets": streets, "previous": previous},
    )
    if disabled:
        for form in formset.forms:
            for field in form.fields.values():
                field.disabled = True
    return formset


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ReportForm(forms.Form):
    """Narrative, milestones and delay: the report's own fields."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    narrative = forms.CharField(
        label="本月进展情况",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="写明本月做了什么、完成了多少，提交审核时必填。",
    )
    delay_reason = forms.ChoiceField(
        label="滞后原因",
        required=False,
        choices=[("", "（未滞后不填）"), *MonthlyReport.DelayReason.choices],
    )
    delay_note = forms.CharField(
        label="滞后说明",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="具体原因和下一步措施。",
    )
    confidence = forms.TypedChoiceField(
        label="按期完成的把握",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "（未滞后不填）"), *MonthlyReport.Confidence.choices],
    )

    def __init__(self, *args, report, disabled=False, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "version": report.version,
                "narrative": report.narrative,
                "delay_reason": report.delay_reason,
                "delay_note": report.delay_note,
                "confidence": report.confidence,
            },
        )
        super().__init__(*args, **kwargs)
        self.report = report
        self.milestones = list(report.item.milestones.select_related("reported_in"))
        self.milestone_fields = []
        for milestone in self.milestones:
            name = f"milestone_{milestone.pk}"
            elsewhere = milestone.reported_in_id not in (None, report.pk)
            field = forms.DateField(
                label=milestone.title,
                required=False,
                input_formats=["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                disabled=disabled or elsewhere,
                error_messages={"invalid": "请填写日期，例如 2024-06-30。"},
            )
            field.initial = milestone.done_on
            self.fields[name] = field
            self.milestone_fields.append((milestone, name, elsewhere))
        if disabled:
            for name, field in self.fields.items():
                if name != "version":
                    field.disabled = True

    @property
    def delay_fields(self):
        return [self["delay_reason"], self["delay_note"], self["confidence"]]

    def milestone_rows(self):
        return [
            {"milestone": m, "field": self[name], "elsewhere": elsewhere}
            for m, name, elsewhere in self.milestone_fields
        ]

    @property
    def milestone_updates(self) -> dict[int, datetime.date | None]:
        return {
            m.pk: self.cleaned_data.get(name)
            for m, name, elsewhere in self.milestone_fields
            if not elsewhere
        }

    def clean(self):
        data = super().clean()
        updates = {
            m.pk: data.get(name)
            for m, name, elsewhere in self.milestone_fields
            if not elsewhere and name not in self.errors
        }
        problems = services.milestone_problems(self.report, updates)
        for pk, message in problems.items():
            self.add_error(f"milestone_{pk}", message)
        return data

    def check_submission(self, figures: list[FigureInput]):
        """Before a submit: the fields a submission needs, judged on what was typed (the
        item's progress with this month's figures and milestones)."""
        values = {f.indicator_id: f.value for f in figures if f.street_id is None and f.value}
        done = [pk for pk, day in self.milestone_updates.items() if day is not None]
        snapshot = projected_snapshot(self.report, values=values, done=done)
        draft = MonthlyReport(
            narrative=self.cleaned_data.get("narrative") or "",
            delay_reason=self.cleaned_data.get("delay_reason") or "",
            delay_note=self.cleaned_data.get("delay_note") or "",
            confidence=self.cleaned_data.get("confidence"),
        )
        for field, message in services.submission_problems(draft, snapshot).items():
            self.add_error(field, message)
        return snapshot


class DecisionForm(forms.Form):
    """The office's decision: approve, return or reopen (the last two with a reason)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="退回或重新打开的原因",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="退回、重新打开时必填，填报单位会看到。",
    )

    def require_reason(self):
        if not (self.cleaned_data.get("reason") or "").strip():
            self.add_error("reason", "请填写原因，填报单位会看到。")
            return False
        return True


MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


class OpenReportForm(forms.Form):
    """Pick an item and a month to fill in."""

    item = forms.ModelChoiceField(
        label="事项",
        queryset=None,
        empty_label="请选择事项",
        error_messages={"required": "请选择事项。", "invalid_choice": "请从列表中选择事项。"},
    )
    month = forms.CharField(
        label="月份",
        error_messages={"required": "请选择月份。"},
        widget=forms.Select(),
    )

    def __init__(self, *args, items, months, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].label_from_instance = lambda item: f"{item.code} {item.title}"
        self.fields["month"].widget.choices = [
            (f"{m:%Y-%m}", f"{m.year}年{m.month}月") for m in months
        ]

    def clean_month(self):
        match = MONTH_PATTERN.match(self.cleaned_data["month"].strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError("请选择月份。")
        return datetime.date(int(match[1]), int(match[2]), 1)

    def clean(self):
        data = super().clean()
        if data.get("item") and data.get("month"):
            draft = MonthlyReport(item=data["item"], month=data["month"])
            try:
                draft.clean()
            except forms.ValidationError as error:
                self.add_error(None, error)
        return data


def default_month(today: datetime.date | None = None) -> datetime.date:
    """The month a clerk most likely reports: the one that just ended."""
    today = today or timezone.localdate()
    return progress.add_months(today.replace(day=1), -1)
