"""
The reporting concern's background tasks (issue 16), run by `manage.py db_worker`
(docs/deploy.md: 后台任务). Arguments and results are JSON: a task may wait in the queue
table and run in another process, on another app server, or on another day.
"""

import datetime

from django_tasks import task

from livelihood.reporting.reminders import reminder_send


@task()
def send_reminder(unit_id: int, date: str) -> dict:
    """One unit's reminder mail for `date` (YYYY-MM-DD). Safe to run twice or late:
    `reminder_send` checks again what the unit owes and whether it was reminded already."""
    return reminder_send(unit_id=unit_id, today=datetime.date.fromisoformat(date))
