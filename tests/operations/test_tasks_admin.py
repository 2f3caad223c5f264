"""The background tasks' results in the admin (livelihood/operations/admin.py): the office
reads whether reminder mails and page warm-ups ran, in Chinese; lead units never see them."""

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from livelihood.reporting.tasks import send_reminder
from tests.builders import login

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_tasks_database_dbtaskresult_changelist"


@pytest.fixture
def queued(unit):
    """A reminder waiting in the database queue, as send_reminders leaves it."""
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        send_reminder.enqueue(unit.pk, "2024-07-03")
    return DBTaskResult.objects.get()


def test_the_office_reads_the_tasks_in_chinese(office, queued):
    client = login(office)
    index = client.get(reverse("admin:index")).content.decode()
    assert "后台任务" in index and "Tasks Database Backend" not in index
    page = client.get(reverse(CHANGELIST)).content.decode()
    for text in ("催报邮件", "等待执行", "排入时间", "队列"):
        assert text in page, text
    detail = client.get(
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[queued.pk])
    )
    assert detail.status_code == 200
    assert "错误信息" in detail.content.decode()


def test_nobody_adds_changes_or_deletes_a_task_result(office, queued):
    client = login(office)
    assert client.get(reverse("admin:django_tasks_database_dbtaskresult_add")).status_code == 403
    delete = reverse("admin:django_tasks_database_dbtaskresult_delete", args=[queued.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert DBTaskResult.objects.exists()


def test_a_lead_unit_clerk_does_not_see_the_tasks(make_staff, unit, queued):
    clerk = make_staff("clerk", unit)
    client = login(clerk)
    assert "后台任务" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse(CHANGELIST)).status_code == 403
    # Not even with the permission given by hand: the tasks are the office's.
    clerk.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="django_tasks_database", codename="view_dbtaskresult"
        )
    )
    assert login(clerk).get(reverse(CHANGELIST)).status_code == 403
