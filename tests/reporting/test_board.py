"""The reporting board and the review queue in the admin: each cell's state, the filters, the
overdue counts per unit, and a lead unit confined to its own row of the board."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from livelihood.models import Domain
from livelihood.reporting import board
from tests.builders import login

pytestmark = pytest.mark.django_db

BOARD = reverse("admin:livelihood_monthlyreport_board")
REVIEW = reverse("admin:livelihood_monthlyreport_review")


def cell_text(html: str, code: str, month: int) -> str:
    """The words in the item's cell for a month (the link's title names both)."""
    match = re.search(rf'title="{re.escape(code)} 2024年{month}月：([^"]*)"', html)
    return match[1] if match else ""


@pytest.fixture
def items(make_item, other_unit, plan):
    health = Domain.objects.create(plan=plan, number=2, name="健康养老")
    return {
        "mine": make_item("1-1", title="城镇新增就业"),
        "theirs": make_item("2-1", title="残疾人康复", lead_unit=other_unit, domain=health),
    }


def test_cells_by_state_and_due_day(items, report):
    item = items["mine"]
    report(item, "2024-04", state="approved")
    report(item, "2024-05", state="submitted")
    report(item, "2024-06", state="draft")
    report(item, "2024-07", state="returned")
    months = [datetime.date(2024, m, 1) for m in range(4, 10)]
    # On 3 September: August's report is due by the 5th, July's was due by 5 August.
    rows = board.grid([item], months, today=datetime.date(2024, 9, 3))
    cells = rows[0][1]
    assert [(c.key, c.overdue) for c in cells] == [
        ("approved", False),
        ("submitted", False),
        ("draft", True),
        ("returned", True),
        ("missing", False),
        ("missing", False),  # September has not ended
    ]
    later = board.grid([item], months, today=datetime.date(2024, 9, 6))[0][1]
    assert (later[4].key, later[4].label) == ("overdue", "逾期")
    assert later[3].title == "1-1 2024年7月：已退回，已逾期"
    assert cells[4].title == "1-1 2024年8月：未报，应于9月5日前报送"


def test_board_shows_every_units_items_to_the_office(items, report, make_staff):
    report(items["mine"], "2024-04", state="approved")
    report(items["theirs"], "2024-05", state="submitted")
    html = login(make_staff("office")).get(BOARD).content.decode()
    assert cell_text(html, "1-1", 4) == "已审核"
    assert cell_text(html, "1-1", 5) == "逾期"  # 2024 is past: every missing month is overdue
    assert cell_text(html, "2-1", 5) == "已报送"
    assert cell_text(html, "2-1", 4) == "逾期"
    assert "2024年各事项月度报告情况" in html


def test_board_filters_by_unit_and_domain(items, make_staff, other_unit):
    client = login(make_staff("office"))
    by_unit = client.get(BOARD, {"unit": other_unit.code}).content.decode()
    assert "残疾人康复" in by_unit and "城镇新增就业" not in by_unit
    by_domain = client.get(BOARD, {"domain": 1}).content.decode()
    assert "城镇新增就业" in by_domain and "残疾人康复" not in by_domain


def test_overdue_reports_are_counted_per_unit(items, report, make_staff, unit, other_unit):
    for month in ("2024-04", "2024-05", "2024-06"):
        report(items["mine"], month, state="approved")
    html = login(make_staff("office")).get(BOARD).content.decode()
    # April–December 2024: nine months; the unit reported three of them.
    assert re.search(rf"{unit.name}</a></th><td>6</td>", html)
    assert re.search(rf"{other_unit.name}</a></th><td>9</td>", html)


def test_a_lead_unit_sees_its_own_board_only(items, make_staff, unit, other_unit):
    client = login(make_staff("clerk", unit))
    for query in ({}, {"unit": other_unit.code}):
        html = client.get(BOARD, query).content.decode()
        assert "城镇新增就业" in html
        assert "残疾人康复" not in html and other_unit.name not in html


def test_a_missing_month_links_to_its_form(items, make_staff, unit):
    html = login(make_staff("clerk", unit)).get(BOARD).content.decode()
    add = reverse("admin:livelihood_monthlyreport_add")
    assert f'href="{add}?item={items["mine"].pk}&amp;month=2024-06"' in html


def test_review_queue_lists_submitted_reports(items, report, make_staff, unit):
    report(items["mine"], "2024-05", state="submitted")
    report(items["mine"], "2024-06", state="draft")
    report(items["theirs"], "2024-05", state="submitted")
    office = login(make_staff("office")).get(REVIEW).content.decode()
    assert "城镇新增就业" in office and "残疾人康复" in office
    assert "2024年6月" not in office
    clerk = login(make_staff("clerk", unit)).get(REVIEW).content.decode()
    assert "城镇新增就业" in clerk and "残疾人康复" not in clerk


def test_admin_index_links_to_the_board_and_the_queue(make_staff, unit):
    html = login(make_staff("clerk", unit)).get(reverse("admin:index")).content.decode()
    assert f'href="{BOARD}"' in html and f'href="{REVIEW}"' in html


def test_board_needs_a_staff_login(items):
    response = Client().get(BOARD)
    assert response.status_code == 302 and "login" in response["Location"]
