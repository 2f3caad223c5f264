"""Who changed what and when: every write through the admin leaves a history row with its
author; a unit reads the history of its own rows; a revert is a change like any other, and
an approved report is never reverted."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from livelihood.accounts import roles
from livelihood.models import (
    Figure,
    Indicator,
    Item,
    Milestone,
    MonthlyReport,
    PlannedValue,
    StaffProfile,
)
from livelihood.reporting import services
from tests.admin_forms import body, form_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(db):
    user = User.objects.create_superuser("office")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def clerk(unit):
    _, unit_group = roles.roles_ensure()
    user = User.objects.create_user("clerk", is_staff=True)
    user.groups.add(unit_group)
    StaffProfile.objects.create(user=user, lead_unit=unit)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def rows(make_item, make_indicator, report, milestone):
    item = make_item(title="城镇新增就业")
    indicator = make_indicator(item, "100")
    draft = report(item, "2024-06", {indicator: "40"}, state="draft", narrative="六月进展")
    return {
        Item: item,
        Indicator: indicator,
        PlannedValue: PlannedValue.objects.create(
            indicator=indicator, month=draft.month, value="50"
        ),
        MonthlyReport: draft,
        Figure: draft.figures.get(),
        Milestone: milestone(item, "2024-09-30"),
    }


def change(client, obj, **fields):
    """Open the object's change form in the admin, change `fields`, save."""
    url = reverse(f"admin:livelihood_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_payload(page) | {name: str(value) for name, value in fields.items()}
    response = client.post(url, data)
    assert response.status_code == 302, body(response)[:3000]
    return response


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Item, "title", "城镇新增就业（更正）"),
        (Indicator, "name", "新增就业人数"),
        (PlannedValue, "value", "55.0000"),
        (Milestone, "title", "完成首批补贴发放"),
    ],
)
def test_a_change_in_the_admin_leaves_a_history_row_with_its_author(
    office, rows, model, field, value
):
    obj = rows[model]
    before = obj.history.count()
    change(office, obj, **{field: value})
    assert obj.history.count() == before + 1
    latest = obj.history.latest()
    assert latest.history_type == "~"
    assert latest.history_user == office.user
    assert str(getattr(latest, field)) == value


def test_a_clerks_figure_change_is_recorded_with_the_clerk(clerk, rows):
    figure = rows[Figure]
    change(clerk, figure, value="45")
    latest = figure.history.latest()
    assert latest.history_user == clerk.user
    assert latest.value == 45


def test_a_deletion_in_the_admin_leaves_a_history_row(office, rows):
    milestone = rows[Milestone]
    url = reverse("admin:livelihood_milestone_delete", args=[milestone.pk])
    assert office.post(url, {"post": "yes"}).status_code == 302
    last = Milestone.history.filter(id=milestone.pk).latest()
    assert last.history_type == "-"
    assert last.history_user == office.user


def test_workflow_transitions_leave_history_rows_with_reasons(clerk, office, rows):
    report = rows[MonthlyReport]
    services.report_submit(report=report, user=clerk.user)
    services.report_return(report=report, user=office.user, reason="请补充街道数据")
    reasons = list(report.history.values_list("history_change_reason", "history_user"))
    assert ("提交审核", clerk.user.pk) in reasons
    assert ("退回：请补充街道数据", office.user.pk) in reasons


def test_a_unit_reads_the_history_of_its_own_rows_with_who_changed_them(clerk, office, rows):
    change(office, rows[Item], title="城镇新增就业（更正）")
    page = clerk.get(reverse("admin:livelihood_item_history", args=[rows[Item].pk]))
    assert page.status_code == 200
    text = body(page)
    assert "城镇新增就业（更正）" in text
    assert "office" in text


def test_history_of_another_units_row_is_not_found(clerk, rows, other_unit, make_item):
    theirs = make_item(title="其他单位事项", lead_unit=other_unit)
    for url in (
        reverse("admin:livelihood_item_history", args=[theirs.pk]),
        reverse(
            "admin:livelihood_item_simple_history",
            args=[theirs.pk, theirs.history.get().history_id],
        ),
    ):
        response = clerk.get(url)
        assert response.status_code in (302, 403, 404)
        assert "其他单位事项" not in body(response)


def test_a_deleted_rows_history_is_the_offices(clerk, office, rows):
    milestone = rows[Milestone]
    pk, version = milestone.pk, milestone.history.get().history_id
    milestone.delete()
    assert office.get(reverse("admin:livelihood_milestone_history", args=[pk])).status_code == 200
    assert clerk.get(reverse("admin:livelihood_milestone_history", args=[pk])).status_code == 404
    url = reverse("admin:livelihood_milestone_simple_history", args=[pk, version])
    assert clerk.get(url).status_code == 404
    assert office.post(url, {}).status_code == 404  # no revert brings it back from here


def revert(client, obj, version):
    url = reverse(
        f"admin:livelihood_{obj._meta.model_name}_simple_history",
        args=[obj.pk, version.history_id],
    )
    page = client.get(url)
    data = form_payload(page) if page.status_code == 200 and page.context else {}
    return client.post(url, data, follow=True)


def test_a_clerk_reverts_a_draft_report_to_an_earlier_version(clerk, rows):
    report = rows[MonthlyReport]
    first = report.history.earliest()
    services.report_save(report=report, user=clerk.user, narrative="写错了")
    response = revert(clerk, report, first)
    report.refresh_from_db()
    assert report.narrative == "六月进展"
    assert "已将" in body(response)
    latest = report.history.latest()
    assert latest.history_user == clerk.user and latest.narrative == "六月进展"


def test_an_approved_report_cannot_be_reverted_by_anyone(office, rows):
    report = rows[MonthlyReport]
    first = report.history.earliest()
    MonthlyReport.objects.filter(pk=report.pk).update(state="approved")
    report.refresh_from_db()
    report.narrative = "审核后的文字"
    report.save()
    before = report.history.count()

    page = office.get(
        reverse("admin:livelihood_monthlyreport_simple_history", args=[report.pk, first.history_id])
    )
    assert page.status_code == 200
    response = revert(office, report, first)
    report.refresh_from_db()
    assert report.narrative == "审核后的文字"
    assert report.state == "approved"
    assert report.history.count() == before
    assert "已锁定" in body(response)


def test_a_figure_of_an_approved_report_cannot_be_reverted(office, rows):
    figure = rows[Figure]
    first = figure.history.earliest()
    Figure.objects.filter(pk=figure.pk).update(value=45)
    MonthlyReport.objects.filter(pk=figure.report_id).update(state="approved")
    revert(office, figure, first)
    figure.refresh_from_db()
    assert figure.value == 45


def test_a_clerk_cannot_revert_what_it_may_only_read(clerk, office, rows):
    item = rows[Item]
    first = item.history.earliest()
    change(office, item, title="城镇新增就业（更正）")
    url = reverse("admin:livelihood_item_simple_history", args=[item.pk, first.history_id])
    assert clerk.get(url).status_code == 200  # reading is allowed
    response = clerk.post(url, {"title": "城镇新增就业", "code": item.code})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.title == "城镇新增就业（更正）"


def test_the_office_reverts_an_item(office, rows):
    item = rows[Item]
    first = item.history.earliest()
    change(office, item, title="城镇新增就业（更正）")
    revert(office, item, first)
    item.refresh_from_db()
    assert item.title == "城镇新增就业"
    assert item.history.latest().history_user == office.user
