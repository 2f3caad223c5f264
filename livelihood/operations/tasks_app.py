"""django-tasks-db (the queue of background tasks) under its Chinese name in the admin's
sidebar; its model's and columns' names come from livelihood/locale (it ships no Simplified
Chinese). The office's view of it is livelihood/operations/admin.py: TaskResultAdmin.

In a module of its own for the reason livelihood/accounts/axes_app.py gives.
"""

from django_tasks_db.apps import TasksAppConfig


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = "后台任务"
