"""
The item table's rows (templatetags/portal.py: item_table_rows) are written in Python for
speed; they must be exactly what the template loop they replaced wrote, for every kind of row.
"""

import pytest
from django.template import Context, Template
from django.utils.html import format_html

from livelihood.templatetags.portal import item_table_rows

# The loop of includes/item_table.html before the rows were written by the tag.
LOOP = Template(
    """{% for row in item_rows %}
    <tr>
      <th scope="row"><a href="{{ row.url }}"><span class="item-code">{{ row.code }}</span>{{ row.title }}</a></th>
      <td data-label="目标">{% for target in row.targets %}<span class="cell-line">{{ target }}</span>{% empty %}文件未列量化目标{% endfor %}</td>
      <td data-label="最新数值">{% for latest in row.latest %}<span class="cell-line">{{ latest }}</span>{% endfor %}{% if row.milestones_total %}<span class="cell-line">完成节点 {{ row.milestones_done }}/{{ row.milestones_total }}</span>{% elif not row.targets %}<span class="cell-line">尚未设定节点</span>{% endif %}</td>
      <td class="num" data-label="完成">{{ row.progress }}</td>
      <td data-label="状态">{{ row.status }}</td>
      {% if not hide_unit %}<td data-label="牵头单位"><a href="{{ row.unit_url }}">{{ row.unit }}</a></td>{% endif %}
    </tr>
  {% empty %}
    <tr><td colspan="6">没有符合条件的事项。</td></tr>
  {% endfor %}"""  # noqa: E501
)


def row(**fields):
    return {
        "url": "/2024/items/1-1/",
        "code": "1-1",
        "title": "城镇新增就业",
        "targets": ["1.15万人"],
        "latest": ["2300人"],
        "milestones_done": 0,
        "milestones_total": 0,
        "progress": "20.0%",
        "status": format_html('<span class="status status--on-track">{}</span>', "正常推进"),
        "unit_url": "/2024/units/rsj/",
        "unit": "区人力资源和社会保障局",
        **fields,
    }


ROWS = [
    [],
    [row()],
    [row(targets=[], latest=[])],  # neither targets nor milestones: 尚未设定节点
    [row(targets=[], latest=[], milestones_done=2, milestones_total=5)],
    [row(targets=["≤ 5 天", "100%"], latest=["3 天"], milestones_done=1, milestones_total=3)],
    [row(title="<script>alert(1)</script> & 残疾人", unit="区残联 <b>", progress="—")],
    [row(), row(code="10-3", url="/2024/items/10-3/", progress="135.0%")],
]


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("hide_unit", [False, True])
def test_the_rows_are_what_the_template_loop_wrote(rows, hide_unit):
    expected = LOOP.render(Context({"item_rows": rows, "hide_unit": hide_unit}))
    assert item_table_rows(rows, hide_unit) == expected


def test_titles_are_escaped():
    written = item_table_rows([row(title="<script>alert(1)</script>")])
    assert "<script>" not in written and "&lt;script&gt;" in written
