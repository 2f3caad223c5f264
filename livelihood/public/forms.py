from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from livelihood.plan.models import Domain, LeadUnit, Street
from livelihood.progress.arithmetic import STATUS_ORDER


def _attrs(attrs):
    """Django's widgets/attrs.html, in Python."""
    return mark_safe(
        "".join(
            f" {conditional_escape(name)}"
            + ("" if value is True else f'="{conditional_escape(str(value))}"')
            for name, value in attrs.items()
            if value is not False
        )
    )


class ListSelect(forms.Select):
    """A select list written as Django's select.html and select_option.html write it, without
    a template include per option: the search form's four lists hold about fifty options,
    and their includes cost more than the rest of the search page's form."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group_name for group_name, _, _ in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        options = (
            format_html(
                '\n  <option value="{}"{}>{}</option>\n',
                str(option["value"]),
                _attrs(option["attrs"]),
                option["label"],
            )
            for _, group, _ in widget["optgroups"]
            for option in group
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attrs(widget["attrs"]),
            mark_safe("".join(options)),
        )


class SearchForm(forms.Form):
    """Search and filter the plan's items; every choice is a plain GET parameter, so a result
    page is a bookmarkable link."""

    q = forms.CharField(label="关键词", max_length=50, required=False, strip=True)
    domain = forms.ModelChoiceField(
        label="领域",
        queryset=Domain.objects.none(),
        to_field_name="number",
        required=False,
        empty_label="全部领域",
        widget=ListSelect,
    )
    unit = forms.ModelChoiceField(
        label="牵头单位",
        queryset=LeadUnit.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="全部牵头单位",
        widget=ListSelect,
    )
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态")]
        + [(status.value, status.label) for status in STATUS_ORDER]
        + [("overdue", "逾期未报")],
        widget=ListSelect,
    )
    street = forms.ModelChoiceField(
        label="街镇",
        queryset=Street.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="全部街镇",
        widget=ListSelect,
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = plan.domains.all()
        self.fields["domain"].label_from_instance = lambda domain: domain.name
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "请从列表中选择。"
