"""Small pieces every public page repeats, as tags: in a list of fifty items an `{% include %}`
per row costs more than the rest of the row (docs/performance.md)."""

from django import template
from django.utils.html import conditional_escape, format_html
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


@register.simple_tag
def progress_bar(snapshot, label):
    """A progress bar that says its number; the tick marks 序时进度. `snapshot` is an item's
    progress or a roll-up: `{% progress_bar item.snapshot item.title %}`. Written here rather
    than as an include: the home page draws eleven."""
    if snapshot.progress is None:
        return mark_safe(
            '\n<div class="progress">\n  \n'
            '  <span class="progress__numbers">暂无可计量的进度</span>\n  \n</div>\n'
        )
    tick = ""
    if snapshot.expected_percent:
        tick = format_html(
            '<line x1="{0}" x2="{0}" y1="0" y2="10" stroke="#1b1b1b" stroke-width="3"'
            ' vector-effect="non-scaling-stroke"/>',
            snapshot.expected_percent,
        )
    expected = ""
    if snapshot.expected is not None:
        expected = "，序时进度 " + conditional_escape(snapshot.expected_display)
    return format_html(
        '\n<div class="progress">\n  \n'
        '  <svg class="progress__bar" viewBox="0 0 100 10" preserveAspectRatio="none"'
        ' aria-hidden="true" focusable="false">\n'
        '    <rect x="0" y="0" width="100" height="10" fill="#dedede"/>\n'
        '    <rect x="0" y="0" width="{}" height="10" fill="#1d4e89"/>\n'
        "    {}\n"
        "  </svg>\n"
        '  <span class="progress__numbers">{}完成 <strong>{}</strong>{}</span>\n'
        "  \n</div>\n",
        snapshot.bar_percent,
        tick,
        label,
        snapshot.progress_display,
        mark_safe(expected),
    )


EMPTY_ITEM_ROW = '\n    <tr><td colspan="6">没有符合条件的事项。</td></tr>\n  '


@register.simple_tag
def item_table_rows(rows, hide_unit=False):
    """The rows of includes/item_table.html (views._item_rows), written here with exactly the
    markup and whitespace a template loop wrote: fifty rows of a dozen template variables
    each cost more than the rest of the page (domain, unit, street and search pages)."""
    if not rows:
        return mark_safe(EMPTY_ITEM_ROW)
    esc = conditional_escape
    parts = []
    for row in rows:
        targets = "".join(f'<span class="cell-line">{esc(t)}</span>' for t in row["targets"])
        latest = "".join(f'<span class="cell-line">{esc(v)}</span>' for v in row["latest"])
        if row["milestones_total"]:
            done, total = row["milestones_done"], row["milestones_total"]
            latest += f'<span class="cell-line">完成节点 {esc(done)}/{esc(total)}</span>'
        elif not row["targets"]:
            latest += '<span class="cell-line">尚未设定节点</span>'
        unit = ""
        if not hide_unit:
            unit = (
                f'<td data-label="牵头单位"><a href="{esc(row["unit_url"])}">'
                f"{esc(row['unit'])}</a></td>"
            )
        parts.append(
            "\n    <tr>\n"
            f'      <th scope="row"><a href="{esc(row["url"])}"><span class="item-code">'
            f"{esc(row['code'])}</span>{esc(row['title'])}</a></th>\n"
            f'      <td data-label="目标">{targets or "文件未列量化目标"}</td>\n'
            f'      <td data-label="最新数值">{latest}</td>\n'
            f'      <td class="num" data-label="完成">{esc(row["progress"])}</td>\n'
            f'      <td data-label="状态">{esc(row["status"])}</td>\n'
            f"      {unit}\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(parts))
