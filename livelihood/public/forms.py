from django import forms

from livelihood.plan.models import Domain, LeadUnit, Street
from livelihood.progress.arithmetic import STATUS_ORDER


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
    )
    unit = forms.ModelChoiceField(
        label="牵头单位",
        queryset=LeadUnit.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="全部牵头单位",
    )
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[("", "全部状态")]
        + [(status.value, status.label) for status in STATUS_ORDER]
        + [("overdue", "逾期未报")],
    )
    street = forms.ModelChoiceField(
        label="街镇",
        queryset=Street.objects.all(),
        to_field_name="code",
        required=False,
        empty_label="全部街镇",
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = plan.domains.all()
        self.fields["domain"].label_from_instance = lambda domain: domain.name
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "请从列表中选择。"
