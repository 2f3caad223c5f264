"""The admin, as the coordinating office and a lead-unit clerk meet it."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from simple_history.models import HistoricalChanges

from livelihood.models import (
    EvaluationCriterion,
    EvaluationScore,
    Feedback,
    Figure,
    ImportUpload,
    ItemSnapshot,
    PeerReview,
    PlanVersion,
    ReminderLog,
    RollupSnapshot,
    SatisfactionVote,
    SnapshotBuild,
    StaffProfile,
    TwoFactorDevice,
)

pytestmark = pytest.mark.django_db

# Figures are entered in the monthly report form; reminders are written by send_reminders;
# uploads waiting for confirmation by the import (livelihood/data/admin.py); evaluation
# scores are computed when a round closes (manual ones on the round's page); peer reviews are
# given on the 互评 page; feedback and satisfaction votes come from residents on the public site.
NOT_ADDED_IN_ADMIN = {
    Figure,
    ReminderLog,
    ImportUpload,
    EvaluationScore,
    PeerReview,
    Feedback,
    SatisfactionVote,
    # Each person enrols their own phone on the 两步验证 page; the office only resets.
    TwoFactorDevice,
    # The stored progress snapshot: written by the portal on every publication.
    SnapshotBuild,
    # Each plan year's publication version: raised by the portal alone.
    PlanVersion,
    ItemSnapshot,
    RollupSnapshot,
}


# Edited only inside their parent's page: a round's criteria on the round.
INLINE_ONLY = {EvaluationCriterion}


def admin_models():
    """The app's models; history rows are shown in each object's history, not on their own,
    and inline-only models on their parent's page."""
    models = apps.get_app_config("livelihood").get_models()
    return [
        model
        for model in models
        if not issubclass(model, HistoricalChanges) and model not in INLINE_ONLY
    ]


def test_inline_only_models_are_edited_on_their_parents_page(office, plan):
    import datetime

    from django.utils import timezone

    from livelihood.models import EvaluationRound

    round_ = EvaluationRound.objects.create(
        plan=plan,
        kind="midyear",
        cutoff_month=datetime.date(2024, 6, 1),
        cutoff_at=timezone.make_aware(datetime.datetime(2024, 7, 31, 23, 59)),
    )
    round_.criteria.create(name="报告质量评定", kind=EvaluationCriterion.Kind.MANUAL, weight=10)
    page = office.get(reverse("admin:livelihood_evaluationround_change", args=[round_.pk]))
    assert page.status_code == 200
    assert "报告质量评定" in page.content.decode()


@pytest.fixture
def office(client):
    user = User.objects.create_superuser("office", password="x-long-password-1")
    client.force_login(user)
    return client


@pytest.fixture
def clerk_of(client):
    def login(unit):
        user = User.objects.create_user("clerk", password="x-long-password-1", is_staff=True)
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="livelihood",
                codename__in=[
                    "view_item",
                    "view_indicator",
                    "view_monthlyreport",
                    "change_monthlyreport",
                    "view_figure",
                    "view_milestone",
                ],
            )
        )
        StaffProfile.objects.create(user=user, lead_unit=unit)
        client.force_login(user)
        return client

    return login


def test_every_model_is_registered_with_a_chinese_name(office):
    page = office.get(reverse("admin:index")).content.decode()
    for model in admin_models():
        assert admin.site.is_registered(model), model
        assert str(model._meta.verbose_name_plural) in page


def test_every_changelist_and_add_form_opens(office, make_item, make_indicator, report):
    item = make_item()
    report(item, "2024-06", {make_indicator(item, "100"): "40"})
    for model in admin_models():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert office.get(reverse(f"{name}_changelist")).status_code == 200, model
        expected = 403 if model in NOT_ADDED_IN_ADMIN else 200
        assert office.get(reverse(f"{name}_add")).status_code == expected, model


def test_item_list_shows_progress_and_status_from_the_arithmetic(
    office, make_item, make_indicator, report
):
    item = make_item(title="城镇新增就业")
    indicator = make_indicator(item, "1.15", unit="万人")
    report(item, "2024-06", {indicator: "3600"})
    page = office.get(reverse("admin:livelihood_item_changelist")).content.decode()
    assert "31.3%" in page
    assert "33.3%" in page
    assert "正常推进" in page


def test_clerk_sees_only_their_units_items(clerk_of, unit, other_unit, make_item):
    mine = make_item(title="本单位事项")
    theirs = make_item(title="其他单位事项", lead_unit=other_unit)
    client = clerk_of(unit)
    page = client.get(reverse("admin:livelihood_item_changelist")).content.decode()
    assert "本单位事项" in page
    assert "其他单位事项" not in page
    assert client.get(reverse("admin:livelihood_item_change", args=[mine.pk])).status_code == 200
    response = client.get(reverse("admin:livelihood_item_change", args=[theirs.pk]))
    assert response.status_code in (302, 403, 404)


def test_clerk_cannot_open_another_units_report(clerk_of, unit, other_unit, make_item, report):
    theirs = report(make_item(lead_unit=other_unit), "2024-06")
    client = clerk_of(unit)
    response = client.get(reverse("admin:livelihood_monthlyreport_change", args=[theirs.pk]))
    assert response.status_code in (302, 403, 404)
    listing = client.get(reverse("admin:livelihood_monthlyreport_changelist"))
    assert theirs not in listing.context["cl"].result_list


def test_the_admin_index_leads_the_office_to_imports_and_the_summary(office):
    page = office.get(reverse("admin:index")).content.decode()
    for name in (
        "summary-export",
        "admin:livelihood_figure_import",
        "admin:livelihood_item_import",
    ):
        assert f'href="{reverse(name)}"' in page, name
    assert office.get(reverse("summary-export")).status_code == 200


def test_a_lead_unit_clerk_gets_no_summary(clerk_of, unit):
    clerk = clerk_of(unit)
    assert clerk.get(reverse("summary-export")).status_code == 403
    assert reverse("summary-export") not in clerk.get(reverse("admin:index")).content.decode()


def test_what_approved_figures_hang_on_is_not_deleted(
    office, plan, make_item, make_indicator, report
):
    from livelihood.models import (
        Indicator,
        Item,
        MonthlyReport,
    )

    published = make_item("1-1", title="城镇新增就业")
    count = make_indicator(published, "1.15", unit="万人")
    report(published, "2024-05", {count: "2300"})
    spare = make_item("1-2", title="尚无数据的事项")

    for name, obj in (("item", published), ("indicator", count), ("plan", plan)):
        url = reverse(f"admin:livelihood_{name}_delete", args=[obj.pk])
        assert office.get(url).status_code == 403, name
        assert office.post(url, {"post": "yes"}).status_code == 403, name
    bulk = office.post(
        reverse("admin:livelihood_item_changelist"),
        {"action": "delete_selected", "_selected_action": [published.pk, spare.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert Item.objects.filter(pk__in=[published.pk, spare.pk]).count() == 2
    assert Indicator.objects.filter(pk=count.pk).exists()
    assert MonthlyReport.objects.filter(item=published, state="approved").exists()

    office.post(reverse("admin:livelihood_item_delete", args=[spare.pk]), {"post": "yes"})
    assert not Item.objects.filter(pk=spare.pk).exists()


def test_login_lockouts_read_in_chinese_in_the_admin(office):
    """django-axes ships no Simplified Chinese: its app, models and columns are named by
    livelihood/locale and livelihood/apps.py, as the office reads them."""
    index = office.get(reverse("admin:index")).content.decode()
    assert "登录锁定" in index and "登录失败记录" in index
    assert "Access attempts" not in index and ">Axes<" not in index
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="clerk", ip_address="10.1.2.3", failures_since_start=3)
    attempts = office.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "IP 地址" in attempts and "失败次数" in attempts and "10.1.2.3" in attempts
