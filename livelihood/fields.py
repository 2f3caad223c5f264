"""
Form fields the admins of several concerns share (the plan's items, the publicity months):
neutral ground, so that no concern imports another's forms for them.
"""

from django import forms


class ChoicesByKeyField(forms.ModelMultipleChoiceField):
    """A many-to-many choice (partner units, featured items) that refuses a key too large for
    the database's integers as it refuses any unknown key: SQLite raises OverflowError on
    `pk__in` with such a number instead of finding nothing."""

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["invalid_pk_value"],
                code="invalid_pk_value",
                params={"pk": next((v for v in value if len(str(v)) > 18), "")},
            ) from None
