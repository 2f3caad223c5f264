"""Small pieces every public page repeats, as tags: in a list of fifty items an `{% include %}`
per row costs more than the rest of the row (docs/performance.md)."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from livelihood.progress.arithmetic import format_percent
from livelihood.public import links

register = template.Library()

OVERDUE = mark_safe('<span class="status status--overdue">逾期未报</span>')


@register.simple_tag
def status_badge(status, overdue=False):
    """A status is a word as well as a colour: `{% status_badge item.status item.overdue %}`."""
    if status is None:
        return ""
    badge = format_html('<span class="status status--{}">{}</span>', status.value, status.label)
    if overdue:
        return format_html("{} {}", badge, OVERDUE)
    return badge


@register.filter
def percent(fraction):
    """A share (0–1) as the pages write it: 37.5%; "—" when there is none."""
    return format_percent(fraction)


@register.simple_tag
def link(name, *args):
    """`{% url %}`, remembered per process (livelihood/public/links.py):
    `{% link "livelihood:unit-detail" plan.year unit.code %}`."""
    return links.url(name, *args)


@register.filter
def item_url(item):
    """`item.get_absolute_url`, remembered: `{{ item|item_url }}`."""
    return links.item_url(item)
