"""
The search form's select lists (public/forms.py: ListSelect) are written in Python for speed;
they must be exactly what Django's own Select widget writes, chosen value, escaping and all.
"""

import pytest
from django import forms

from livelihood.models import Street
from livelihood.public.forms import ListSelect, SearchForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "data",
    [{}, {"status": "behind"}, {"status": "overdue", "domain": "1"}, {"status": "<nope>"}],
)
def test_the_lists_are_what_django_writes(plan, domain, unit, street, data):
    Street.objects.create(code="a-b", name="<大兴镇> & “东”", kind="town")
    form = SearchForm(data, plan=plan)
    form.is_valid()
    for name in ("domain", "unit", "status", "street"):
        field = form[name]
        assert isinstance(field.field.widget, ListSelect)
        ours = str(field)
        field.field.widget = forms.Select(choices=field.field.widget.choices)
        assert ours == str(field), name
