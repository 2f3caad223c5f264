"""django-axes (login throttling) under its Chinese name in the admin's sidebar; its models'
and columns' names come from livelihood/locale (axes ships no Simplified Chinese).

In a module of its own: Django picks an app's configuration automatically only when its
apps.py defines exactly one AppConfig, and livelihood/apps.py must stay that way.
"""

from axes.apps import AppConfig


class AxesConfig(AppConfig):
    verbose_name = "登录锁定"
