"""Reading admin pages and sending their forms back, as a browser would."""

import re

from django.db import models

# A CSRF token is 64 random letters and digits: over the thousands of pages the permission
# matrix reads, one spells a unit's tag (ZQB) now and then. What a page shows is the rest.
CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def body(response) -> str:
    if getattr(response, "streaming", False):
        text = b"".join(response.streaming_content).decode(errors="replace")
    else:
        text = response.content.decode(errors="replace")
    return CSRF_TOKEN.sub(r"\1\2", text)


def form_payload(response) -> dict:
    """The POST a browser would send for the admin form in `response`, as shown."""
    data = {}
    context = response.context
    forms = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management[name].html_name] = management[name].value()
        forms.extend(formset.forms)
    for form in forms:
        data.update(form_shown(form))
    return data


def form_shown(form) -> dict:
    """What a browser sends back for one `form` as shown."""
    data = {}
    for name, field in form.fields.items():
        bound = form[name]
        value, widget = bound.value(), getattr(field.widget, "widget", field.widget)
        if value is None:
            continue
        if hasattr(widget, "decompress"):
            parts = value if isinstance(value, list) else widget.decompress(value)
            for index, part in enumerate(parts):
                data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, models.Model):
            data[bound.html_name] = str(value.pk)
        else:
            data[bound.html_name] = str(value)
    return data
