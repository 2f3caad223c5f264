import gc

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LivelihoodConfig(AppConfig):
    name = "livelihood"
    verbose_name = "民生实事"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every change residents can see raises the publication version (cached pages).
        from livelihood.accounts import roles, security
        from livelihood.operations import signals

        signals.connect()
        # Every change the progress arithmetic reads marks its plan's stored snapshot to be
        # written again (livelihood/snapshots/build.py).
        from livelihood.snapshots import build as snapshots

        snapshots.connect()
        # Each new version queues the warm-up of every public page (livelihood/public/warmup.py).
        from livelihood.public import warmup

        warmup.connect()
        post_migrate.connect(signals.migrated, sender=self, dispatch_uid="livelihood.migrated")
        # The staff groups and their exact permissions, after every migrate
        # (livelihood/accounts/roles.py).
        post_migrate.connect(roles.migrated, sender=self, dispatch_uid="livelihood.roles")
        # Failed logins, lockouts and refused access go to the 'livelihood.accounts.security' log.
        security.connect()
        # Last of the apps' ready(): what the process has loaded to get here (Django, the apps,
        # their modules) lives as long as the process does. Frozen out of the garbage
        # collector's sight, it is not walked again by every later full collection: a
        # 5,000-row import spent about 0.1 s on such walks (docs/performance.md). gunicorn's
        # workers, forked after this (preload_app), keep sharing those pages with the master
        # instead of copying them when a collection would have touched them.
        gc.freeze()
