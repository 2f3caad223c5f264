from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LivelihoodConfig(AppConfig):
    name = "livelihood"
    verbose_name = "民生实事"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every change residents can see raises the publication version (cached pages).
        from . import (  # noqa: F401 (admin_publication, admin_voice: register their admins)
            admin_publication,
            admin_voice,
            roles,
            security,
            signals,
        )

        signals.connect()
        post_migrate.connect(signals.migrated, sender=self, dispatch_uid="livelihood.migrated")
        # The staff groups and their exact permissions, after every migrate (livelihood/roles.py).
        post_migrate.connect(roles.migrated, sender=self, dispatch_uid="livelihood.roles")
        # Failed logins, lockouts and refused access go to the 'livelihood.security' log.
        security.connect()
