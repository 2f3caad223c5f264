from django.apps import AppConfig


class LivelihoodConfig(AppConfig):
    name = "livelihood"
    verbose_name = "民生实事"
    default_auto_field = "django.db.models.BigAutoField"
