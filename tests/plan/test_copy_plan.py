"""Next year's plan: a draft copy without anything reported, invisible on every public page
until published; the current plan by default and every past plan with its final state."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from livelihood.models import (
    Domain,
    EvaluationRound,
    Figure,
    Item,
    Milestone,
    MonthlyReport,
    Plan,
    PlannedValue,
)
from livelihood.plan.services import plan_copy

pytestmark = pytest.mark.django_db


@pytest.fixture
def year_2024(plan, make_item, make_indicator, report, milestone, other_unit, street):
    item = make_item("1-1", title="城镇新增就业")
    item.partner_units.add(other_unit)
    count = make_indicator(item, "1.15", unit="万人", baseline="9000")
    PlannedValue.objects.create(indicator=count, month=datetime.date(2024, 6, 1), value=4000)
    done = report(item, "2024-06", {count: "5000"}, streets={(count, street): "100"})
    milestone(item, datetime.date(2024, 2, 29), done_in=done, title="启动")
    milestone(item, datetime.date(2024, 9, 30), title="验收")
    return item


def copy(*args, **kwargs):
    out = io.StringIO()
    call_command("copy_plan", *args, stdout=out, **kwargs)
    return out.getvalue()


def test_copy_plan_copies_the_plan_without_anything_reported(year_2024, other_unit):
    output = copy("2024", "2025")
    assert "已将2024年度计划复制为《瑶海区2025年50项民生实事》草稿" in output
    new = Plan.objects.get(year=2025)
    assert not new.published
    assert new.issued_on == datetime.date(2025, 4, 24)
    assert list(new.domains.values_list("number", "name")) == [(1, "就业创业")]
    item = Item.objects.get(plan=new, code="1-1")
    assert item.title == "城镇新增就业" and item.domain.plan == new
    assert list(item.partner_units.all()) == [other_unit]
    indicator = item.indicators.get()
    assert (indicator.target, indicator.unit, indicator.scale) == (Decimal("1.15"), "万人", 10000)
    assert indicator.baseline == Decimal(9000)
    assert not indicator.planned_values.exists()  # optional, off by default
    assert not MonthlyReport.objects.filter(item__plan=new).exists()
    assert not Figure.objects.filter(indicator__item__plan=new).exists()
    milestones = list(Milestone.objects.filter(item__plan=new).order_by("number"))
    assert [(m.planned_on, m.done_on, m.reported_in) for m in milestones] == [
        (datetime.date(2025, 2, 28), None, None),
        (datetime.date(2025, 9, 30), None, None),
    ]
    # The source year is untouched.
    assert MonthlyReport.objects.filter(item=year_2024).count() == 1


def test_planned_values_are_copied_on_request(year_2024):
    copy("2024", "2025", "--planned-values")
    planned = PlannedValue.objects.get(indicator__item__plan__year=2025)
    assert (planned.month, planned.value) == (datetime.date(2025, 6, 1), Decimal(4000))


def test_copy_plan_refuses_an_existing_year_and_a_missing_one(year_2024):
    with pytest.raises(CommandError, match="2024年度计划已经存在，未做任何修改"):
        copy("2023", "2024")
    with pytest.raises(CommandError, match="没有2019年度计划"):
        copy("2019", "2025")
    copy("2024", "2025")
    with pytest.raises(CommandError, match="2025年度计划已经存在"):
        copy("2024", "2025")
    assert Item.objects.filter(plan__year=2025).count() == 1


@pytest.fixture
def draft(year_2024):
    new = plan_copy(source_year=2024, target_year=2025)
    EvaluationRound.objects.create(
        plan=new,
        kind="midyear",
        cutoff_month=datetime.date(2025, 6, 1),
        cutoff_at=timezone.make_aware(datetime.datetime(2025, 7, 31)),
        state="published",
    )
    return new


DRAFT_URLS = [
    ("livelihood:plan-home", [2025]),
    ("livelihood:domain-detail", [2025, 1]),
    ("livelihood:item-detail", [2025, "1-1"]),
    ("livelihood:unit-detail", [2025, "rsj"]),
    ("livelihood:street-detail", [2025, "mingguanglu"]),
    ("livelihood:search", [2025]),
    ("livelihood:month-index", [2025]),
    ("livelihood:month-detail", [2025, "2025-01"]),
    ("livelihood:evaluation-index", [2025]),
    ("livelihood:evaluation-detail", [2025, "midyear"]),
]


@pytest.mark.parametrize(("name", "args"), DRAFT_URLS)
def test_a_draft_plan_is_not_found_on_any_public_page(client, draft, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 404
    assert "2025" not in response.content.decode()


@pytest.mark.parametrize("name", ["livelihood:home", "livelihood:about", "livelihood:plan-list"])
def test_pages_without_a_year_show_the_latest_published_plan(client, draft, name):
    page = client.get(reverse(name)).content.decode()
    assert "2024" in page
    assert "2025" not in page


def test_publishing_the_draft_makes_it_the_current_plan(client, draft, make_staff):
    office = User.objects.create_superuser("office-admin")
    client.force_login(office)
    client.post(
        reverse("admin:livelihood_plan_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    client.logout()
    draft.refresh_from_db()
    assert draft.published
    home = client.get(reverse("livelihood:home")).content.decode()
    assert "瑶海区2025年50项民生实事" in home
    # The past plan keeps its pages and says it is a past one.
    past = client.get(reverse("livelihood:plan-home", args=[2024])).content.decode()
    assert "这是2024年度的计划" in past and "查看2025年当年计划" in past
    listing = client.get(reverse("livelihood:plan-list")).content.decode()
    assert "瑶海区2025年50项民生实事</a>（当年计划）" in listing
    assert "瑶海区2024年50项民生实事</a>" in listing


def test_the_admin_action_copies_to_the_next_year_and_refuses_twice(client, year_2024):
    client.force_login(User.objects.create_superuser("office-admin"))
    url = reverse("admin:livelihood_plan_changelist")
    data = {"action": "copy_to_next_year", "_selected_action": [year_2024.plan.pk]}
    page = client.post(url, data, follow=True).content.decode()
    assert "已将2024年度计划复制为2025年度计划草稿" in page
    assert not Plan.objects.get(year=2025).published
    page = client.post(url, data, follow=True).content.decode()
    assert "2025年度计划已经存在" in page
    assert Plan.objects.filter(year=2025).count() == 1


def test_the_plan_list_shows_each_years_final_state_in_fixed_queries(client, year_2024, report):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        page = client.get(reverse("livelihood:plan-list")).content.decode()
    assert "数据截至 2024年6月" in page
    for year in (2022, 2023):
        Plan.objects.create(
            year=year,
            title=f"瑶海区{year}年民生实事",
            document_number="x",
            issued_on=datetime.date(year, 3, 1),
            declared_item_count=50,
        )
        new = Plan.objects.get(year=year)
        Domain.objects.create(plan=new, number=1, name="就业创业")
    with CaptureQueriesContext(connection) as three:
        page = client.get(reverse("livelihood:plan-list")).content.decode()
    assert "瑶海区2022年民生实事" in page
    assert len(one) == len(three)
