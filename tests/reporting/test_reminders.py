"""`manage.py send_reminders`: each unit's staff get one mail a day listing the reports they
owe, due and overdue, sent as a background task (livelihood/reporting/tasks.py); and EMAIL_URL
becomes Django's email settings."""

import io
import signal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from livelihood.models import ReminderLog
from livelihood.reporting.tasks import send_reminder
from yaohai_portal import email_url

pytestmark = pytest.mark.django_db


def remind(date):
    out = io.StringIO()
    call_command("send_reminders", "--date", date, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def staffed(make_item, make_staff, unit, other_unit):
    item = make_item("1-1", title="城镇新增就业")
    make_staff("clerk", unit, email="clerk@rsj.example.cn")
    make_staff("clerk2", unit, email="")  # no address: not mailed
    make_staff("office", email="office@example.cn")  # the office is not a unit's staff
    make_staff("other", other_unit, email="other@cl.example.cn")  # owes nothing
    return item


def test_unit_staff_are_told_what_is_due_and_overdue(staffed, report):
    report(staffed, "2024-04", state="approved")
    output = remind("2024-07-03")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["clerk@rsj.example.cn"]
    assert (
        message.subject == "【民生实事】区人力资源和社会保障局：2 份月度报告待报送（其中逾期 1 份）"
    )
    assert "已逾期：\n  · 1-1 城镇新增就业　2024年5月（应于6月5日前报送，逾期）" in message.body
    assert "本期待报送：\n  · 1-1 城镇新增就业　2024年6月（请于7月5日前报送）" in message.body
    assert "2024年4月" not in message.body
    assert "已提醒 1 人，2 份报告" in output


def test_reminders_are_sent_once_a_day(staffed):
    remind("2024-07-03")
    output = remind("2024-07-03")
    assert len(mail.outbox) == 1
    assert "今天（2024-07-03）已提醒过，未重复发送" in output
    assert ReminderLog.objects.filter(date="2024-07-03").count() == 1
    remind("2024-07-04")
    assert len(mail.outbox) == 2


def test_nothing_owed_nothing_sent(staffed, report):
    for month in ("2024-04", "2024-05"):
        report(staffed, month, state="approved")
    report(staffed, "2024-06", state="submitted")
    remind("2024-07-03")
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()


def test_a_draft_is_still_owed(staffed, report):
    report(staffed, "2024-04", state="approved")
    report(staffed, "2024-05", state="draft")
    remind("2024-06-10")
    assert "2024年5月（应于6月5日前报送，草稿）" in mail.outbox[0].body


# With the database backend, as `make run` and production have it: the command only queues.
queued_in_database = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
)


def run_worker():
    """`manage.py db_worker` until the queue is empty, as `make run` starts it (every queue).
    The worker installs its own SIGINT/SIGTERM handlers; the test process gets its own back.
    It also closes a connection it finds inside a transaction, as the test's is (on PostgreSQL
    the test's rows would go with it), so here it leaves it open."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command(
                "db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0
            )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@queued_in_database
def test_the_command_queues_and_the_worker_sends(staffed, other_unit, make_staff, make_item):
    make_item("2-1", title="残疾人康复服务", lead_unit=other_unit)
    output = remind("2024-07-03")
    assert mail.outbox == []
    assert not ReminderLog.objects.exists()
    assert DBTaskResult.objects.ready().count() == 2
    assert "区人力资源和社会保障局：已排入催报邮件（1 人，3 份报告）" in output
    assert "排入后台任务 2 封，发出 0 封" in output

    run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == ["clerk@rsj.example.cn", "other@cl.example.cn"]
    assert DBTaskResult.objects.successful().count() == 2
    assert ReminderLog.objects.filter(date="2024-07-03").count() == 2

    run_worker()
    assert len(mail.outbox) == 2


@queued_in_database
def test_a_reminder_queued_twice_is_sent_once(staffed):
    remind("2024-07-03")
    remind("2024-07-03")  # before any worker ran: a second task waits for the same unit
    assert DBTaskResult.objects.ready().count() == 2
    run_worker()
    assert len(mail.outbox) == 1
    assert [r.return_value["outcome"] for r in DBTaskResult.objects.order_by("finished_at")] == [
        "sent",
        "already_sent",
    ]
    output = remind("2024-07-03")
    assert "今天（2024-07-03）已提醒过，未重复发送" in output
    assert DBTaskResult.objects.ready().count() == 0


@queued_in_database
def test_a_task_run_late_checks_again_what_is_owed(staffed, report):
    remind("2024-07-03")
    for month in ("2024-04", "2024-05", "2024-06"):
        report(staffed, month, state="submitted")  # reported while the worker was down
    run_worker()
    assert mail.outbox == []
    assert DBTaskResult.objects.get().return_value == {"outcome": "nothing_owed"}


def test_a_reminder_superseded_by_a_later_one_is_not_sent(staffed, unit):
    send_reminder.call(unit.pk, "2024-07-04")
    assert send_reminder.call(unit.pk, "2024-07-03") == {"outcome": "already_sent"}
    assert send_reminder.call(unit.pk, "2024-07-04") == {"outcome": "already_sent"}
    assert len(mail.outbox) == 1


def test_bad_date_is_refused_in_chinese(staffed):
    with pytest.raises(CommandError, match="日期格式应为 YYYY-MM-DD"):
        call_command("send_reminders", "--date", "7月3日")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://ms%40yaohai.gov.cn:p%40ss@mail.example.cn",
            {
                "EMAIL_HOST": "mail.example.cn",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "ms@yaohai.gov.cn",
                "EMAIL_HOST_PASSWORD": "p@ss",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        ("smtps://u:p@mail.example.cn", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
        ("smtp+plain://127.0.0.1:25", {"EMAIL_USE_TLS": False, "EMAIL_HOST_USER": ""}),
    ],
)
def test_email_url(url, expected):
    settings = email_url.parse(url)
    assert {key: settings[key] for key in expected} == expected


@pytest.mark.parametrize("url", ["http://example.cn", "smtp://", "smtp://host:abc"])
def test_bad_email_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_url.parse(url)
